#include "common/json_value.h"

#include <cmath>
#include <cstdlib>

namespace switchyard {

const JsonValue* JsonValue::find(std::string_view name) const {
  if (kind_ != Kind::Object) return nullptr;
  auto it = object_.find(name);
  return it == object_.end() ? nullptr : &it->second;
}

const std::string* JsonValue::findString(std::string_view name) const {
  const JsonValue* v = find(name);
  return v != nullptr && v->isString() ? &v->string_ : nullptr;
}

JsonValue JsonValue::makeBool(bool b) {
  JsonValue v;
  v.kind_ = Kind::Bool;
  v.bool_ = b;
  return v;
}
JsonValue JsonValue::makeNumber(double d) {
  JsonValue v;
  v.kind_ = Kind::Number;
  v.number_ = d;
  return v;
}
JsonValue JsonValue::makeString(std::string s) {
  JsonValue v;
  v.kind_ = Kind::String;
  v.string_ = std::move(s);
  return v;
}
JsonValue JsonValue::makeArray(std::vector<JsonValue> items) {
  JsonValue v;
  v.kind_ = Kind::Array;
  v.array_ = std::move(items);
  return v;
}
JsonValue JsonValue::makeObject(std::map<std::string, JsonValue, std::less<>> members) {
  JsonValue v;
  v.kind_ = Kind::Object;
  v.object_ = std::move(members);
  return v;
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  std::optional<JsonValue> document(JsonParseError* error) {
    auto v = value(0);
    if (v) {
      skipSpace();
      if (pos_ != s_.size()) {
        v.reset();
        fail("unexpected data after the JSON value");
      }
    }
    if (!v && error != nullptr) *error = JsonParseError{err_pos_, err_};
    return v;
  }

 private:
  std::optional<JsonValue> fail(const char* what) {
    if (err_.empty()) {
      err_ = what;
      err_pos_ = pos_;
    }
    return std::nullopt;
  }

  void skipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  std::optional<JsonValue> value(int depth) {
    if (depth > kMaxJsonDepth) return fail("JSON nested too deeply");
    skipSpace();
    if (pos_ >= s_.size()) return fail("unexpected end of JSON");
    char c = s_[pos_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      auto str = string();
      if (!str) return std::nullopt;
      return JsonValue::makeString(std::move(*str));
    }
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    if (literal("true")) return JsonValue::makeBool(true);
    if (literal("false")) return JsonValue::makeBool(false);
    if (literal("null")) return JsonValue::makeNull();
    return fail("unexpected character in JSON");
  }

  std::optional<JsonValue> object(int depth) {
    ++pos_;  // '{'
    std::map<std::string, JsonValue, std::less<>> members;
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return JsonValue::makeObject(std::move(members));
    }
    for (;;) {
      skipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a member name in JSON object");
      size_t name_at = pos_;
      auto name = string();
      if (!name) return std::nullopt;
      skipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':' in JSON object");
      ++pos_;
      auto v = value(depth + 1);
      if (!v) return std::nullopt;
      if (!members.emplace(std::move(*name), std::move(*v)).second) {
        pos_ = name_at;
        return fail("duplicate member name in JSON object");
      }
      skipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return JsonValue::makeObject(std::move(members));
      }
      return fail("expected ',' or '}' in JSON object");
    }
  }

  std::optional<JsonValue> array(int depth) {
    ++pos_;  // '['
    std::vector<JsonValue> items;
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return JsonValue::makeArray(std::move(items));
    }
    for (;;) {
      auto v = value(depth + 1);
      if (!v) return std::nullopt;
      items.push_back(std::move(*v));
      skipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return JsonValue::makeArray(std::move(items));
      }
      return fail("expected ',' or ']' in JSON array");
    }
  }

  std::optional<JsonValue> number() {
    size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    auto digits = [&] {
      size_t from = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    size_t int_start = pos_;
    size_t n = digits();
    if (n == 0) return fail("malformed JSON number");
    if (n > 1 && s_[int_start] == '0') return fail("JSON number with a leading zero");
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) return fail("malformed JSON number");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) return fail("malformed JSON number");
    }
    std::string text(s_.substr(start, pos_ - start));
    double d = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(d)) return fail("JSON number out of range");
    return JsonValue::makeNumber(d);
  }

  static void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::optional<uint32_t> hex4() {
    if (s_.size() - pos_ < 4) return std::nullopt;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else return std::nullopt;
    }
    return v;
  }

  std::optional<std::string> string() {
    ++pos_;  // '"'
    std::string out;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        fail("control character in JSON string");
        return std::nullopt;
      }
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= s_.size()) break;
      char e = s_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          auto cp = hex4();
          if (!cp) {
            fail("malformed \\u escape in JSON string");
            return std::nullopt;
          }
          if (*cp >= 0xD800 && *cp <= 0xDBFF) {
            if (s_.substr(pos_, 2) != "\\u") {
              fail("unpaired surrogate in JSON string");
              return std::nullopt;
            }
            pos_ += 2;
            auto lo = hex4();
            if (!lo || *lo < 0xDC00 || *lo > 0xDFFF) {
              fail("unpaired surrogate in JSON string");
              return std::nullopt;
            }
            *cp = 0x10000 + ((*cp - 0xD800) << 10) + (*lo - 0xDC00);
          } else if (*cp >= 0xDC00 && *cp <= 0xDFFF) {
            fail("unpaired surrogate in JSON string");
            return std::nullopt;
          }
          appendUtf8(out, *cp);
          break;
        }
        default:
          fail("unknown escape in JSON string");
          return std::nullopt;
      }
    }
    fail("unterminated JSON string");
    return std::nullopt;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string err_;
  size_t err_pos_ = 0;
};

}  // namespace

std::optional<JsonValue> parseJson(std::string_view text, JsonParseError* error) {
  return Parser(text).document(error);
}

}  // namespace switchyard
