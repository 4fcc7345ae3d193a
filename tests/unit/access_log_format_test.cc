// Access-log line formats: the text shape, JSON one object per line, and the
// escaping of every field a client or backend controls.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "proxy/access_log_format.h"

namespace switchyard::proxy {
namespace {

AccessRecord Sample() {
  AccessRecord r;
  r.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  r.client = "10.0.0.7";
  r.authority = "api.example.com";
  r.path = "/pkg.Svc/Method";
  r.listener = "public";
  r.cluster = "greeter";
  r.endpoint = "10.0.1.2:50051";
  r.http_status = 200;
  r.grpc_status = 0;
  r.duration_ms = 1.2345;
  r.upstream_ms = 1.1;
  r.bytes_in = 17;
  r.bytes_out = 21;
  r.msgs_in = 1;
  r.msgs_out = 1;
  r.user_agent = "grpc-c++/1.51.1";
  r.request_id = "3b241101-e2bb-4255-8caf-4136c566a962";
  r.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  r.attempts = 1;
  return r;
}

std::string Text(const AccessRecord& r) {
  std::string out;
  formatAccessLine(r, AccessLogFormat::Text, out);
  return out;
}

std::string Json(const AccessRecord& r) {
  std::string out;
  formatAccessLine(r, AccessLogFormat::Json, out);
  return out;
}

TEST(AccessLogFormat, TextKeepsTheHistoricalShapeAndAddsFields) {
  std::string line = Text(Sample());
  std::regex shape(
      "^\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.123\\] 10\\.0\\.0\\.7 \"/pkg\\.Svc/Method\" "
      "listener=public cluster=greeter endpoint=10\\.0\\.1\\.2:50051 grpc_status=0 "
      "duration_ms=1\\.23[45] bytes_in=17 bytes_out=21 msgs_in=1 msgs_out=1 http_status=200 "
      "upstream_ms=1\\.100 attempts=1 authority=\"api\\.example\\.com\" "
      "user_agent=\"grpc-c\\+\\+/1\\.51\\.1\" request_id=\"3b241101-e2bb-4255-8caf-4136c566a962\" "
      "traceparent=\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\" grpc_message=\"\" "
      "client_identity=\"\" subject=\"\"\n$");
  EXPECT_TRUE(std::regex_match(line, shape)) << line;
}

TEST(AccessLogFormat, TextMarksAbsentValues) {
  AccessRecord r = Sample();
  r.cluster = "";
  r.endpoint = "";
  r.grpc_status = -1;
  r.upstream_ms = -1;
  std::string line = Text(r);
  EXPECT_NE(line.find(" cluster=- endpoint=- grpc_status=- "), std::string::npos) << line;
  EXPECT_NE(line.find(" upstream_ms=- "), std::string::npos) << line;
}

TEST(AccessLogFormat, TextEscapesQuotesControlBytesAndSpaces) {
  AccessRecord r = Sample();
  r.path = "/a\"b\\c\nd\x01\xff";
  r.user_agent = "evil\" injected=\"1";
  r.listener = "with space";
  r.grpc_message = "line1\r\nline2";
  std::string line = Text(r);
  EXPECT_NE(line.find("\"/a\\\"b\\\\c\\x0ad\\x01\\xff\""), std::string::npos) << line;
  EXPECT_NE(line.find("user_agent=\"evil\\\" injected=\\\"1\""), std::string::npos) << line;
  EXPECT_NE(line.find("listener=with\\x20space "), std::string::npos) << line;
  EXPECT_NE(line.find("grpc_message=\"line1\\x0d\\x0aline2\""), std::string::npos) << line;
  // Exactly one line.
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
}

// The escaper checks 8 bytes at a time: every special byte at every position
// of a word must still be found.
std::string ReferenceEscape(const std::string& in, bool quoted) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : in) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f || (!quoted && c == ' ')) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Lengths cover each way a field is checked and copied: byte by byte (< 4),
// two overlapping 4- or 8-byte words (4-15), 16-byte chunks with an
// overlapping tail (>= 16).
TEST(AccessLogFormat, EveryUnsafeByteAtEveryPositionIsEscaped) {
  for (unsigned char special : {0x00, 0x01, 0x1f, 0x20, 0x21, 0x22, 0x5c, 0x7e, 0x7f, 0x80, 0xc3, 0xff}) {
    for (size_t len : {1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u, 12u, 15u, 16u, 17u, 19u, 31u, 33u, 40u})
    for (size_t pos = 0; pos < len; ++pos) {
      std::string field(len, 'a');
      field[pos] = static_cast<char>(special);
      AccessRecord r = Sample();
      r.grpc_message = field;
      r.listener = field;
      std::string line = Text(r);
      EXPECT_NE(line.find(" grpc_message=\"" + ReferenceEscape(field, true) + "\""), std::string::npos)
          << "byte " << int(special) << " at " << pos << ": " << line;
      EXPECT_NE(line.find(" listener=" + ReferenceEscape(field, false) + " "), std::string::npos)
          << "byte " << int(special) << " at " << pos << ": " << line;
    }
  }
}

TEST(AccessLogFormat, LongMessagesAreCut) {
  AccessRecord r = Sample();
  std::string msg(5000, 'm');
  r.grpc_message = msg;
  std::string path(5000, 'p');
  r.path = path;
  std::string line = Text(r);
  EXPECT_NE(line.find("grpc_message=\"" + std::string(kAccessLogMaxMessage, 'm') + "...\""),
            std::string::npos);
  EXPECT_LT(line.size(), 2000u);
  std::string json = Json(r);
  EXPECT_NE(json.find("\"grpc_message\":\"" + std::string(kAccessLogMaxMessage, 'm') + "...\""),
            std::string::npos);
}

