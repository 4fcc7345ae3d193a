// JsonWriter: a small streaming JSON writer for the admin endpoints (/clusters,
// /config). It inserts commas itself and escapes every string, so output is
// always valid JSON as long as begin/end calls are balanced and every object
// member is written as key() followed by one value.
//
//   JsonWriter w;
//   w.beginObject().key("name").value("greeter").key("endpoints").beginArray();
//   w.value("10.0.0.1:50051").endArray().endObject();
//   std::string body = w.take();
//
// Strings are taken as UTF-8. Invalid UTF-8 bytes become U+FFFD, control
// characters are \u-escaped, and U+2028/U+2029 are escaped too so the output is
// also safe to embed in JavaScript. Non-finite doubles are written as null.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard {

// Appends `text` as a quoted, escaped JSON string.
void appendJsonString(std::string& out, std::string_view text);
// `text` as a quoted, escaped JSON string.
std::string jsonQuote(std::string_view text);

class JsonWriter {
 public:
  // indent > 0 pretty-prints with that many spaces per level.
  explicit JsonWriter(int indent = 0) : indent_(indent) {}

  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  // Member name inside an object; the next call writes its value.
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b);
  JsonWriter& value(int v) { return writeSigned(v); }
  JsonWriter& value(long v) { return writeSigned(v); }
  JsonWriter& value(long long v) { return writeSigned(v); }
  JsonWriter& value(unsigned v) { return writeUnsigned(v); }
  JsonWriter& value(unsigned long v) { return writeUnsigned(v); }
  JsonWriter& value(unsigned long long v) { return writeUnsigned(v); }
  JsonWriter& value(double v);
  JsonWriter& null();
  // Inserts already-serialized JSON as one value; the caller vouches for it.
  JsonWriter& raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  JsonWriter& writeSigned(long long v);
  JsonWriter& writeUnsigned(unsigned long long v);
  // Called before every value or key: writes the separator and indentation.
  void separate();
  void newline();
  JsonWriter& close(char c);

  struct Level {
    bool first = true;
  };
  std::string out_;
  std::vector<Level> stack_;
  bool after_key_ = false;
  int indent_;
};

}  // namespace switchyard
