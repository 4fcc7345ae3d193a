// PathTemplate: the URL path templates of google.api.http rules
// (google/api/http.proto), parsed once and matched against request paths.
//
//   Template = "/" Segments [ Verb ] ;
//   Segments = Segment { "/" Segment } ;
//   Segment  = "*" | "**" | LITERAL | Variable ;
//   Variable = "{" FieldPath [ "=" Segments ] "}" ;
//   FieldPath = IDENT { "." IDENT } ;
//   Verb     = ":" LITERAL ;
//
// `*` matches one segment, `**` zero or more (only as the last segment), and
// `{name}` is `{name=*}`. A variable's value is the text of the segments it
// matched; one-segment variables are fully percent-decoded, multi-segment
// ones keep "%2F" (and "%2f") as they are, as the rules ask. Pure: the first
// step of JSON transcoding (request path → the gRPC method and the fields set
// from the path).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace switchyard::transcode {

// A field path and its value taken from the URL path.
using PathBindings = std::vector<std::pair<std::string, std::string>>;

class PathTemplate {
 public:
  static Result<PathTemplate> parse(std::string_view text);

  // The variables bound when `path` (without its query string) matches; nullopt otherwise.
  std::optional<PathBindings> match(std::string_view path) const;

  // The field paths of the template's variables, in order.
  std::vector<std::string> variables() const;
  const std::string& text() const { return text_; }
  const std::string& verb() const { return verb_; }

 private:
  enum class Kind { Literal, Star, DoubleStar };
  struct Segment {
    Kind kind = Kind::Literal;
    std::string literal;
    int variable = -1;  // index into vars_, or -1
  };
  struct Variable {
    std::string field_path;
    size_t first = 0;  // its segments: [first, last)
    size_t last = 0;
  };

  bool matchFrom(const std::vector<std::string_view>& parts, size_t seg, size_t part,
                 std::vector<std::pair<size_t, size_t>>& spans) const;

  std::string text_;
  std::vector<Segment> segments_;
  std::vector<Variable> vars_;
  std::string verb_;
};

// Percent-decodes `s`; with `keep_slash`, "%2F" stays encoded. nullopt on a malformed escape.
std::optional<std::string> percentDecode(std::string_view s, bool keep_slash);

}  // namespace switchyard::transcode
