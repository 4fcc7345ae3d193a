#include "tls/ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tls/context.h"

namespace switchyard::tls {
namespace {

void freeKeys(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<TicketKeysPtr*>(ptr);
}

int keysIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, freeKeys);
  return index;
}

// HMAC-SHA256 keyed with the key's secret on the ticket MAC context.
bool setMacKey(EVP_MAC_CTX* mac, const TicketKey& k) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(k.hmac.data()),
                                        k.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  return EVP_MAC_CTX_set_params(mac, params) == 1;
}

// OpenSSL's ticket key callback (RFC 5077 layout, as OpenSSL's own tickets):
// 1 = use this key, 2 = accepted but issue a new ticket under the first key,
// 0 = unknown key (full handshake), -1 = internal error. No exception can
// leave it: nothing here throws.
int onTicketKey(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                EVP_MAC_CTX* mac, int enc) {
  const auto* holder =
      static_cast<const TicketKeysPtr*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keysIndex()));
  if (holder == nullptr || !*holder || (*holder)->keys().empty()) return -1;
  const TicketKeys& keys = **holder;
  if (enc == 1) {
    const TicketKey& k = keys.keys().front();
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) return -1;
    std::memcpy(key_name, k.name.data(), k.name.size());
    if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k.aes.data(), iv) != 1) return -1;
    return setMacKey(mac, k) ? 1 : -1;
  }
  size_t index = 0;
  const TicketKey* k = keys.find(key_name, &index);
  if (k == nullptr) return 0;
  if (!setMacKey(mac, *k)) return -1;
  if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k->aes.data(), iv) != 1) return -1;
  return index == 0 ? 1 : 2;
}

}  // namespace

TicketKeys::~TicketKeys() {
  if (!keys_.empty()) OPENSSL_cleanse(keys_.data(), keys_.size() * sizeof(TicketKey));
}

const TicketKey* TicketKeys::find(const unsigned char* name, size_t* index) const {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (std::memcmp(keys_[i].name.data(), name, keys_[i].name.size()) == 0) {
      *index = i;
      return &keys_[i];
    }
  }
  return nullptr;
}

Result<TicketKeysPtr> loadTicketKeys(const std::vector<std::string>& paths) {
  std::vector<TicketKey> keys;
  for (const auto& path : paths) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return Error{path + ": cannot open session ticket key: " + std::strerror(errno)};
    unsigned char buf[kTicketKeyFileBytes + 1];
    size_t n = std::fread(buf, 1, sizeof buf, f);
    std::fclose(f);
    if (n != kTicketKeyFileBytes) {
      OPENSSL_cleanse(buf, sizeof buf);
      return Error{path + ": a session ticket key file must hold exactly 80 bytes (e.g. `openssl rand 80`), " +
                   (n > kTicketKeyFileBytes ? std::string("it holds more") : "it holds " + std::to_string(n))};
    }
    TicketKey k;
    std::memcpy(k.name.data(), buf, 16);
    std::memcpy(k.hmac.data(), buf + 16, 32);
    std::memcpy(k.aes.data(), buf + 48, 32);
    OPENSSL_cleanse(buf, sizeof buf);
    for (const auto& other : keys) {
      if (other.name == k.name) {
        return Error{path + ": session ticket key name (its first 16 bytes) repeats an earlier key's"};
      }
    }
    keys.push_back(k);
    OPENSSL_cleanse(&k, sizeof k);
  }
  return TicketKeysPtr(std::make_shared<TicketKeys>(std::move(keys)));
}

Status useTicketKeys(SSL_CTX* ctx, TicketKeysPtr keys) {
  auto* holder = new TicketKeysPtr(std::move(keys));
  if (SSL_CTX_set_ex_data(ctx, keysIndex(), holder) != 1) {
    delete holder;
    return Error{"cannot attach session ticket keys: " + lastOpenSslError()};
  }
  if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, onTicketKey) != 1) {
    return Error{"cannot install the session ticket key callback: " + lastOpenSslError()};
  }
  SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
  return {};
}

}  // namespace switchyard::tls
