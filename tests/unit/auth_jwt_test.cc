// JWT verification with keys generated at test time: every algorithm, the
// algorithm/key binding (no `none`, no HS256 without opt-in, no confusion of
// an RSA public key with an HMAC secret), the registered claims, claim
// requirements, JWKS parsing and the per-worker token cache.
#include <gtest/gtest.h>

#include <cctype>

#include "../support/jwt_keys.h"
#include "auth/api_keys.h"
#include "auth/base64url.h"
#include "auth/jwk.h"
#include "auth/jwt.h"
#include "auth/token_cache.h"
#include "common/json_value.h"
#include "metrics/auth_series.h"

namespace switchyard::auth {
namespace {

constexpr int64_t kNow = 1'800'000'000;

std::string claims(const std::string& extra = "") {
  return "{\"iss\":\"https://issuer.test\",\"aud\":\"switchyard\",\"sub\":\"alice\",\"exp\":" +
         std::to_string(kNow + 300) + extra + "}";
}

JwtRules rules() {
  JwtRules r;
  r.issuer = "https://issuer.test";
  r.audiences = {"switchyard"};
  r.clock_skew_seconds = 60;
  return r;
}

JwkSet keysOf(const std::vector<const sytest::jwt::TestKey*>& keys) {
  auto set = parseJwks(sytest::jwt::jwks(keys));
  EXPECT_TRUE(set.ok()) << set.error();
  return set.ok() ? std::move(*set) : JwkSet{};
}

class JwtAlgorithmTest : public ::testing::TestWithParam<std::string> {};

TEST_P(JwtAlgorithmTest, VerifiesItsOwnSignatureAndRejectsAnother) {
  auto key = sytest::jwt::makeKey(GetParam(), "k1");
  auto other = sytest::jwt::makeKey(GetParam(), "k1");
  JwtRules r = rules();
  r.allow_hs256 = true;
  JwkSet set = keysOf({&key});
  auto ok = verifyJwt(sytest::jwt::sign(key, claims()), set, r, kNow);
  ASSERT_TRUE(ok.ok()) << ok.failure.message;
  EXPECT_EQ(ok.token->subject, "alice");
  EXPECT_EQ(ok.token->expires, kNow + 300);
  if (GetParam() != "HS256") {  // the HMAC test key is fixed, so `other` is the same key
    auto bad = verifyJwt(sytest::jwt::sign(other, claims()), set, r, kNow);
    EXPECT_EQ(bad.failure.cause, AuthCause::BadSignature);
  }
  // A flipped signature byte never verifies.
  std::string token = sytest::jwt::sign(key, claims());
  token[token.size() - 3] = token[token.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifyJwt(token, set, r, kNow).ok());
}

INSTANTIATE_TEST_SUITE_P(Algorithms, JwtAlgorithmTest,
                         ::testing::Values("RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA", "HS256"));

TEST(JwtTest, AlgNoneAndUnknownAlgorithmsAreRefused) {
  auto key = sytest::jwt::makeKey("ES256", "k1");
  JwkSet set = keysOf({&key});
  auto none = verifyJwt(sytest::jwt::sign(key, claims(), "none"), set, rules(), kNow);
  EXPECT_EQ(none.failure.cause, AuthCause::BadAlgorithm);
  auto odd = verifyJwt(sytest::jwt::sign(key, claims(), "PS256"), set, rules(), kNow);
  EXPECT_EQ(odd.failure.cause, AuthCause::BadAlgorithm);
}

TEST(JwtTest, Hs256NeedsTheOptIn) {
  auto key = sytest::jwt::makeKey("HS256", "h1");
  JwkSet set = keysOf({&key});
  auto refused = verifyJwt(sytest::jwt::sign(key, claims()), set, rules(), kNow);
  EXPECT_EQ(refused.failure.cause, AuthCause::BadAlgorithm);
}

// The classic confusion: an HS256 token whose HMAC secret is the RSA public
// key's text. HS256 only ever uses `oct` keys, so there is no key to try.
TEST(JwtTest, RsaKeyIsNeverUsedAsAnHmacSecret) {
  auto rsa = sytest::jwt::makeKey("RS256", "k1");
  JwkSet set = keysOf({&rsa});
  JwtRules r = rules();
  r.allow_hs256 = true;
  sytest::jwt::TestKey fake;
  fake.alg = "HS256";
  fake.kid = "k1";
  fake.secret = rsa.jwk;
  auto out = verifyJwt(sytest::jwt::sign(fake, claims()), set, r, kNow);
  EXPECT_EQ(out.failure.cause, AuthCause::UnknownKey);
  // And an ES256 token cannot be checked with an RSA key either.
  auto ec = sytest::jwt::makeKey("ES256", "k1");
  EXPECT_EQ(verifyJwt(sytest::jwt::sign(ec, claims()), set, rules(), kNow).failure.cause, AuthCause::UnknownKey);
}

TEST(JwtTest, KidSelectsTheKey) {
  auto a = sytest::jwt::makeKey("EdDSA", "a");
  auto b = sytest::jwt::makeKey("EdDSA", "b");
  JwkSet set = keysOf({&a, &b});
  EXPECT_TRUE(verifyJwt(sytest::jwt::sign(b, claims()), set, rules(), kNow).ok());
  auto c = sytest::jwt::makeKey("EdDSA", "c");
  EXPECT_EQ(verifyJwt(sytest::jwt::sign(c, claims()), set, rules(), kNow).failure.cause, AuthCause::UnknownKey);
}

TEST(JwtTest, RegisteredClaims) {
  auto key = sytest::jwt::makeKey("ES256", "k1");
  JwkSet set = keysOf({&key});
  auto check = [&](const std::string& body, int64_t now = kNow) {
    return verifyJwt(sytest::jwt::sign(key, body), set, rules(), now);
  };
  EXPECT_EQ(check(claims(), kNow + 300 + 61).failure.cause, AuthCause::Expired);
  EXPECT_TRUE(check(claims(), kNow + 300 + 59).ok());  // within the clock skew
  std::string nbf = ",\"nbf\":" + std::to_string(kNow + 100);
  EXPECT_EQ(check("{\"iss\":\"https://issuer.test\",\"aud\":\"switchyard\"" + nbf + "}").failure.cause,
            AuthCause::NotYetValid);
  EXPECT_EQ(check("{\"iss\":\"https://evil.test\",\"aud\":\"switchyard\"}").failure.cause, AuthCause::WrongIssuer);
  EXPECT_EQ(check("{\"iss\":\"https://issuer.test\",\"aud\":\"other\"}").failure.cause, AuthCause::WrongAudience);
  EXPECT_EQ(check("{\"iss\":\"https://issuer.test\"}").failure.cause, AuthCause::WrongAudience);
  EXPECT_TRUE(check("{\"iss\":\"https://issuer.test\",\"aud\":[\"x\",\"switchyard\"]}").ok());
  EXPECT_EQ(check("{\"iss\":\"https://issuer.test\",\"aud\":\"switchyard\",\"exp\":\"soon\"}").failure.cause,
            AuthCause::Malformed);
}

TEST(JwtTest, MalformedTokens) {
  auto key = sytest::jwt::makeKey("ES256", "k1");
  JwkSet set = keysOf({&key});
  for (const char* bad : {"", "abc", "a.b", "a.b.c.d", "!!.e30.", "e30.e30.e30"}) {
    auto out = verifyJwt(bad, set, rules(), kNow);
    EXPECT_FALSE(out.ok()) << bad;
    EXPECT_EQ(out.failure.cause, AuthCause::Malformed) << bad;
  }
}

TEST(JwtTest, ClaimRequirements) {
  auto c = parseJson(R"({"scope":"billing.read billing.write","roles":["admin","dev"],"tier":"gold","n":7})");
  ASSERT_TRUE(c);
  EXPECT_TRUE(claimAllows(*c, "scope", "billing.write"));
  EXPECT_FALSE(claimAllows(*c, "scope", "billing"));
  EXPECT_TRUE(claimAllows(*c, "roles", "dev"));
  EXPECT_FALSE(claimAllows(*c, "roles", "root"));
  EXPECT_TRUE(claimAllows(*c, "tier", "gold"));
  EXPECT_FALSE(claimAllows(*c, "missing", "x"));
  EXPECT_EQ(claimAsText(*c, "tier"), "gold");
  EXPECT_EQ(claimAsText(*c, "n"), "7");
  EXPECT_FALSE(claimAsText(*c, "roles"));
  auto ctl = parseJson(R"({"sub":"a\r\nx-injected: 1"})");
  ASSERT_TRUE(ctl);
  EXPECT_FALSE(claimAsText(*ctl, "sub"));  // never a header value with control characters
}

TEST(JwkTest, RefusesUnusableKeys) {
  EXPECT_FALSE(parseJwks("not json").ok());
  EXPECT_FALSE(parseJwks("{\"keys\":[]}").ok());
  EXPECT_FALSE(parseJwks("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}").ok());  // too short
  EXPECT_FALSE(parseJwks("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}]}").ok());
  EXPECT_FALSE(parseJwks("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2hvcnQ\"}]}").ok());  // short secret
  auto key = sytest::jwt::makeKey("ES256", "k1");
  std::string with_private = key.jwk.substr(0, key.jwk.size() - 1) + ",\"d\":\"AAAA\"}";
  auto priv = parseJwks("{\"keys\":[" + with_private + "]}");
  ASSERT_FALSE(priv.ok());
  EXPECT_NE(priv.error().find("private"), std::string::npos) << priv.error();
  // An EC point not on the curve.
  std::string off = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + sytest::jwt::b64url(std::string(32, '\1')) +
                    "\",\"y\":\"" + sytest::jwt::b64url(std::string(32, '\2')) + "\"}";
  EXPECT_FALSE(parseJwks(off).ok());
  // A single JWK is accepted, and encryption keys are skipped.
  EXPECT_TRUE(parseJwks(key.jwk).ok());
  auto enc = sytest::jwt::makeKey("ES256", "e");
  std::string enc_jwk = enc.jwk.substr(0, enc.jwk.size() - 1) + ",\"use\":\"enc\"}";
  auto set = parseJwks("{\"keys\":[" + enc_jwk + "," + key.jwk + "]}");
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_EQ(set->keys.size(), 1u);
}

TEST(Base64UrlTest, StrictDecoding) {
  EXPECT_EQ(decodeBase64Url("aGk"), "hi");
  EXPECT_EQ(decodeBase64Url(""), "");
  EXPECT_FALSE(decodeBase64Url("aGk="));
  EXPECT_FALSE(decodeBase64Url("a+k"));
  EXPECT_FALSE(decodeBase64Url("aGl"));  // non-zero trailing bits
  EXPECT_FALSE(decodeBase64Url("a"));
}

TEST(TokenCacheTest, EvictsTheLeastRecentlyUsed) {
  TokenCache cache(2);
  auto t = std::make_shared<VerifiedToken>();
  cache.insert("a", t);
  cache.insert("b", t);
  EXPECT_NE(cache.find("a"), nullptr);  // a is now the most recent
  cache.insert("c", t);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("b"), nullptr);
  EXPECT_NE(cache.find("a"), nullptr);
  EXPECT_NE(cache.find("c"), nullptr);
  cache.erase("a");
  EXPECT_EQ(cache.find("a"), nullptr);
  TokenCache off(0);
  off.insert("a", t);
  EXPECT_EQ(off.find("a"), nullptr);
}

TEST(TokenCacheTest, ExpiryIsCheckedOnEveryHit) {
  VerifiedToken t;
  t.expires = kNow;
  EXPECT_FALSE(checkTokenTime(t, 0, kNow));
  EXPECT_EQ(checkTokenTime(t, 0, kNow + 1)->cause, AuthCause::Expired);
  EXPECT_FALSE(checkTokenTime(t, 5, kNow + 5));
}

TEST(ApiKeySetTest, ParsesDigestsAndMatchesKeys) {
  std::string hex = toHex(ApiKeySet::digest("secret-key-1"));
  auto set = ApiKeySet::parse("# partners\n\n" + hex + "\n  " + toHex(ApiKeySet::digest("k2")) + "  \r\n");
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_EQ(set->size(), 2u);
  EXPECT_TRUE(set->contains(ApiKeySet::digest("secret-key-1")));
  EXPECT_FALSE(set->contains(ApiKeySet::digest("secret-key-2")));
  auto bad = ApiKeySet::parse(hex + "\nnot-a-digest\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("line 2"), std::string::npos) << bad.error();
  EXPECT_FALSE(ApiKeySet::parse("# nothing\n").ok());
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_TRUE(ApiKeySet::parse(upper)->contains(ApiKeySet::digest("secret-key-1")));
}

TEST(AuthCauseTest, MetricLabelsMatchTheCauses) {
  for (size_t i = 0; i < kAuthCauseCount; ++i) {
    EXPECT_STREQ(authCauseName(static_cast<AuthCause>(i)),
                 metrics::authFailureLabel(static_cast<metrics::AuthFailure>(i)));
  }
  static_assert(kAuthCauseCount == metrics::kAuthFailureCount);
}

}  // namespace
}  // namespace switchyard::auth
