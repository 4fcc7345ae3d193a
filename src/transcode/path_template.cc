#include "transcode/path_template.h"

namespace switchyard::transcode {
namespace {

bool identChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool literalChar(char c) {
  // RFC 3986 pchar without the characters the template syntax uses.
  return c != '/' && c != '{' && c != '}' && c != '*' && c != '=' && c != ':' && c != '?' &&
         c != '#' && static_cast<unsigned char>(c) > 0x20 && c != 0x7f;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A recursive-descent parser over the template text.
class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}

  bool atEnd() const { return pos_ >= t_.size(); }
  char peek() const { return atEnd() ? '\0' : t_[pos_]; }
  bool take(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  std::string_view literal() {
    size_t start = pos_;
    while (!atEnd() && literalChar(t_[pos_])) ++pos_;
    return t_.substr(start, pos_ - start);
  }
  std::string_view fieldPath() {
    size_t start = pos_;
    while (!atEnd() && (identChar(t_[pos_]) || t_[pos_] == '.')) ++pos_;
    return t_.substr(start, pos_ - start);
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view t_;
  size_t pos_ = 0;
};

Error bad(std::string_view text, size_t pos, const std::string& why) {
  return Error{"bad path template \"" + std::string(text) + "\" at offset " + std::to_string(pos) +
               ": " + why};
}

}  // namespace

std::optional<std::string> percentDecode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hexValue(s[i + 1]);
    int lo = hexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    char c = static_cast<char>(hi * 16 + lo);
    if (keep_slash && c == '/') {
      out.append(s.substr(i, 3));
    } else {
      out.push_back(c);
    }
    i += 2;
  }
  return out;
}

Result<PathTemplate> PathTemplate::parse(std::string_view text) {
  PathTemplate pt;
  pt.text_ = std::string(text);
  Parser p(text);
  if (!p.take('/')) return bad(text, 0, "must start with \"/\"");
  bool in_var = false;
  bool seen_double_star = false;
  while (true) {
    if (seen_double_star) return bad(text, p.pos(), "\"**\" must be the last segment");
    size_t at = p.pos();
    Segment seg;
    if (!in_var && p.take('{')) {
      std::string_view field = p.fieldPath();
      if (field.empty() || field.front() == '.' || field.back() == '.' ||
          field.find("..") != std::string_view::npos) {
        return bad(text, p.pos(), "expected a field path after \"{\"");
      }
      Variable v;
      v.field_path = std::string(field);
      v.first = pt.segments_.size();
      for (const auto& other : pt.vars_) {
        if (other.field_path == v.field_path) return bad(text, at, "field \"" + v.field_path + "\" bound twice");
      }
      pt.vars_.push_back(v);
      if (p.take('=')) {
        in_var = true;
        continue;  // the variable's own segments follow
      }
      if (!p.take('}')) return bad(text, p.pos(), "expected \"}\" or \"=\"");
      seg.kind = Kind::Star;
      seg.variable = static_cast<int>(pt.vars_.size() - 1);
      pt.segments_.push_back(seg);
      pt.vars_.back().last = pt.segments_.size();
    } else {
      if (p.take('*')) {
        seg.kind = p.take('*') ? Kind::DoubleStar : Kind::Star;
      } else {
        std::string_view lit = p.literal();
        if (lit.empty()) return bad(text, p.pos(), "empty segment");
        auto decoded = percentDecode(lit, false);
        if (!decoded) return bad(text, at, "malformed percent escape");
        seg.literal = *decoded;
      }
      if (seg.kind == Kind::DoubleStar) seen_double_star = true;
      if (in_var) seg.variable = static_cast<int>(pt.vars_.size() - 1);
      pt.segments_.push_back(seg);
      if (in_var && p.take('}')) {
        in_var = false;
        pt.vars_.back().last = pt.segments_.size();
      }
    }
    if (p.take('/')) {
      if (seen_double_star) return bad(text, p.pos(), "\"**\" must be the last segment");
      continue;
    }
    break;
  }
  if (in_var) return bad(text, p.pos(), "unterminated variable");
  if (p.take(':')) {
    std::string_view verb = p.literal();
    if (verb.empty()) return bad(text, p.pos(), "empty verb");
    pt.verb_ = std::string(verb);
  }
  if (!p.atEnd()) return bad(text, p.pos(), "unexpected character");
  return pt;
}

std::vector<std::string> PathTemplate::variables() const {
  std::vector<std::string> out;
  for (const auto& v : vars_) out.push_back(v.field_path);
  return out;
}

bool PathTemplate::matchFrom(const std::vector<std::string_view>& parts, size_t seg, size_t part,
                             std::vector<std::pair<size_t, size_t>>& spans) const {
  if (seg == segments_.size()) return part == parts.size();
  const Segment& s = segments_[seg];
  if (s.kind == Kind::DoubleStar) {
    // Last segment: takes every remaining part (zero or more).
    spans[seg] = {part, parts.size()};
    return true;
  }
  if (part >= parts.size()) return false;
  if (s.kind == Kind::Literal) {
    auto decoded = percentDecode(parts[part], false);
    if (!decoded || *decoded != s.literal) return false;
  } else if (parts[part].empty()) {
    return false;  // `*` matches a non-empty segment
  }
  spans[seg] = {part, part + 1};
  return matchFrom(parts, seg + 1, part + 1, spans);
}

std::optional<PathBindings> PathTemplate::match(std::string_view path) const {
  if (path.empty() || path.front() != '/') return std::nullopt;
  path.remove_prefix(1);
  if (!verb_.empty()) {
    size_t colon = path.rfind(':');
    size_t slash = path.rfind('/');
    if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
      return std::nullopt;
    }
    if (path.substr(colon + 1) != verb_) return std::nullopt;
    path = path.substr(0, colon);
  }
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  // "/" alone: no segments (a template "/**" or one that is only a verb).
  if (parts.size() == 1 && parts[0].empty()) parts.clear();
  std::vector<std::pair<size_t, size_t>> spans(segments_.size());
  if (!matchFrom(parts, 0, 0, spans)) return std::nullopt;
  PathBindings out;
  for (const auto& v : vars_) {
    size_t from = v.first < spans.size() ? spans[v.first].first : 0;
    size_t to = v.last > 0 ? spans[v.last - 1].second : from;
    std::string raw;
    for (size_t i = from; i < to; ++i) {
      if (i > from) raw += '/';
      raw += parts[i];
    }
    bool multi = v.last - v.first > 1 || segments_[v.first].kind == Kind::DoubleStar;
    auto value = percentDecode(raw, multi);
    if (!value) return std::nullopt;
    out.emplace_back(v.field_path, std::move(*value));
  }
  return out;
}

}  // namespace switchyard::transcode
