// JsonValue and parseJson: a small, strict JSON (RFC 8259) reader for the few
// documents the proxy reads itself: JWKS key files at configuration time and
// JWT headers and claims per RPC. It bounds nesting depth, rejects trailing
// bytes, unpaired surrogates and duplicate object members (a duplicate `alg`
// or `exp` must not be read one way here and another way by a backend), and
// never throws.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard {

class JsonValue {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Kind kind() const { return kind_; }
  bool isNull() const { return kind_ == Kind::Null; }
  bool isBool() const { return kind_ == Kind::Bool; }
  bool isNumber() const { return kind_ == Kind::Number; }
  bool isString() const { return kind_ == Kind::String; }
  bool isArray() const { return kind_ == Kind::Array; }
  bool isObject() const { return kind_ == Kind::Object; }

  bool boolean() const { return bool_; }
  double number() const { return number_; }
  const std::string& string() const { return string_; }
  const std::vector<JsonValue>& array() const { return array_; }
  const std::map<std::string, JsonValue, std::less<>>& object() const { return object_; }

  // The member `name` of an object; null when absent or not an object.
  const JsonValue* find(std::string_view name) const;
  // The member `name` when it is a string.
  const std::string* findString(std::string_view name) const;

  static JsonValue makeNull() { return JsonValue(); }
  static JsonValue makeBool(bool b);
  static JsonValue makeNumber(double d);
  static JsonValue makeString(std::string s);
  static JsonValue makeArray(std::vector<JsonValue> items);
  static JsonValue makeObject(std::map<std::string, JsonValue, std::less<>> members);

 private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> array_;
  std::map<std::string, JsonValue, std::less<>> object_;
};

struct JsonParseError {
  size_t offset = 0;  // byte offset of the problem
  std::string what;
};

inline constexpr int kMaxJsonDepth = 32;

// The document `text` (one value, optional surrounding whitespace), or nullopt
// with *error set.
std::optional<JsonValue> parseJson(std::string_view text, JsonParseError* error = nullptr);

}  // namespace switchyard
