// The HTTP/1.1 request parser wrapper (src/http1/request_parser.*) and the
// response writer: split and partial input, chunked bodies, pipelining,
// keep-alive rules, limits.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http1/request_parser.h"
#include "http1/response_writer.h"

namespace {

using switchyard::http1::BodyFraming;
using switchyard::http1::ParseError;
using switchyard::http1::RequestHead;
using switchyard::http1::RequestLimits;
using switchyard::http1::RequestParser;

struct Recorder : RequestParser::Events {
  std::vector<RequestHead> heads;
  std::vector<std::string> bodies;
  int completed = 0;
  void onRequestHead(RequestHead&& head) override {
    heads.push_back(std::move(head));
    bodies.emplace_back();
  }
  void onRequestBody(const uint8_t* data, size_t len) override {
    bodies.back().append(reinterpret_cast<const char*>(data), len);
  }
  void onRequestComplete() override { ++completed; }
};

// Feeds `input` in pieces of `step` bytes, resuming after each request;
// returns the bytes taken.
size_t FeedAll(RequestParser& p, const std::string& input, size_t step) {
  size_t pos = 0;
  for (int guard = 0; pos < input.size() && guard < 100000; ++guard) {
    if (p.paused()) p.resume();
    size_t len = std::min(step, input.size() - pos);
    size_t used = p.feed(reinterpret_cast<const uint8_t*>(input.data() + pos), len);
    pos += used;
    if (p.error() != ParseError::None) break;
    if (used == 0 && !p.paused()) break;
  }
  return pos;
}

TEST(Http1Parser, ParsesAHeadWithLowerCasedNames) {
  Recorder r;
  RequestParser p(RequestLimits{}, r);
  std::string req =
      "POST /pkg.Svc/M HTTP/1.1\r\nHost: a.example\r\nContent-Type: application/grpc-web\r\n"
      "X-Custom: One\r\nContent-Length: 3\r\n\r\nabc";
  EXPECT_EQ(FeedAll(p, req, req.size()), req.size());
  ASSERT_EQ(r.heads.size(), 1u);
  const RequestHead& h = r.heads[0];
  EXPECT_EQ(h.method, "POST");
  EXPECT_EQ(h.target, "/pkg.Svc/M");
  EXPECT_EQ(h.get("host"), "a.example");
  EXPECT_EQ(h.get("x-custom"), "One");
  EXPECT_TRUE(h.keep_alive);
  EXPECT_TRUE(h.has_body);
  EXPECT_FALSE(h.chunked);
  EXPECT_EQ(h.content_length, 3u);
  EXPECT_EQ(r.bodies[0], "abc");
  EXPECT_EQ(r.completed, 1);
  EXPECT_TRUE(p.paused());
  EXPECT_FALSE(p.inRequest());
}

TEST(Http1Parser, ByteByByteGivesTheSameRequest) {
  Recorder r;
  RequestParser p(RequestLimits{}, r);
  std::string req =
      "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n";
  EXPECT_EQ(FeedAll(p, req, 1), req.size());
  ASSERT_EQ(r.heads.size(), 1u);
  EXPECT_TRUE(r.heads[0].chunked);
  EXPECT_EQ(r.bodies[0], "abcdefgh");
  EXPECT_EQ(r.completed, 1);
}

TEST(Http1Parser, PausesAfterEachPipelinedRequest) {
  Recorder r;
  RequestParser p(RequestLimits{}, r);
  std::string one = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string two = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string both = one + two;
  size_t used = p.feed(reinterpret_cast<const uint8_t*>(both.data()), both.size());
  EXPECT_EQ(used, one.size());  // the second waits
  EXPECT_TRUE(p.paused());
  ASSERT_EQ(r.heads.size(), 1u);
  EXPECT_EQ(p.feed(reinterpret_cast<const uint8_t*>(both.data() + used), both.size() - used), 0u);
  p.resume();
  EXPECT_EQ(p.feed(reinterpret_cast<const uint8_t*>(both.data() + used), both.size() - used),
            two.size());
  ASSERT_EQ(r.heads.size(), 2u);
  EXPECT_EQ(r.heads[1].target, "/b");
  EXPECT_FALSE(r.heads[1].has_body);
}

TEST(Http1Parser, KeepAliveFollowsVersionAndConnection) {
  struct Case {
    const char* req;
    bool keep;
  } cases[] = {
      {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
  };
  for (const auto& c : cases) {
    Recorder r;
    RequestParser p(RequestLimits{}, r);
    std::string req = c.req;
    FeedAll(p, req, req.size());
    ASSERT_EQ(r.heads.size(), 1u) << c.req;
    EXPECT_EQ(r.heads[0].keep_alive, c.keep) << c.req;
  }
}

TEST(Http1Parser, SeesExpectContinue) {
  Recorder r;
  RequestParser p(RequestLimits{}, r);
  std::string req = "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n";
  FeedAll(p, req, req.size());
  ASSERT_EQ(r.heads.size(), 1u);
  EXPECT_TRUE(r.heads[0].expect_continue);
  EXPECT_TRUE(p.inRequest());  // the body has not come
}

TEST(Http1Parser, MalformedInputIsAnError) {
  for (const char* bad : {"NOT HTTP AT ALL\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                          "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    Recorder r;
    RequestParser p(RequestLimits{}, r);
    FeedAll(p, bad, 1000);
    EXPECT_EQ(p.error(), ParseError::Malformed) << bad;
    EXPECT_NE(p.errorText().find("malformed"), std::string::npos);
  }
}

TEST(Http1Parser, HeaderBytesOverTheLimit) {
  RequestLimits limits;
  limits.max_header_bytes = 200;
  Recorder r;
  RequestParser p(limits, r);
  std::string req = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(300, 'a') + "\r\n\r\n";
  FeedAll(p, req, 7);
  EXPECT_EQ(p.error(), ParseError::HeadersTooLarge);
  EXPECT_TRUE(r.heads.empty());
}

TEST(Http1Parser, HeaderFieldsOverTheLimit) {
  RequestLimits limits;
  limits.max_header_fields = 3;
  Recorder r;
  RequestParser p(limits, r);
  std::string req = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  FeedAll(p, req, req.size());
  EXPECT_EQ(p.error(), ParseError::None);
  std::string more = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
  Recorder r2;
  RequestParser p2(limits, r2);
  FeedAll(p2, more, more.size());
  EXPECT_EQ(p2.error(), ParseError::TooManyFields);
}

TEST(Http1Parser, DeclaredBodyOverTheLimitIsRefusedBeforeItsBytes) {
  RequestLimits limits;
  limits.max_body_bytes = 10;
  Recorder r;
  RequestParser p(limits, r);
  std::string req = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n";
  FeedAll(p, req, req.size());
  EXPECT_EQ(p.error(), ParseError::BodyTooLarge);
  EXPECT_TRUE(r.heads.empty());
}

TEST(Http1Parser, ChunkedBodyOverTheLimit) {
  RequestLimits limits;
  limits.max_body_bytes = 10;
  Recorder r;
  RequestParser p(limits, r);
  std::string req =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n";
  FeedAll(p, req, 3);
  EXPECT_EQ(p.error(), ParseError::BodyTooLarge);
  EXPECT_EQ(r.completed, 0);
  EXPECT_LE(r.bodies.at(0).size(), 10u);
}

TEST(Http1Parser, EofInsideARequestIsMalformed) {
  Recorder r;
  RequestParser p(RequestLimits{}, r);
  std::string req = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab";
  FeedAll(p, req, req.size());
  EXPECT_TRUE(p.inRequest());
  p.finish();
  EXPECT_EQ(p.error(), ParseError::Malformed);
}

TEST(Http1Writer, HeadWithChunkedFramingAndClose) {
  std::string out;
  switchyard::http1::appendHead(out, 200,
                                {{":status", "200"},
                                 {"content-type", "application/grpc-web"},
                                 {"transfer-encoding", "x"},
                                 {"connection", "y"}},
                                BodyFraming::Chunked, true);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\ncontent-type: application/grpc-web\r\n"
            "transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
}

TEST(Http1Writer, EmptyResponseSaysContentLengthZero) {
  std::string out;
  switchyard::http1::appendHead(out, 415, {{"content-type", "text/plain"}}, BodyFraming::None, false);
  EXPECT_EQ(out, "HTTP/1.1 415 Unsupported Media Type\r\ncontent-type: text/plain\r\ncontent-length: 0\r\n\r\n");
}

TEST(Http1Writer, ChunksAndTrailers) {
  std::string out;
  switchyard::http1::appendChunkHeader(out, 26);
  EXPECT_EQ(out, "1a\r\n");
  out.clear();
  switchyard::http1::appendLastChunk(out, {{"grpc-status", "0"}});
  EXPECT_EQ(out, "0\r\ngrpc-status: 0\r\n\r\n");
}

TEST(Http1Writer, TextResponseIsWhole) {
  std::string out = switchyard::http1::textResponse(431, "too big\n", true);
  EXPECT_EQ(out,
            "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; "
            "charset=utf-8\r\ncontent-length: 8\r\nconnection: close\r\n\r\ntoo big\n");
}

}  // namespace

// ---- the owned storage of HeaderList (HTTP/1.1 fields) and the sniffer
#include "http2/headers.h"
#include "server/protocol_sniffer.h"

namespace {

TEST(HeaderListOwned, OwnedFieldsAreFoundMovedAndRemoved) {
  switchyard::http2::HeaderList list;
  {
    std::string name = ":path";
    std::string value = "/a/b";
    list.addOwned(name, value);
    name.assign("xxxxx");  // the list keeps its own copy
    value.assign("yyyy");
  }
  list.addOwned("content-type", "application/json");
  EXPECT_EQ(list.get(":path"), "/a/b");
  EXPECT_EQ(list.hpackBytes(), (5 + 4 + 32) + (12 + 16 + 32u));
  switchyard::http2::HeaderList moved(std::move(list));
  EXPECT_EQ(moved.get("content-type"), "application/json");
  moved.remove(":path");
  EXPECT_FALSE(moved.has(":path"));
  EXPECT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved.fields()[0].name, "content-type");
}

TEST(ProtocolSniff, PrefaceIsHttp2AndRequestLinesAreHttp1) {
  using switchyard::server::SniffedProtocol;
  using switchyard::server::sniffProtocol;
  EXPECT_EQ(sniffProtocol("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), SniffedProtocol::Http2);
  EXPECT_EQ(sniffProtocol("PRI "), SniffedProtocol::Http2);
  EXPECT_EQ(sniffProtocol("POST /x HTTP/1.1\r\n"), SniffedProtocol::Http1);
  EXPECT_EQ(sniffProtocol("PUT"), SniffedProtocol::Http1);
  EXPECT_EQ(sniffProtocol("GET / HTTP/1.1"), SniffedProtocol::Http1);
  EXPECT_EQ(sniffProtocol("\x16\x03\x01"), SniffedProtocol::Http1);  // TLS to a cleartext port
  EXPECT_EQ(sniffProtocol("P"), std::nullopt);
  EXPECT_EQ(sniffProtocol("PRI"), std::nullopt);
}

}  // namespace
