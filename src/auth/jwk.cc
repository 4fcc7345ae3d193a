#include "auth/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "auth/base64url.h"
#include "common/json_value.h"

namespace switchyard::auth {
namespace {

using BnHandle = CHandle<BIGNUM, BN_free>;
using ParamBldHandle = CHandle<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamHandle = CHandle<OSSL_PARAM, OSSL_PARAM_free>;
using PKeyCtxHandle = CHandle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;

std::string describeKey(const JsonValue& k, size_t index) {
  const std::string* kid = k.findString("kid");
  return kid != nullptr ? "key \"" + *kid + "\"" : "key #" + std::to_string(index + 1);
}

// A required base64url member, decoded.
Result<std::string> member(const JsonValue& k, const char* name) {
  const std::string* s = k.findString(name);
  if (s == nullptr) return Error{std::string("has no \"") + name + "\" string"};
  auto bytes = decodeBase64Url(*s);
  if (!bytes || bytes->empty()) return Error{std::string("\"") + name + "\" is not base64url"};
  return *bytes;
}

BnHandle toBignum(const std::string& bytes) {
  return BnHandle(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                            static_cast<int>(bytes.size()), nullptr));
}

Result<PKeyHandle> fromData(const char* type, ParamBldHandle& bld) {
  ParamHandle params(OSSL_PARAM_BLD_to_param(bld.get()));
  PKeyCtxHandle ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) {
    return Error{"cannot build the key (OpenSSL)"};
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0 || raw == nullptr) {
    return Error{"is not a valid public key"};
  }
  return PKeyHandle(raw);
}

Result<PKeyHandle> rsaKey(const JsonValue& k) {
  auto n = member(k, "n");
  if (!n.ok()) return Error{n.error()};
  auto e = member(k, "e");
  if (!e.ok()) return Error{e.error()};
  BnHandle bn_n = toBignum(*n), bn_e = toBignum(*e);
  ParamBldHandle bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return Error{"cannot build the key (OpenSSL)"};
  }
  auto key = fromData("RSA", bld);
  if (!key.ok()) return key;
  if (EVP_PKEY_get_bits(key->get()) < kMinRsaBits) {
    return Error{"is an RSA key of " + std::to_string(EVP_PKEY_get_bits(key->get())) +
                 " bits; at least " + std::to_string(kMinRsaBits) + " are required"};
  }
  return key;
}

Result<PKeyHandle> ecKey(const JsonValue& k, std::string& curve) {
  const std::string* crv = k.findString("crv");
  size_t coord = 0;
  const char* group = nullptr;
  if (crv != nullptr && *crv == "P-256") {
    coord = 32;
    group = "P-256";
  } else if (crv != nullptr && *crv == "P-384") {
    coord = 48;
    group = "P-384";
  } else {
    return Error{"has an unsupported EC curve (P-256 and P-384 are supported)"};
  }
  curve = *crv;
  auto x = member(k, "x");
  if (!x.ok()) return Error{x.error()};
  auto y = member(k, "y");
  if (!y.ok()) return Error{y.error()};
  if (x->size() != coord || y->size() != coord) return Error{"has coordinates of the wrong length for " + *crv};
  std::string point = "\x04" + *x + *y;
  ParamBldHandle bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size())) {
    return Error{"cannot build the key (OpenSSL)"};
  }
  return fromData("EC", bld);
}

Result<PKeyHandle> okpKey(const JsonValue& k) {
  const std::string* crv = k.findString("crv");
  if (crv == nullptr || *crv != "Ed25519") return Error{"has an unsupported OKP curve (Ed25519 is supported)"};
  auto x = member(k, "x");
  if (!x.ok()) return Error{x.error()};
  if (x->size() != 32) return Error{"has an Ed25519 \"x\" of the wrong length"};
  EVP_PKEY* raw = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(x->data()), x->size());
  if (raw == nullptr) return Error{"is not a valid Ed25519 public key"};
  return PKeyHandle(raw);
}

Result<std::shared_ptr<const Jwk>> parseKey(const JsonValue& k) {
  if (!k.isObject()) return Error{"is not a JSON object"};
  for (const char* priv : {"d", "p", "q", "dp", "dq", "qi"}) {
    if (k.find(priv) != nullptr) {
      return Error{std::string("holds private key material (\"") + priv +
                   "\"); a key file for verification must hold public keys only"};
    }
  }
  auto jwk = std::make_shared<Jwk>();
  if (const std::string* kid = k.findString("kid")) jwk->kid = *kid;
  if (const std::string* alg = k.findString("alg")) jwk->alg = *alg;
  const std::string* kty = k.findString("kty");
  if (kty == nullptr) return Error{"has no \"kty\""};
  Result<PKeyHandle> pkey = PKeyHandle();
  if (*kty == "RSA") {
    jwk->type = KeyType::Rsa;
    pkey = rsaKey(k);
  } else if (*kty == "EC") {
    jwk->type = KeyType::Ec;
    pkey = ecKey(k, jwk->curve);
  } else if (*kty == "OKP") {
    jwk->type = KeyType::Ed25519;
    pkey = okpKey(k);
  } else if (*kty == "oct") {
    jwk->type = KeyType::Oct;
    auto secret = member(k, "k");
    if (!secret.ok()) return Error{secret.error()};
    if (secret->size() < 32) return Error{"is an HMAC secret shorter than 32 bytes"};
    jwk->secret = std::move(*secret);
  } else {
    return Error{"has an unsupported \"kty\" \"" + *kty + "\" (RSA, EC, OKP and oct are supported)"};
  }
  if (!pkey.ok()) return Error{pkey.error()};
  jwk->pkey = std::move(*pkey);
  return std::shared_ptr<const Jwk>(std::move(jwk));
}

}  // namespace

Result<JwkSet> parseJwks(std::string_view json) {
  JsonParseError perr;
  auto doc = parseJson(json, &perr);
  if (!doc) return Error{"not valid JSON at byte " + std::to_string(perr.offset) + ": " + perr.what};
  std::vector<JsonValue> single;
  const std::vector<JsonValue>* keys = nullptr;
  if (const JsonValue* list = doc->find("keys")) {
    if (!list->isArray()) return Error{"\"keys\" must be an array"};
    keys = &list->array();
  } else if (doc->find("kty") != nullptr) {
    single.push_back(*doc);
    keys = &single;
  } else {
    return Error{"expected a JWKS document ({\"keys\": [...]}) or a single JWK"};
  }
  JwkSet set;
  for (size_t i = 0; i < keys->size(); ++i) {
    const JsonValue& k = (*keys)[i];
    const std::string* use = k.findString("use");
    if (use != nullptr && *use != "sig") continue;
    auto key = parseKey(k);
    if (!key.ok()) return Error{describeKey(k, i) + " " + key.error()};
    set.keys.push_back(std::move(*key));
  }
  if (set.keys.empty()) return Error{"holds no signing key"};
  return set;
}

}  // namespace switchyard::auth
