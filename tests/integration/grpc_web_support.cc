#include "grpc_web_support.h"

#include <sstream>

namespace sytest {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

std::string WebFrame(const std::string& message) {
  std::string f(5, '\0');
  uint32_t n = static_cast<uint32_t>(message.size());
  f[1] = static_cast<char>(n >> 24);
  f[2] = static_cast<char>(n >> 16);
  f[3] = static_cast<char>(n >> 8);
  f[4] = static_cast<char>(n);
  return f + message;
}

std::string Base64(const std::string& bytes) {
  std::string out;
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint8_t>(bytes[k]); };
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kB64[(v >> s) & 63]);
  }
  if (i + 1 == bytes.size()) {
    uint32_t v = at(i) << 16;
    out += {kB64[(v >> 18) & 63], kB64[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    uint32_t v = (at(i) << 16) | (at(i + 1) << 8);
    out += {kB64[(v >> 18) & 63], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], '='};
  }
  return out;
}

std::optional<std::string> Unbase64(const std::string& text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[i + k];
      const char* p = c == '=' ? nullptr : std::strchr(kB64, c);
      if (c == '=') {
        pad++;
        v <<= 6;
        continue;
      }
      if (p == nullptr || c == '\0' || pad > 0) return std::nullopt;
      v = (v << 6) | static_cast<uint32_t>(p - kB64);
    }
    if (pad > 2) return std::nullopt;
    out.push_back(static_cast<char>(v >> 16));
    if (pad < 2) out.push_back(static_cast<char>(v >> 8));
    if (pad < 1) out.push_back(static_cast<char>(v));
  }
  return out;
}

void ParseWebBody(const std::string& body, WebResponse* out) {
  size_t pos = 0;
  while (pos < body.size()) {
    if (out->has_trailer_frame) {
      out->error = "bytes after the trailer frame";
      return;
    }
    if (body.size() - pos < 5) {
      out->error = "truncated frame prefix";
      return;
    }
    uint8_t flag = static_cast<uint8_t>(body[pos]);
    uint32_t len = (static_cast<uint8_t>(body[pos + 1]) << 24) | (static_cast<uint8_t>(body[pos + 2]) << 16) |
                   (static_cast<uint8_t>(body[pos + 3]) << 8) | static_cast<uint8_t>(body[pos + 4]);
    if (body.size() - pos - 5 < len) {
      out->error = "truncated frame";
      return;
    }
    std::string payload = body.substr(pos + 5, len);
    pos += 5 + len;
    if (flag == 0) {
      out->messages.push_back(payload);
    } else if (flag == 0x80) {
      out->has_trailer_frame = true;
      std::istringstream lines(payload);
      std::string line;
      while (std::getline(lines, line)) {
        line = Trim(line);
        if (line.empty()) continue;
        size_t colon = line.find(':');
        if (colon == std::string::npos) {
          out->error = "trailer line without ':'";
          return;
        }
        out->trailers[Lower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
      }
    } else {
      out->error = "unexpected frame flag " + std::to_string(flag);
      return;
    }
  }
}

WebResponse RunCurl(const CurlRequest& request, const TempDir& dir) {
  static int seq = 0;
  std::string tag = std::to_string(++seq);
  auto body_in = dir / ("curl-req-" + tag);
  auto body_out = dir / ("curl-resp-" + tag);
  auto headers_out = dir / ("curl-headers-" + tag);
  WriteFile(body_in, request.body);
  std::vector<std::string> argv = {"curl", "-sS", "--max-time", "20", "-X", request.method,
                                   "-o", body_out.string(), "-D", headers_out.string(),
                                   "-w", "%{http_code}"};
  if (request.http2) {
    argv.push_back(request.url.rfind("https", 0) == 0 ? "--http2" : "--http2-prior-knowledge");
  } else {
    argv.push_back("--http1.1");
  }
  for (const auto& h : request.headers) {
    argv.push_back("-H");
    argv.push_back(h);
  }
  if (request.send_body && request.method != "OPTIONS" && request.method != "GET") {
    argv.push_back("--data-binary");
    argv.push_back("@" + body_in.string());
  }
  for (const auto& a : request.extra_args) argv.push_back(a);
  argv.push_back(request.url);
  CommandResult r = RunCommand(argv, dir.path(), 30000ms);
  WebResponse out;
  out.curl_err = r.err;
  out.http_status = std::atoi(Trim(r.out).c_str());
  std::istringstream hs(ReadFile(headers_out));
  std::string line;
  while (std::getline(hs, line)) {
    line = Trim(line);
    size_t colon = line.find(':');
    if (line.empty() || line.rfind("HTTP/", 0) == 0 || colon == std::string::npos) continue;
    out.headers[Lower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  }
  out.body = std::filesystem::exists(body_out) ? ReadFile(body_out) : "";
  if (request.text) {
    auto decoded = Unbase64(out.body);
    if (!decoded) {
      out.error = "response body is not base64";
      return out;
    }
    ParseWebBody(*decoded, &out);
  } else {
    ParseWebBody(out.body, &out);
  }
  return out;
}

}  // namespace sytest
