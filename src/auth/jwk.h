// JSON Web Keys (RFC 7517) for verifying JWT signatures: a JWKS document's
// keys turned into OpenSSL EVP_PKEYs (RSA n/e, EC P-256/P-384 x/y, OKP
// Ed25519 x) or HMAC secrets (`oct` k). Private key members are refused: a
// verifier's key file holds public keys only. Parsed at configuration time;
// the resulting set is immutable and shared by every worker.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/c_handle.h"
#include "common/result.h"

namespace switchyard::auth {

using PKeyHandle = CHandle<EVP_PKEY, EVP_PKEY_free>;

enum class KeyType { Rsa, Ec, Ed25519, Oct };

struct Jwk {
  std::string kid;  // "" when the key has none
  std::string alg;  // the key's own "alg", "" when unset
  KeyType type = KeyType::Rsa;
  std::string curve;   // EC: "P-256" or "P-384"
  PKeyHandle pkey;     // RSA, EC, Ed25519
  std::string secret;  // oct
};

struct JwkSet {
  std::vector<std::shared_ptr<const Jwk>> keys;
};

inline constexpr int kMinRsaBits = 2048;

// The keys of a JWKS document ({"keys": [...]}) or of a single JWK. Keys with
// "use" other than "sig" are skipped; a key that cannot be used is an error
// naming it, and so is a document with no usable key.
Result<JwkSet> parseJwks(std::string_view json);

}  // namespace switchyard::auth
