// Authentication at the edge through the real daemon: JWTs signed at test
// time with RSA, EC and Ed25519 keys from a JWKS file, every refusal cause,
// require_claims, forwarded claims, API keys, a public route, and key files
// on --check-config and SIGHUP reload.
#include <fstream>
#include <sstream>

#include "../support/jwt_keys.h"
#include "ops_support.h"

namespace sytest::ops {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;
namespace jwt = sytest::jwt;

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Claims(const std::string& extra = "", int64_t exp_in = 600) {
  return "{\"iss\":\"https://issuer.test\",\"aud\":[\"other\",\"switchyard\"],\"sub\":\"alice\",\"exp\":" +
         std::to_string(Now() + exp_in) + extra + "}";
}

struct Call {
  grpc::Status status;
  std::multimap<std::string, std::string> echoed;  // metadata the backend saw (echoed back)
};

class AuthTest : public OpsTest {
 protected:
  void SetUp() override {
    rsa_ = jwt::makeKey("RS256", "rsa-1");
    ec_ = jwt::makeKey("ES256", "ec-1");
    ed_ = jwt::makeKey("EdDSA", "ed-1");
    WriteFile(dir_ / "jwks.json", jwt::jwks({&rsa_, &ec_, &ed_}));
    WriteFile(dir_ / "partner-keys.sha256",
              "# partner keys (SHA-256 hex)\n" +
                  jwt::sha256Hex("partner-secret-1") + "\n");
  }

  static std::string Top() {
    return "auth:\n"
           "  jwt_providers:\n"
           "    - name: corp\n"
           "      issuer: https://issuer.test\n"
           "      audiences: [switchyard]\n"
           "      jwks_file: jwks.json\n"
           "      clock_skew: 5s\n"
           "      forward_claims: { sub: x-echo-user }\n"
           "  api_key_sets:\n"
           "    - name: partners\n"
           "      header: x-api-key\n"
           "      keys_file: partner-keys.sha256\n";
  }

  ProxyConfig Config(const Backend& b) {
    ProxyConfig c;
    c.admin_address = Loopback();
    c.listeners.push_back({"public", Loopback(), "", ""});
    c.clusters = {{"echo", {b.address}, {}}};
    c.routes_yaml =
        "  - match: { service: switchyard.test.Echo, headers: [{ name: x-route, exact: billing }] }\n"
        "    cluster: echo\n"
        "    auth: { jwt: corp, require_claims: { scope: billing.write } }\n"
        "  - match: { service: switchyard.test.Echo, headers: [{ name: x-route, exact: partner }] }\n"
        "    cluster: echo\n"
        "    auth: { api_key: partners }\n"
        "  - match: { service: switchyard.test.Echo, headers: [{ name: x-route, exact: public }] }\n"
        "    cluster: echo\n"
        "    auth: none\n"
        "  - match: { service: switchyard.test.Echo }\n"
        "    cluster: echo\n"
        "    auth: { jwt: corp }\n";
    return c;
  }

  void Start() {
    backend_ = &StartBackend("backend");
    ASSERT_NO_FATAL_FAILURE(StartProxyWith(Config(*backend_), Top()));
    stub_ = EchoStub();
  }

  Call Unary(const std::multimap<std::string, std::string>& md) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    for (const auto& [k, v] : md) ctx.AddMetadata(k, v);
    EchoRequest req;
    req.set_echo_metadata(true);
    EchoResponse resp;
    Call out;
    out.status = stub_->Unary(&ctx, req, &resp);
    for (const auto& [k, v] : ctx.GetServerTrailingMetadata()) {
      out.echoed.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
    }
    return out;
  }
  Call Bearer(const std::string& token, std::multimap<std::string, std::string> md = {}) {
    md.emplace("authorization", "Bearer " + token);
    return Unary(md);
  }
  double Failures(const std::string& cause) {
    return Sum(Scrape(), "switchyard_auth_failures_total", {{"cause", cause}});
  }

  jwt::TestKey rsa_, ec_, ed_;
  Backend* backend_ = nullptr;
  std::unique_ptr<switchyard::test::Echo::Stub> stub_;
};

