#include "auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>

#include <cmath>

#include "auth/base64url.h"

namespace switchyard::auth {

const char* authCauseName(AuthCause cause) {
  switch (cause) {
    case AuthCause::Missing: return "missing";
    case AuthCause::Malformed: return "malformed";
    case AuthCause::BadAlgorithm: return "bad_algorithm";
    case AuthCause::UnknownKey: return "unknown_key";
    case AuthCause::BadSignature: return "bad_signature";
    case AuthCause::Expired: return "expired";
    case AuthCause::NotYetValid: return "not_yet_valid";
    case AuthCause::WrongIssuer: return "wrong_issuer";
    case AuthCause::WrongAudience: return "wrong_audience";
    case AuthCause::ForbiddenClaims: return "forbidden_claims";
    case AuthCause::BadApiKey: return "bad_api_key";
  }
  return "unknown";
}

namespace {

using MdCtxHandle = CHandle<EVP_MD_CTX, EVP_MD_CTX_free>;
using EcdsaSigHandle = CHandle<ECDSA_SIG, ECDSA_SIG_free>;

enum class Family { Rsa, Ec, Ed25519, Hmac };

struct Algorithm {
  const char* name;
  Family family;
  const EVP_MD* (*md)();
  const char* curve;  // EC only
  size_t ec_coord;    // EC only
};

const EVP_MD* noMd() { return nullptr; }

constexpr Algorithm kAlgorithms[] = {
    {"RS256", Family::Rsa, EVP_sha256, nullptr, 0},  {"RS384", Family::Rsa, EVP_sha384, nullptr, 0},
    {"RS512", Family::Rsa, EVP_sha512, nullptr, 0},  {"ES256", Family::Ec, EVP_sha256, "P-256", 32},
    {"ES384", Family::Ec, EVP_sha384, "P-384", 48},  {"EdDSA", Family::Ed25519, noMd, nullptr, 0},
    {"HS256", Family::Hmac, EVP_sha256, nullptr, 0},
};

const Algorithm* findAlgorithm(std::string_view name) {
  for (const auto& a : kAlgorithms) {
    if (name == a.name) return &a;
  }
  return nullptr;
}

bool keyFits(const Jwk& key, const Algorithm& alg) {
  if (!key.alg.empty() && key.alg != alg.name) return false;
  switch (alg.family) {
    case Family::Rsa: return key.type == KeyType::Rsa;
    case Family::Ec: return key.type == KeyType::Ec && key.curve == alg.curve;
    case Family::Ed25519: return key.type == KeyType::Ed25519;
    case Family::Hmac: return key.type == KeyType::Oct;
  }
  return false;
}

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// JOSE ECDSA signatures are r||s of fixed width; OpenSSL verifies DER.
std::optional<std::string> joseToDer(std::string_view sig, size_t coord) {
  if (sig.size() != 2 * coord) return std::nullopt;
  EcdsaSigHandle es(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes(sig), static_cast<int>(coord), nullptr);
  BIGNUM* s = BN_bin2bn(bytes(sig.substr(coord)), static_cast<int>(coord), nullptr);
  if (!es || r == nullptr || s == nullptr || ECDSA_SIG_set0(es.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  int len = i2d_ECDSA_SIG(es.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(es.get(), &p) != len) return std::nullopt;
  return der;
}

bool verifyWith(const Jwk& key, const Algorithm& alg, std::string_view input, std::string_view sig) {
  if (alg.family == Family::Hmac) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (HMAC(alg.md(), key.secret.data(), static_cast<int>(key.secret.size()), bytes(input), input.size(), mac,
             &mac_len) == nullptr) {
      return false;
    }
    return sig.size() == mac_len && CRYPTO_memcmp(mac, sig.data(), mac_len) == 0;
  }
  std::string der;
  if (alg.family == Family::Ec) {
    auto d = joseToDer(sig, alg.ec_coord);
    if (!d) return false;
    der = std::move(*d);
    sig = der;
  }
  MdCtxHandle ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, alg.md(), nullptr, key.pkey.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), bytes(sig), sig.size(), bytes(input), input.size()) == 1;
}

JwtOutcome failed(AuthCause cause, std::string message) {
  JwtOutcome o;
  o.failure = JwtFailure{cause, std::move(message)};
  return o;
}

// A NumericDate claim; false when present but not a finite number.
bool readTime(const JsonValue& claims, const char* name, std::optional<int64_t>& out) {
  const JsonValue* v = claims.find(name);
  if (v == nullptr) return true;
  if (!v->isNumber() || !std::isfinite(v->number()) || std::fabs(v->number()) > 1e15) return false;
  out = static_cast<int64_t>(std::floor(v->number()));
  return true;
}

bool audienceMatches(const JsonValue& claims, const std::vector<std::string>& audiences) {
  if (audiences.empty()) return true;
  const JsonValue* aud = claims.find("aud");
  if (aud == nullptr) return false;
  auto listed = [&](const std::string& a) {
    for (const auto& want : audiences) {
      if (a == want) return true;
    }
    return false;
  };
  if (aud->isString()) return listed(aud->string());
  if (aud->isArray()) {
    for (const auto& a : aud->array()) {
      if (a.isString() && listed(a.string())) return true;
    }
  }
  return false;
}

}  // namespace