// The worst case for the line's size: every field long and made of bytes
// that each take the longest escape.
TEST(AccessLogFormat, WorstCaseLinesAreBoundedAndComplete) {
  std::string nasty(5000, '\x01');
  AccessRecord r = Sample();
  for (std::string_view* f : {&r.client, &r.authority, &r.path, &r.listener, &r.cluster, &r.endpoint,
                              &r.grpc_message, &r.user_agent, &r.request_id, &r.traceparent,
                              &r.client_identity, &r.subject}) {
    *f = nasty;
  }
  std::string text = Text(r);
  std::string json = Json(r);
  EXPECT_EQ(text.find('\n'), text.size() - 1);
  EXPECT_EQ(json.find('\n'), json.size() - 1);
  EXPECT_LT(text.size(), 12u * 512 * 4 + 256 * 4 + 1024);
  EXPECT_LT(json.size(), 12u * 512 * 6 + 256 * 6 + 1024);
  EXPECT_NE(json.find("\"attempts\":1,"), std::string::npos);
  EXPECT_EQ(json.substr(json.size() - 2), "}\n");
}

TEST(AccessLogFormat, JsonIsOneObjectPerLineWithEveryField) {
  std::string line = Json(Sample());
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(line.rfind("{\"time\":\"2023-11-14T22:13:20.123Z\",", 0), 0u) << line;
  for (const char* want :
       {"\"client\":\"10.0.0.7\"", "\"authority\":\"api.example.com\"", "\"path\":\"/pkg.Svc/Method\"",
        "\"listener\":\"public\"", "\"cluster\":\"greeter\"", "\"endpoint\":\"10.0.1.2:50051\"",
        "\"http_status\":200", "\"grpc_status\":0", "\"grpc_message\":null", "\"upstream_ms\":1.100",
        "\"bytes_in\":17", "\"bytes_out\":21", "\"msgs_in\":1", "\"msgs_out\":1",
        "\"user_agent\":\"grpc-c++/1.51.1\"", "\"request_id\":\"3b241101-e2bb-4255-8caf-4136c566a962\"",
        "\"traceparent\":\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\"",
        "\"attempts\":1", "\"client_identity\":null", "\"subject\":null}"}) {
    EXPECT_NE(line.find(want), std::string::npos) << want << " in " << line;
  }
}

// The verified client certificate's identity closes both formats; a client
// controls its certificate's names, so they are escaped like any other field.
TEST(AccessLogFormat, ClientIdentityIsLoggedAndEscaped) {
  AccessRecord r = Sample();
  r.client_identity = "spiffe://prod/ns/billing/sa/api";
  std::string text = Text(r);
  EXPECT_NE(text.find(" client_identity=\"spiffe://prod/ns/billing/sa/api\" subject=\"\"\n"), std::string::npos)
      << text;
  std::string json = Json(r);
  EXPECT_NE(json.find(",\"client_identity\":\"spiffe://prod/ns/billing/sa/api\",\"subject\":null}\n"),
            std::string::npos)
      << json;
  r.client_identity = "CN=evil\" x=\"1\n";
  text = Text(r);
  EXPECT_NE(text.find(" client_identity=\"CN=evil\\\" x=\\\"1\\x0a\" "), std::string::npos) << text;
  json = Json(r);
  EXPECT_NE(json.find("\"client_identity\":\"CN=evil\\\" x=\\\"1\\n\","), std::string::npos) << json;
}

// The authenticated subject (a JWT `sub`) ends both formats. The token is
// verified, but its issuer chose the string, so it is escaped like the rest.
TEST(AccessLogFormat, SubjectIsLoggedAndEscaped) {
  AccessRecord r = Sample();
  r.subject = "alice@example.com";
  std::string text = Text(r);
  EXPECT_NE(text.find(" client_identity=\"\" subject=\"alice@example.com\"\n"), std::string::npos) << text;
  std::string json = Json(r);
  EXPECT_NE(json.find(",\"client_identity\":null,\"subject\":\"alice@example.com\"}\n"), std::string::npos)
      << json;
  r.subject = "bob\" admin=\"1\n\x01 \xff";
  text = Text(r);
  EXPECT_NE(text.find(" subject=\"bob\\\" admin=\\\"1\\x0a\\x01 \\xff\"\n"), std::string::npos) << text;
  EXPECT_EQ(text.find('\n'), text.size() - 1);
  json = Json(r);
  EXPECT_NE(json.find(",\"subject\":\"bob\\\" admin=\\\"1\\n\\u0001 \\u00ff\"}\n"), std::string::npos) << json;
  EXPECT_EQ(json.find('\n'), json.size() - 1);
}

TEST(AccessLogFormat, JsonEscapesStringsAndInvalidUtf8) {
  AccessRecord r = Sample();
  r.path = "/a\"b\\c\n\x01";
  r.user_agent = "caf\xc3\xa9 \xff\xfe";
  r.cluster = "";
  r.grpc_status = -1;
  std::string line = Json(r);
  EXPECT_NE(line.find("\"path\":\"/a\\\"b\\\\c\\n\\u0001\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"user_agent\":\"caf\xc3\xa9 \\u00ff\\u00fe\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"cluster\":null"), std::string::npos) << line;
  EXPECT_NE(line.find("\"grpc_status\":null"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(AccessLogFormat, ParsesFormatNames) {
  AccessLogFormat f = AccessLogFormat::Text;
  EXPECT_TRUE(parseAccessLogFormat("json", &f));
  EXPECT_EQ(f, AccessLogFormat::Json);
  EXPECT_TRUE(parseAccessLogFormat("text", &f));
  EXPECT_EQ(f, AccessLogFormat::Text);
  EXPECT_FALSE(parseAccessLogFormat("xml", &f));
}

}  // namespace
}  // namespace switchyard::proxy
