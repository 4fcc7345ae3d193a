// HeaderList: the header fields of one HEADERS block as nghttp2 handed them
// to us, kept by reference (nghttp2_rcbuf) so that forwarding a header never
// copies its bytes until nghttp2 serialises the outgoing block.
#pragma once

#include <nghttp2/nghttp2.h>

#include <string_view>
#include <utility>
#include <vector>

namespace switchyard::http2 {

inline std::string_view view(nghttp2_rcbuf* buf) {
  nghttp2_vec v = nghttp2_rcbuf_get_buf(buf);
  return {reinterpret_cast<const char*>(v.base), v.len};
}

inline nghttp2_nv makeNv(std::string_view name, std::string_view value, uint8_t flags = 0) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), flags};
}

class HeaderList {
 public:
  HeaderList() = default;
  ~HeaderList() { clear(); }
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  HeaderList(HeaderList&& o) noexcept : fields_(std::move(o.fields_)), bytes_(o.bytes_) {
    o.fields_.clear();
    o.bytes_ = 0;
  }
  HeaderList& operator=(HeaderList&& o) noexcept {
    if (this != &o) {
      clear();
      fields_ = std::move(o.fields_);
      bytes_ = o.bytes_;
      o.fields_.clear();
      o.bytes_ = 0;
    }
    return *this;
  }

  void add(nghttp2_rcbuf* name, nghttp2_rcbuf* value) {
    // One allocation for a typical block (a gRPC request has about ten
    // fields) instead of one per doubling.
    if (fields_.capacity() == 0) fields_.reserve(kTypicalFields);
    nghttp2_rcbuf_incref(name);
    nghttp2_rcbuf_incref(value);
    fields_.emplace_back(name, value);
    bytes_ += view(name).size() + view(value).size() + 32;  // RFC 7541 4.1 accounting
  }
  void clear() {
    for (auto& [n, v] : fields_) {
      nghttp2_rcbuf_decref(n);
      nghttp2_rcbuf_decref(v);
    }
    fields_.clear();
    bytes_ = 0;
  }

  // First value of `name`, or empty view with found=false.
  std::string_view get(std::string_view name, bool* found = nullptr) const {
    for (const auto& [n, v] : fields_) {
      if (view(n) == name) {
        if (found) *found = true;
        return view(v);
      }
    }
    if (found) *found = false;
    return {};
  }
  // Drops every field named `name`.
  void remove(std::string_view name) {
    size_t kept = 0;
    for (auto& field : fields_) {
      if (view(field.first) == name) {
        bytes_ -= view(field.first).size() + view(field.second).size() + 32;
        nghttp2_rcbuf_decref(field.first);
        nghttp2_rcbuf_decref(field.second);
      } else {
        fields_[kept++] = field;
      }
    }
    fields_.resize(kept);
  }
  bool has(std::string_view name) const {
    bool found = false;
    get(name, &found);
    return found;
  }

  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  size_t hpackBytes() const { return bytes_; }
  const std::vector<std::pair<nghttp2_rcbuf*, nghttp2_rcbuf*>>& fields() const { return fields_; }

 private:
  static constexpr size_t kTypicalFields = 16;
  std::vector<std::pair<nghttp2_rcbuf*, nghttp2_rcbuf*>> fields_;
  size_t bytes_ = 0;
};

// Connection-specific fields that must not cross a hop (RFC 9113 8.2.2).
// nghttp2 already rejects most of them on receipt; this guards what we emit.
bool isHopByHop(std::string_view name);

// NvList: the nghttp2_nv array of one outgoing HEADERS block. Entries point at
// bytes owned elsewhere (a HeaderList, the caller's strings); nghttp2 copies
// them when the block is submitted, so they need only outlive that call.
class NvList {
 public:
  void reserve(size_t n) { nv_.reserve(n); }
  void add(std::string_view name, std::string_view value, uint8_t flags = 0) {
    nv_.push_back(makeNv(name, value, flags));
  }
  // Every field of `fields` that may cross a hop (see isHopByHop).
  void addForwardable(const HeaderList& fields) {
    nv_.reserve(nv_.size() + fields.size());
    for (const auto& [name, value] : fields.fields()) {
      if (!isHopByHop(view(name))) add(view(name), view(value));
    }
  }
  void addForwardable(const HeaderList&& fields) = delete;  // would point into a temporary
  // Fields with `name` and `value` members (e.g. grpc::HeaderField).
  template <class Fields>
  void addAll(const Fields& fields) {
    nv_.reserve(nv_.size() + fields.size());
    for (const auto& f : fields) add(f.name, f.value);
  }
  template <class Fields>
  void addAll(const Fields&& fields) = delete;  // would point into a temporary
  const nghttp2_nv* data() const { return nv_.data(); }
  size_t size() const { return nv_.size(); }

 private:
  std::vector<nghttp2_nv> nv_;
};

}  // namespace switchyard::http2