std::optional<JwtFailure> checkTokenTime(const VerifiedToken& token, int64_t skew, int64_t now) {
  if (token.expires && now > *token.expires + skew) return JwtFailure{AuthCause::Expired, "JWT has expired"};
  if (token.not_before && now + skew < *token.not_before) {
    return JwtFailure{AuthCause::NotYetValid, "JWT is not yet valid (nbf)"};
  }
  return std::nullopt;
}

JwtOutcome verifyJwt(std::string_view jwt, const JwkSet& keys, const JwtRules& rules, int64_t now) {
  if (jwt.size() > kMaxJwtBytes) return failed(AuthCause::Malformed, "JWT is too large");
  size_t dot1 = jwt.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos) {
    return failed(AuthCause::Malformed, "JWT is malformed: expected three dot-separated parts");
  }
  auto header_json = decodeBase64Url(jwt.substr(0, dot1));
  auto payload_json = decodeBase64Url(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  auto sig = decodeBase64Url(jwt.substr(dot2 + 1));
  if (!header_json || !payload_json || !sig) return failed(AuthCause::Malformed, "JWT is malformed: bad base64url");
  auto header = parseJson(*header_json);
  if (!header || !header->isObject()) return failed(AuthCause::Malformed, "JWT header is not a JSON object");
  const std::string* alg_name = header->findString("alg");
  if (alg_name == nullptr) return failed(AuthCause::Malformed, "JWT header has no alg");
  if (header->find("crit") != nullptr) {
    return failed(AuthCause::Malformed, "JWT header has critical extensions (crit), which are not supported");
  }
  const Algorithm* alg = findAlgorithm(*alg_name);
  if (alg == nullptr || (alg->family == Family::Hmac && !rules.allow_hs256)) {
    std::string shown = alg_name->size() <= 16 ? *alg_name : alg_name->substr(0, 16) + "...";
    return failed(AuthCause::BadAlgorithm, "JWT algorithm \"" + shown + "\" is not accepted");
  }
  const std::string* kid = header->findString("kid");
  bool any_key = false;
  bool verified = false;
  for (const auto& key : keys.keys) {
    if (kid != nullptr && !key->kid.empty() && key->kid != *kid) continue;
    if (!keyFits(*key, *alg)) continue;
    any_key = true;
    if (verifyWith(*key, *alg, jwt.substr(0, dot2), *sig)) {
      verified = true;
      break;
    }
  }
  if (!any_key) return failed(AuthCause::UnknownKey, "no key of the provider matches the JWT's kid and alg");
  if (!verified) return failed(AuthCause::BadSignature, "JWT signature does not verify");

  auto claims = parseJson(*payload_json);
  if (!claims || !claims->isObject()) return failed(AuthCause::Malformed, "JWT claims are not a JSON object");
  auto token = std::make_shared<VerifiedToken>();
  if (!readTime(*claims, "exp", token->expires) || !readTime(*claims, "nbf", token->not_before)) {
    return failed(AuthCause::Malformed, "JWT exp or nbf is not a number");
  }
  if (auto bad = checkTokenTime(*token, rules.clock_skew_seconds, now)) return failed(bad->cause, bad->message);
  if (!rules.issuer.empty()) {
    const std::string* iss = claims->findString("iss");
    if (iss == nullptr || *iss != rules.issuer) return failed(AuthCause::WrongIssuer, "JWT issuer is not accepted");
  }
  if (!audienceMatches(*claims, rules.audiences)) {
    return failed(AuthCause::WrongAudience, "JWT audience is not accepted");
  }
  if (const JsonValue* sub = claims->find("sub")) {
    if (!sub->isString()) return failed(AuthCause::Malformed, "JWT sub is not a string");
    token->subject = sub->string();
  }
  token->claims = std::move(*claims);
  JwtOutcome ok;
  ok.token = std::move(token);
  return ok;
}

bool claimAllows(const JsonValue& claims, std::string_view name, std::string_view value) {
  const JsonValue* c = claims.find(name);
  if (c == nullptr) return false;
  if (c->isString()) {
    std::string_view s = c->string();
    if (s == value) return true;
    size_t pos = 0;
    while (pos <= s.size()) {
      size_t end = s.find(' ', pos);
      if (end == std::string_view::npos) end = s.size();
      if (s.substr(pos, end - pos) == value) return true;
      pos = end + 1;
    }
    return false;
  }
  if (c->isArray()) {
    for (const auto& item : c->array()) {
      if (item.isString() && item.string() == value) return true;
    }
  }
  return false;
}

std::optional<std::string> claimAsText(const JsonValue& claims, std::string_view name) {
  const JsonValue* c = claims.find(name);
  if (c == nullptr) return std::nullopt;
  if (c->isString()) {
    for (char ch : c->string()) {
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) return std::nullopt;  // not header-safe
    }
    return c->string();
  }
  if (c->isBool()) return std::string(c->boolean() ? "true" : "false");
  if (c->isNumber() && std::fabs(c->number()) < 9e15 && std::floor(c->number()) == c->number()) {
    return std::to_string(static_cast<int64_t>(c->number()));
  }
  return std::nullopt;
}

}  // namespace switchyard::auth
