#include "grpc/health_message.h"

namespace switchyard::grpc {
namespace {

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// Nested groups deeper than this are treated as malformed (protobuf's own
// default recursion limit is 100).
constexpr int kMaxGroupDepth = 32;

// Reads protobuf wire format from a byte string; every read checks bounds.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : data_(bytes) {}

  bool done() const { return pos_ == data_.size(); }

  // A base-128 varint of at most 10 bytes whose value fits in 64 bits.
  bool varint(uint64_t* out) {
    uint64_t value = 0;
    for (int i = 0; i < 10; ++i) {
      if (pos_ == data_.size()) return false;
      const auto byte = static_cast<uint8_t>(data_[pos_++]);
      if (i == 9 && byte > 1) return false;  // bits beyond the 64th
      value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) {
        *out = value;
        return true;
      }
    }
    return false;
  }

  // A field key: field number (1 .. 2^29-1) and wire type.
  bool tag(uint32_t* field, uint32_t* wire_type) {
    uint64_t key = 0;
    if (!varint(&key) || key > UINT32_MAX) return false;
    *field = static_cast<uint32_t>(key >> 3);
    *wire_type = static_cast<uint32_t>(key & 7);
    return *field != 0;
  }

  bool bytes(std::string_view* out) {
    uint64_t len = 0;
    if (!varint(&len) || len > data_.size() - pos_) return false;
    *out = data_.substr(pos_, static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return true;
  }

  bool skip(size_t n) {
    if (n > data_.size() - pos_) return false;
    pos_ += n;
    return true;
  }

  // Skips the value of a field whose key was just read.
  bool skipValue(uint32_t field, uint32_t wire_type, int depth = 0) {
    uint64_t ignored = 0;
    std::string_view ignored_bytes;
    switch (wire_type) {
      case kVarint: return varint(&ignored);
      case kFixed64: return skip(8);
      case kLengthDelimited: return bytes(&ignored_bytes);
      case kFixed32: return skip(4);
      case kStartGroup: return skipGroup(field, depth + 1);
      default: return false;  // a stray end-group, or the reserved types 6 and 7
    }
  }

 private:
  // Skips fields up to and including the end-group tag of `field`.
  bool skipGroup(uint32_t field, int depth) {
    if (depth > kMaxGroupDepth) return false;
    while (!done()) {
      uint32_t inner = 0;
      uint32_t wire_type = 0;
      if (!tag(&inner, &wire_type)) return false;
      if (wire_type == kEndGroup) return inner == field;
      if (!skipValue(inner, wire_type, depth)) return false;
    }
    return false;  // the group never ended
  }

  std::string_view data_;
  size_t pos_ = 0;
};

void appendVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

}  // namespace

std::string encodeHealthCheckRequest(std::string_view service) {
  std::string out;
  if (service.empty()) return out;
  out.reserve(service.size() + 6);
  out.push_back(static_cast<char>((1 << 3) | kLengthDelimited));
  appendVarint(out, service.size());
  out.append(service);
  return out;
}

std::optional<std::string> decodeHealthCheckRequest(std::string_view bytes) {
  WireReader in(bytes);
  std::string_view service;
  while (!in.done()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!in.tag(&field, &wire_type)) return std::nullopt;
    if (field == 1 && wire_type == kLengthDelimited) {
      if (!in.bytes(&service)) return std::nullopt;
    } else if (!in.skipValue(field, wire_type)) {
      return std::nullopt;
    }
  }
  return std::string(service);
}

std::optional<int32_t> decodeHealthCheckResponse(std::string_view bytes) {
  WireReader in(bytes);
  uint64_t status = 0;
  while (!in.done()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!in.tag(&field, &wire_type)) return std::nullopt;
    if (field == 1 && wire_type == kVarint) {
      if (!in.varint(&status)) return std::nullopt;
    } else if (!in.skipValue(field, wire_type)) {
      return std::nullopt;
    }
  }
  // An enum is an int32: the low 32 bits, two's complement (negative values
  // arrive sign-extended to 10 bytes).
  return static_cast<int32_t>(static_cast<uint32_t>(status));
}

std::string servingStatusName(int32_t status) {
  switch (static_cast<ServingStatus>(status)) {
    case ServingStatus::Unknown: return "UNKNOWN";
    case ServingStatus::Serving: return "SERVING";
    case ServingStatus::NotServing: return "NOT_SERVING";
    case ServingStatus::ServiceUnknown: return "SERVICE_UNKNOWN";
  }
  return "status " + std::to_string(status);
}

}  // namespace switchyard::grpc
