// HeaderList: the header fields of one HEADERS block as nghttp2 handed them
// to us, kept by reference (nghttp2_rcbuf) so that forwarding a header never
// copies its bytes until nghttp2 serialises the outgoing block. Fields of an
// HTTP/1.1 request (which nghttp2 never saw) are copied into storage of the
// list's own (addOwned); the HTTP/2 path never touches that storage.
#pragma once

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "common/block_recycler.h"

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

// One field of a HeaderList: its bytes, and the nghttp2 buffers holding them
// (null for a field the list owns).
struct HeaderField {
  std::string_view name;
  std::string_view value;
  nghttp2_rcbuf* name_buf = nullptr;
  nghttp2_rcbuf* value_buf = nullptr;
};

// A header block's fields are stored in a vector of kTypicalFields entries
// (one allocation for a typical block: a gRPC request has about ten fields).
// Three such blocks come and go with every RPC (request, response headers,
// trailers), more at once than malloc's per-thread cache keeps, so storage of
// exactly that size is recycled per thread (common::BlockRecycler).
inline constexpr size_t kTypicalFields = 16;

template <class T>
using FieldAllocator = common::RecyclingAllocator<T, kTypicalFields, 128>;

class HeaderList {
 public:
  using Fields = std::vector<HeaderField, FieldAllocator<HeaderField>>;

  HeaderList() = default;
  ~HeaderList() { clear(); }
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  HeaderList(HeaderList&& o) noexcept
      : fields_(std::move(o.fields_)), owned_(std::move(o.owned_)), bytes_(o.bytes_) {
    o.fields_.clear();
    o.owned_.clear();
    o.bytes_ = 0;
  }
  HeaderList& operator=(HeaderList&& o) noexcept {
    if (this != &o) {
      clear();
      fields_ = std::move(o.fields_);
      owned_ = std::move(o.owned_);
      bytes_ = o.bytes_;
      o.fields_.clear();
      o.owned_.clear();
      o.bytes_ = 0;
    }
    return *this;
  }

  // A field nghttp2 decoded: kept by reference.
  void add(nghttp2_rcbuf* name, nghttp2_rcbuf* value) {
    // One allocation for a typical block instead of one per doubling.
    if (fields_.capacity() == 0) fields_.reserve(kTypicalFields);
    nghttp2_rcbuf_incref(name);
    nghttp2_rcbuf_incref(value);
    std::string_view n = view(name);
    std::string_view v = view(value);
    fields_.push_back(HeaderField{n, v, name, value});
    bytes_ += n.size() + v.size() + 32;  // RFC 7541 4.1 accounting
  }
  // A field that did not come from nghttp2 (HTTP/1.1): its bytes are copied
  // into storage the list owns. `name` must already be lower case.
  void addOwned(std::string_view name, std::string_view value) {
    if (fields_.capacity() == 0) fields_.reserve(kTypicalFields);
    auto bytes = std::make_unique<char[]>(name.size() + value.size() + 1);
    std::memcpy(bytes.get(), name.data(), name.size());
    std::memcpy(bytes.get() + name.size(), value.data(), value.size());
    const char* base = bytes.get();
    owned_.push_back(std::move(bytes));
    fields_.push_back(HeaderField{std::string_view(base, name.size()),
                                  std::string_view(base + name.size(), value.size())});
    bytes_ += name.size() + value.size() + 32;
  }
  void clear() {
    for (auto& f : fields_) {
      if (f.name_buf != nullptr) nghttp2_rcbuf_decref(f.name_buf);
      if (f.value_buf != nullptr) nghttp2_rcbuf_decref(f.value_buf);
    }
    fields_.clear();
    owned_.clear();
    bytes_ = 0;
  }

