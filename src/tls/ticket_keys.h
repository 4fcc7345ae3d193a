// Operator-managed session ticket keys of a listener. Each key file holds
// exactly 80 bytes, laid out as nginx's ssl_session_ticket_key and HAProxy's
// 80-byte keys: a 16-byte key name, a 32-byte HMAC-SHA256 secret and a
// 32-byte AES-256-CBC key. The first key encrypts new tickets; every listed
// key decrypts, so a key stays valid for resumption while it is listed, and a
// ticket under an older key is answered with a fresh one under the first.
// Every proxy that shares the files resumes the others' sessions.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace switchyard::tls {

struct TicketKey {
  std::array<unsigned char, 16> name{};
  std::array<unsigned char, 32> hmac{};
  std::array<unsigned char, 32> aes{};
};

// The keys in file order; the memory is wiped when the last user lets go.
class TicketKeys {
 public:
  explicit TicketKeys(std::vector<TicketKey> keys) : keys_(std::move(keys)) {}
  ~TicketKeys();
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  const std::vector<TicketKey>& keys() const { return keys_; }
  // The key named `name` (16 bytes) and its position (0 encrypts); null if unknown.
  const TicketKey* find(const unsigned char* name, size_t* index) const;

 private:
  std::vector<TicketKey> keys_;
};
using TicketKeysPtr = std::shared_ptr<const TicketKeys>;

inline constexpr size_t kTicketKeyFileBytes = 80;

// Reads every file; errors name the file ("must hold exactly 80 bytes").
Result<TicketKeysPtr> loadTicketKeys(const std::vector<std::string>& paths);

// Makes `ctx` issue and accept tickets with `keys` (the context keeps a
// reference). Tickets are on for the context afterwards.
Status useTicketKeys(SSL_CTX* ctx, TicketKeysPtr keys);

}  // namespace switchyard::tls