TEST_F(AuthTest, JwtOfEveryKeyTypeIsAcceptedAndBadOnesRefused) {
  ASSERT_NO_FATAL_FAILURE(Start());
  for (const auto* key : {&rsa_, &ec_, &ed_}) {
    Call c = Bearer(jwt::sign(*key, Claims()));
    EXPECT_TRUE(c.status.ok()) << key->alg << ": " << c.status.error_message();
  }
  EXPECT_EQ(backend_->Calls("Unary"), 3);

  jwt::TestKey stranger = jwt::makeKey("ES256", "ec-1");  // same kid, other key
  jwt::TestKey hmac = jwt::makeKey("HS256", "rsa-1");
  struct Case {
    std::string name, token, cause, message;
  };
  std::vector<Case> cases = {
      {"expired", jwt::sign(ec_, Claims("", -60)), "expired", "expired"},
      {"wrong audience",
       jwt::sign(ec_, "{\"iss\":\"https://issuer.test\",\"aud\":\"other\",\"exp\":" + std::to_string(Now() + 60) + "}"),
       "wrong_audience", "audience"},
      {"wrong issuer", jwt::sign(ec_, "{\"iss\":\"https://evil.test\",\"aud\":\"switchyard\"}"), "wrong_issuer",
       "issuer"},
      {"wrong signature", jwt::sign(stranger, Claims()), "bad_signature", "signature"},
      {"alg none", jwt::sign(ec_, Claims(), "none"), "bad_algorithm", "algorithm"},
      {"HS256 without opt-in", jwt::sign(hmac, Claims()), "bad_algorithm", "algorithm"},
      {"unknown kid", jwt::sign(jwt::makeKey("EdDSA", "ed-9"), Claims()), "unknown_key", "key"},
      {"garbage", "not-a-jwt", "malformed", "malformed"},
  };
  for (const auto& tc : cases) {
    Call c = Bearer(tc.token);
    EXPECT_EQ(c.status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << tc.name;
    EXPECT_NE(c.status.error_message().find(tc.message), std::string::npos)
        << tc.name << ": " << c.status.error_message();
    EXPECT_EQ(c.status.error_message().find(tc.token), std::string::npos) << tc.name << ": the token was echoed";
  }
  Call missing = Unary({});
  EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(missing.status.error_message().find("requires a JWT"), std::string::npos)
      << missing.status.error_message();
  Call basic = Unary({{"authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l"}});
  EXPECT_EQ(basic.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  EXPECT_EQ(backend_->Calls("Unary"), 3) << "a refused RPC reached the backend";
  for (const auto& tc : cases) EXPECT_GE(Failures(tc.cause), 1) << tc.cause;
  EXPECT_EQ(Failures("missing"), 1);
  EXPECT_EQ(Failures("malformed"), 2);
  EXPECT_EQ(Sum(Scrape(), "switchyard_auth_allowed_total"), 3);
}

TEST_F(AuthTest, RequireClaimsDeniesWithPermissionDenied) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Call read = Bearer(jwt::sign(rsa_, Claims(",\"scope\":\"billing.read\"")), {{"x-route", "billing"}});
  EXPECT_EQ(read.status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << read.status.error_message();
  EXPECT_NE(read.status.error_message().find("billing.write"), std::string::npos) << read.status.error_message();
  Call write = Bearer(jwt::sign(rsa_, Claims(",\"scope\":\"billing.read billing.write\"")), {{"x-route", "billing"}});
  EXPECT_TRUE(write.status.ok()) << write.status.error_message();
  Call listed = Bearer(jwt::sign(ed_, Claims(",\"scope\":[\"billing.write\"]")), {{"x-route", "billing"}});
  EXPECT_TRUE(listed.status.ok()) << listed.status.error_message();
  // Authentication comes first: a bad token on that route is UNAUTHENTICATED.
  Call none = Bearer(jwt::sign(ec_, Claims(), "none"), {{"x-route", "billing"}});
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(backend_->Calls("Unary"), 2);
  EXPECT_EQ(Failures("forbidden_claims"), 1);
}

// The verified `sub` reaches the backend in the configured header; a
// client-sent copy of that header does not, and neither does the token.
TEST_F(AuthTest, ForwardedClaimReplacesTheClientsCopyAndTheTokenIsStripped) {
  ASSERT_NO_FATAL_FAILURE(Start());
  for (int i = 0; i < 2; ++i) {  // the second call is served from the worker's token cache
    Call c = Bearer(jwt::sign(ec_, Claims()), {{"x-echo-user", "mallory"}});
    ASSERT_TRUE(c.status.ok()) << c.status.error_message();
    auto [from, to] = c.echoed.equal_range("x-echo-user");
    std::vector<std::string> users;
    for (auto it = from; it != to; ++it) users.push_back(it->second);
    EXPECT_EQ(users, std::vector<std::string>{"alice"});
    EXPECT_EQ(c.echoed.count("authorization"), 0u) << "the bearer token was forwarded";
  }
  // The public route forwards what the client sent: no provider runs there.
  Call pub = Unary({{"x-route", "public"}, {"x-echo-user", "mallory"}});
  ASSERT_TRUE(pub.status.ok()) << pub.status.error_message();
  auto user = pub.echoed.find("x-echo-user");
  ASSERT_NE(user, pub.echoed.end());
  EXPECT_EQ(user->second, "mallory");
}

TEST_F(AuthTest, ApiKeysAndThePublicRoute) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Call good = Unary({{"x-route", "partner"}, {"x-api-key", "partner-secret-1"}});
  EXPECT_TRUE(good.status.ok()) << good.status.error_message();
  EXPECT_EQ(good.echoed.count("x-api-key"), 0u) << "the API key was forwarded";
  Call bad = Unary({{"x-route", "partner"}, {"x-api-key", "partner-secret-2"}});
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(bad.status.error_message().find("partner-secret-2"), std::string::npos);
  Call missing = Unary({{"x-route", "partner"}});
  EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(missing.status.error_message().find("x-api-key"), std::string::npos) << missing.status.error_message();
  // A JWT does not open an API-key route.
  Call token = Bearer(jwt::sign(ec_, Claims()), {{"x-route", "partner"}});
  EXPECT_EQ(token.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  Call pub = Unary({{"x-route", "public"}});
  EXPECT_TRUE(pub.status.ok()) << pub.status.error_message();
  EXPECT_EQ(backend_->Calls("Unary"), 2);
  EXPECT_EQ(Failures("bad_api_key"), 1);
  EXPECT_EQ(Failures("missing"), 2);
}

// SIGHUP re-reads the JWKS file: a rotated key takes effect; a broken file
// fails the reload and the previous keys stay in force.
TEST_F(AuthTest, ReloadRereadsTheJwksFileAndKeepsTheOldKeysOnError) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(Bearer(jwt::sign(ec_, Claims())).status.ok());
  jwt::TestKey rotated = jwt::makeKey("ES256", "ec-2");
  ASSERT_EQ(Bearer(jwt::sign(rotated, Claims())).status.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  WriteFile(dir_ / "jwks.json", jwt::jwks({&rotated}));
  const double ok_before = ReloadCount("success");
  Reload(Config(*backend_), Top());
  ASSERT_TRUE(WaitUntil([&] { return ReloadCount("success") >= ok_before + 1; }, 10000ms, 50ms)) << ProxyErr();
  EXPECT_TRUE(Bearer(jwt::sign(rotated, Claims())).status.ok());
  // The old key is gone, even for a token the worker had cached.
  EXPECT_EQ(Bearer(jwt::sign(ec_, Claims())).status.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  WriteFile(dir_ / "jwks.json", "{\"keys\": [ {\"kty\": \"RSA\", \"n\": \"AQAB\" } ]}");
  const double failed_before = ReloadCount("failure");
  Reload(Config(*backend_), Top());
  ASSERT_TRUE(WaitUntil([&] { return ReloadCount("failure") >= failed_before + 1; }, 10000ms, 50ms));
  EXPECT_NE(ProxyErr().find("jwks_file"), std::string::npos) << ProxyErr();
  EXPECT_TRUE(Bearer(jwt::sign(rotated, Claims())).status.ok()) << "the rejected reload dropped the old keys";
}

TEST_F(AuthTest, CheckConfigReadsTheKeyFiles) {
  Backend& b = StartBackend("backend");
  WriteConfig(Config(b), Top());
  auto check = [&] {
    return RunCommand({ProxyBinary(), "--check-config", "--config", config_path().string()}, dir_.path(), 20000ms);
  };
  CommandResult good = check();
  EXPECT_EQ(good.exit_code, 0) << good.err;

  WriteFile(dir_ / "jwks.json", "{\"keys\": [");
  CommandResult bad = check();
  EXPECT_NE(bad.exit_code, 0);
  // The error points at the jwks_file key (line 6 of the file, after "jwks_file: ").
  EXPECT_NE(bad.err.find("switchyard.yaml:6:18: "), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("not valid JSON"), std::string::npos) << bad.err;

  WriteFile(dir_ / "jwks.json", jwt::jwks({&rsa_, &ec_, &ed_}));
  WriteFile(dir_ / "partner-keys.sha256", "0123\n");
  CommandResult bad_keys = check();
  EXPECT_NE(bad_keys.exit_code, 0);
  EXPECT_NE(bad_keys.err.find("keys_file"), std::string::npos) << bad_keys.err;
  EXPECT_NE(bad_keys.err.find("line 1"), std::string::npos) << bad_keys.err;

  WriteFile(dir_ / "partner-keys.sha256",
            jwt::sha256Hex("k") + "\n");
  std::string unknown = Top() + Config(b).ToYaml();
  unknown.replace(unknown.find("auth: { jwt: corp }"), 19, "auth: { jwt: nobody }");
  WriteFile(config_path(), unknown);
  CommandResult bad_ref = check();
  EXPECT_NE(bad_ref.exit_code, 0);
  EXPECT_NE(bad_ref.err.find("unknown JWT provider \"nobody\""), std::string::npos) << bad_ref.err;
}

// The access log names the authenticated subject (the JWT `sub`) in both
// formats, escaped; RPCs without an accepted caller log it empty.
class AuthAccessLogTest : public AuthTest, public ::testing::WithParamInterface<std::string> {
 protected:
  // The access-log lines holding every string of `want`, once `lines` lines are there.
  std::vector<std::string> LogLines(size_t lines, const std::vector<std::string>& want) {
    std::vector<std::string> all;
    WaitUntil(
        [&] {
          all.clear();
          std::istringstream in(ReadFile(access_log_));
          for (std::string l; std::getline(in, l);) all.push_back(l);
          return all.size() >= lines;
        },
        5000ms, 20ms);
    std::vector<std::string> out;
    for (const auto& l : all) {
      bool match = true;
      for (const auto& w : want) match = match && l.find(w) != std::string::npos;
      if (match) out.push_back(l);
    }
    return out;
  }
  std::string access_log_;
};

TEST_P(AuthAccessLogTest, SubjectOfTheVerifiedTokenIsLogged) {
  const bool json = GetParam() == "json";
  access_log_ = (dir_ / "access.log").string();
  backend_ = &StartBackend("backend");
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(
      Config(*backend_),
      Top() + "logging: { access_log: \"" + access_log_ + "\", access_log_format: " + GetParam() + " }\n"));
  stub_ = EchoStub();

  EXPECT_TRUE(Bearer(jwt::sign(rsa_, Claims())).status.ok());  // sub: alice
  // A sub the issuer chose with a quote, a space and a newline in it.
  std::string hostile = "{\"iss\":\"https://issuer.test\",\"aud\":\"switchyard\",\"sub\":\"eve\\\" x=\\\"1\\n\","
                        "\"exp\":" + std::to_string(Now() + 600) + "}";
  grpc::Status s = Bearer(jwt::sign(ec_, hostile)).status;
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Bearer("not-a-token").status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Unary({{"x-route", "public"}}).status.ok());

  const std::string ok = json ? "\"grpc_status\":0" : "grpc_status=0 ";
  const std::string unauth = json ? "\"grpc_status\":16" : "grpc_status=16 ";
  const std::string none = json ? "\"subject\":null}" : " subject=\"\"";
  EXPECT_EQ(LogLines(4, {}).size(), 4u) << "one line per RPC, the newline in the subject escaped\n"
                                        << ReadFile(access_log_);
  std::string all = ReadFile(access_log_);
  EXPECT_EQ(LogLines(4, {ok, json ? "\"subject\":\"alice\"}" : " subject=\"alice\""}).size(), 1u) << all;
  EXPECT_EQ(LogLines(4, {ok, json ? "\"subject\":\"eve\\\" x=\\\"1\\n\"}" : " subject=\"eve\\\" x=\\\"1\\x0a\""}).size(),
            1u)
      << all;
  EXPECT_EQ(LogLines(4, {unauth, none}).size(), 1u) << all;
  EXPECT_EQ(LogLines(4, {ok, none}).size(), 1u) << "the public route has no subject\n" << all;
}

INSTANTIATE_TEST_SUITE_P(Formats, AuthAccessLogTest, ::testing::Values("text", "json"));

}  // namespace
}  // namespace sytest::ops