  // First value of `name`, or empty view with found=false.
  std::string_view get(std::string_view name, bool* found = nullptr) const {
    for (const auto& f : fields_) {
      if (f.name == name) {
        if (found) *found = true;
        return f.value;
      }
    }
    if (found) *found = false;
    return {};
  }
  // Drops every field named `name` (owned bytes stay until clear()).
  void remove(std::string_view name) {
    size_t kept = 0;
    for (auto& field : fields_) {
      if (field.name == name) {
        bytes_ -= field.name.size() + field.value.size() + 32;
        if (field.name_buf != nullptr) nghttp2_rcbuf_decref(field.name_buf);
        if (field.value_buf != nullptr) nghttp2_rcbuf_decref(field.value_buf);
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
  const Fields& fields() const { return fields_; }

 private:
  Fields fields_;
  std::vector<std::unique_ptr<char[]>> owned_;  // bytes of the addOwned fields
  size_t bytes_ = 0;
};

// Connection-specific fields that must not cross a hop (RFC 9113 8.2.2).
// nghttp2 already rejects most of them on receipt; this guards what we emit.
bool isHopByHop(std::string_view name);

// NvList: the nghttp2_nv array of one outgoing HEADERS block. Entries point at
// bytes owned elsewhere (a HeaderList, the caller's strings). nghttp2 copies
// the bytes of an add()ed field when the block is submitted, so they need
// only outlive that call. A field added with addKept() is not copied (and its
// name not lower-cased): nghttp2 keeps the pointers until it has written the
// HEADERS frame or dropped it (its stream closed, or a request's stream reset
// before it went out), so the bytes must stay valid until then. An RPC keeps
// what it forwards until it ends, which covers both.
class NvList {
 public:
  NvList() = default;
  // Built where it is submitted; never copied (its entries may live inline).
  NvList(const NvList&) = delete;
  NvList& operator=(const NvList&) = delete;

  void reserve(size_t n) {
    if (n > capacity()) grow(n);
  }
  void add(std::string_view name, std::string_view value, uint8_t flags = 0) {
    if (size_ == capacity()) grow(2 * size_);
    entries()[size_++] = makeNv(name, value, flags);
  }
  // `name` is lower case; both outlive the frame (see above).
  void addKept(std::string_view name, std::string_view value, uint8_t flags = 0) {
    add(name, value, flags | NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE);
  }
  // Every field of `fields` that may cross a hop (see isHopByHop).
  void addForwardable(const HeaderList& fields) {
    reserve(size_ + fields.size());
    for (const auto& f : fields.fields()) {
      if (!isHopByHop(f.name)) add(f.name, f.value);
    }
  }
  // The same, by reference: `fields` outlives the frame.
  void addForwardableKept(const HeaderList& fields) {
    reserve(size_ + fields.size());
    for (const auto& f : fields.fields()) {
      if (!isHopByHop(f.name)) addKept(f.name, f.value);
    }
  }
  void addForwardable(const HeaderList&& fields) = delete;  // would point into a temporary
  void addForwardableKept(const HeaderList&& fields) = delete;
  // Fields with `name` and `value` members (e.g. grpc::HeaderField).
  template <class Fields>
  void addAll(const Fields& fields) {
    reserve(size_ + fields.size());
    for (const auto& f : fields) add(f.name, f.value);
  }
  template <class Fields>
  void addAll(const Fields&& fields) = delete;  // would point into a temporary
  const nghttp2_nv* data() const { return spilled_.empty() ? inline_.data() : spilled_.data(); }
  size_t size() const { return size_; }

 private:
  // A block of up to kInline fields (what a gRPC call's blocks usually hold)
  // needs no allocation; a larger one moves to the heap.
  static constexpr size_t kInline = 16;
  size_t capacity() const { return spilled_.empty() ? kInline : spilled_.size(); }
  nghttp2_nv* entries() { return spilled_.empty() ? inline_.data() : spilled_.data(); }
  void grow(size_t n) {
    std::vector<nghttp2_nv> bigger(n);
    std::copy_n(data(), size_, bigger.data());
    spilled_ = std::move(bigger);
  }

  std::array<nghttp2_nv, kInline> inline_;
  std::vector<nghttp2_nv> spilled_;
  size_t size_ = 0;
};

}  // namespace switchyard::http2
