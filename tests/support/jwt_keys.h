// Test-time JWT material: keys generated with OpenSSL when a test runs (RSA,
// EC P-256/P-384, Ed25519, HMAC), their public JWKs, and compact JWS tokens
// signed with them. Header-only; used by unit and integration tests.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sytest::jwt {

struct PKeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

inline std::string b64url(std::string_view in) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (in.size() - i == 1) {
    uint32_t v = uint8_t(in[i]) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (in.size() - i == 2) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

struct TestKey {
  std::string alg;  // RS256, ES256, ES384, EdDSA, HS256
  std::string kid;
  std::unique_ptr<EVP_PKEY, PKeyFree> pkey;  // null for HS256
  std::string secret;                        // HS256
  std::string jwk;                           // public JWK JSON
};

inline std::string bnParam(EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(k, name, &bn) != 1) throw std::runtime_error("get_bn_param");
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

// alg: RS256/RS384/RS512 (RSA 2048), ES256 (P-256), ES384 (P-384), EdDSA (Ed25519), HS256.
inline TestKey makeKey(const std::string& alg, const std::string& kid) {
  TestKey k;
  k.alg = alg;
  k.kid = kid;
  std::string kid_json = kid.empty() ? "" : ",\"kid\":\"" + kid + "\"";
  if (alg.starts_with("RS")) {
    k.pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
    k.jwk = "{\"kty\":\"RSA\"" + kid_json + ",\"n\":\"" + b64url(bnParam(k.pkey.get(), "n")) + "\",\"e\":\"" +
            b64url(bnParam(k.pkey.get(), "e")) + "\"}";
  } else if (alg == "ES256" || alg == "ES384") {
    const char* curve = alg == "ES256" ? "P-256" : "P-384";
    k.pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
    unsigned char buf[200];
    size_t len = 0;
    EVP_PKEY_get_octet_string_param(k.pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof buf, &len);
    size_t coord = (len - 1) / 2;
    std::string x(reinterpret_cast<char*>(buf + 1), coord), y(reinterpret_cast<char*>(buf + 1 + coord), coord);
    k.jwk = std::string("{\"kty\":\"EC\",\"crv\":\"") + curve + "\"" + kid_json + ",\"x\":\"" + b64url(x) +
            "\",\"y\":\"" + b64url(y) + "\"}";
  } else if (alg == "EdDSA") {
    k.pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    unsigned char buf[32];
    size_t len = sizeof buf;
    EVP_PKEY_get_raw_public_key(k.pkey.get(), buf, &len);
    k.jwk = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\"" + kid_json + ",\"x\":\"" +
            b64url(std::string(reinterpret_cast<char*>(buf), len)) + "\"}";
  } else if (alg == "HS256") {
    k.secret = "0123456789abcdef0123456789abcdef-test-secret";
    k.jwk = "{\"kty\":\"oct\"" + kid_json + ",\"k\":\"" + b64url(k.secret) + "\"}";
  }
  if (k.jwk.empty() || (alg != "HS256" && !k.pkey)) throw std::runtime_error("cannot make key " + alg);
  return k;
}

// The lowercase SHA-256 hex of `key`, as an API key file lists it.
inline std::string sha256Hex(std::string_view key) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), md, &len, EVP_sha256(), nullptr);
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kDigits[md[i] >> 4]);
    out.push_back(kDigits[md[i] & 15]);
  }
  return out;
}

inline std::string jwks(const std::vector<const TestKey*>& keys) {
  std::string out = "{\"keys\":[";
  for (size_t i = 0; i < keys.size(); ++i) out += (i ? "," : "") + keys[i]->jwk;
  return out + "]}";
}

inline std::string signBytes(const TestKey& k, const std::string& alg, std::string_view input) {
  const EVP_MD* md = nullptr;
  if (alg.ends_with("256")) md = EVP_sha256();
  if (alg.ends_with("384")) md = EVP_sha384();
  if (alg.ends_with("512")) md = EVP_sha512();
  if (alg == "HS256") {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(md, k.secret.data(), static_cast<int>(k.secret.size()), reinterpret_cast<const unsigned char*>(input.data()),
         input.size(), mac, &len);
    return std::string(reinterpret_cast<char*>(mac), len);
  }
  if (alg == "EdDSA") md = nullptr;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, md, nullptr, k.pkey.get());
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  if (alg.starts_with("ES")) {  // DER -> JOSE r||s
    size_t coord = alg == "ES256" ? 32 : 48;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string rs(2 * coord, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(rs.data()), static_cast<int>(coord));
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(rs.data() + coord), static_cast<int>(coord));
    ECDSA_SIG_free(es);
    return rs;
  }
  return sig;
}

// A token with `claims` (JSON object text) signed by `k`; `alg` overrides the
// header's alg (the signature is still made with k's own algorithm, or is
// empty for "none").
inline std::string sign(const TestKey& k, const std::string& claims, const std::string& alg_override = "") {
  std::string alg = alg_override.empty() ? k.alg : alg_override;
  std::string header = "{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"" +
                       (k.kid.empty() ? "" : ",\"kid\":\"" + k.kid + "\"") + "}";
  std::string input = b64url(header) + "." + b64url(claims);
  if (alg == "none") return input + ".";
  return input + "." + b64url(signBytes(k, k.alg, input));
}

}  // namespace sytest::jwt
