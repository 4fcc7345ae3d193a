#include "http1/response_writer.h"

#include <cstdio>

namespace switchyard::http1 {

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

bool isFramingOrHopField(std::string_view name) {
  return (!name.empty() && name[0] == ':') || name == "connection" || name == "keep-alive" ||
         name == "proxy-connection" || name == "transfer-encoding" || name == "upgrade" ||
         name == "te" || name == "trailer";
}

void appendHead(std::string& out, int status, const Fields& fields, BodyFraming framing,
                bool close, bool keep_alive_header) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reasonPhrase(status);
  out += "\r\n";
  bool has_length = false;
  for (const auto& [name, value] : fields) {
    if (isFramingOrHopField(name)) continue;
    if (name == "content-length") {
      if (framing != BodyFraming::ContentLength && framing != BodyFraming::None) continue;
      has_length = true;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (framing == BodyFraming::None && !has_length) out += "content-length: 0\r\n";
  if (framing == BodyFraming::Chunked) out += "transfer-encoding: chunked\r\n";
  if (close) {
    out += "connection: close\r\n";
  } else if (keep_alive_header) {
    out += "connection: keep-alive\r\n";
  }
  out += "\r\n";
}

void appendChunkHeader(std::string& out, size_t n) {
  char buf[24];
  int len = std::snprintf(buf, sizeof buf, "%zx\r\n", n);
  out.append(buf, static_cast<size_t>(len));
}

void appendLastChunk(std::string& out, const Fields& trailers) {
  out += "0\r\n";
  for (const auto& [name, value] : trailers) {
    if (isFramingOrHopField(name) || name == "content-length") continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
}

std::string textResponse(int status, std::string_view body, bool close, const Fields& extra) {
  std::string length = std::to_string(body.size());
  Fields fields = extra;
  fields.emplace_back("content-type", "text/plain; charset=utf-8");
  fields.emplace_back("content-length", length);
  std::string out;
  appendHead(out, status, fields, BodyFraming::ContentLength, close);
  out += body;
  return out;
}

}  // namespace switchyard::http1
