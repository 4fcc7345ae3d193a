// Listener TLS settings: certificates chosen by SNI (exact and wildcard
// names, ECDSA and RSA for the same names, the default for no or unknown
// SNI), ALPN h2 only, minimum version, session resumption, and what
// --check-config verifies of the TLS files.
#include <openssl/rand.h>

#include <ctime>

#include "ops_support.h"
#include "tls_support.h"

namespace sytest {
namespace {

class TlsSniTest : public TlsProxyTest {
 protected:
  std::string ListenerYaml(const std::string& extra) {
    return "workers: 2\n"
           "admin: { address: \"@ADMIN@\" }\n"
           "listeners:\n"
           "  - name: public\n"
           "    address: \"@LISTEN@\"\n"
           "    tls:\n"
           "      cert: \"" + pki_.Crt("server") + "\"\n"
           "      key: \"" + pki_.Key("server") + "\"\n"
           "      certificates:\n"
           "        - { cert: \"" + pki_.Crt("api") + "\", key: \"" + pki_.Key("api") +
           "\", server_names: [api.example.com, \"*.api.example.com\"] }\n"
           "        - { cert: \"" + pki_.Crt("api-rsa") + "\", key: \"" + pki_.Key("api-rsa") +
           "\", server_names: [api.example.com, \"*.api.example.com\"] }\n" + extra +
           "routes:\n"
           "  - match: { service: switchyard.test.Echo }\n"
           "    cluster: echo\n"
           "clusters:\n"
           "  - name: echo\n"
           "    endpoints: [\"" + backend_ + "\"]\n";
  }
  void Start(const std::string& extra = "") {
    backend_ = StartBackend("backend-a").address;
    StartYaml(ListenerYaml(extra));
  }
  ProbeResult Probe(const std::string& sni, const std::string& sigalgs = "") {
    ProbeOptions o;
    o.sni = sni;
    o.sigalgs = sigalgs;
    return TlsProbe(proxy_address(), o);
  }
  double Handshakes(const std::string& result) {
    return MetricValue("switchyard_tls_handshakes_total", {{"listener", "public"}, {"result", result}});
  }
  std::string backend_;
};

TEST_F(TlsSniTest, EachNameGetsItsCertificateAndNoSniGetsTheDefault) {
  Start();
  EXPECT_EQ(Probe("api.example.com").peer_cn, "api.example.com");
  EXPECT_EQ(Probe("v2.api.example.com").peer_cn, "api.example.com");
  EXPECT_EQ(Probe("API.Example.COM").peer_cn, "api.example.com");
  EXPECT_EQ(Probe("").peer_cn, "localhost");
  EXPECT_EQ(Probe("other.example.org").peer_cn, "localhost");
  EXPECT_EQ(Probe("a.b.api.example.com").peer_cn, "localhost");  // a wildcard covers one label
  // Clients that verify the name succeed for both names.
  EXPECT_TRUE(Unary(TlsChannel(proxy_address(), pki_.Pem("ca"), "", "", "api.example.com")).ok());
  EXPECT_TRUE(Unary(TlsChannel(proxy_address(), pki_.Pem("ca"), "", "", "localhost")).ok());
}

TEST_F(TlsSniTest, EcdsaAndRsaCertificatesForTheSameName) {
  Start();
  ProbeResult ec = Probe("api.example.com", "ECDSA+SHA256:rsa_pss_rsae_sha256");
  EXPECT_EQ(ec.peer_key, "EC");
  ProbeResult rsa = Probe("api.example.com", "rsa_pss_rsae_sha256:rsa_pkcs1_sha256");
  ASSERT_TRUE(rsa.handshake_ok) << rsa.error;
  EXPECT_EQ(rsa.peer_key, "RSA");
  EXPECT_EQ(rsa.peer_cn, "api.example.com rsa");
}

// HTTP/1.1 is served too (gRPC-Web and REST/JSON clients).
TEST_F(TlsSniTest, ClientOfferingOnlyHttp11GetsHttp11) {
  Start();
  ProbeOptions o;
  o.alpn = {"http/1.1"};
  ProbeResult r = TlsProbe(proxy_address(), o);
  ASSERT_TRUE(r.handshake_ok) << r.error;
  EXPECT_EQ(r.alpn, "http/1.1");
  o.alpn = {"http/1.1", "h2"};
  r = TlsProbe(proxy_address(), o);
  ASSERT_TRUE(r.handshake_ok) << r.error;
  EXPECT_EQ(r.alpn, "h2");  // preferred when offered
}

TEST_F(TlsSniTest, ClientOfferingOnlyUnknownProtocolsFailsTheHandshakeAndIsCounted) {
  Start();
  ProbeOptions o;
  o.alpn = {"spdy/3.1"};
  ProbeResult r = TlsProbe(proxy_address(), o);
  EXPECT_FALSE(r.handshake_ok);
  EXPECT_NE(r.error.find("no application protocol"), std::string::npos) << r.error;
  EXPECT_TRUE(WaitUntil([&] { return Handshakes("no_alpn") >= 1; }, 5000ms, 50ms)) << Metrics();
}

TEST_F(TlsSniTest, MinimumVersionRefusesOlderClients) {
  Start("      min_version: \"1.3\"\n");
  ProbeOptions o;
  o.tls12 = true;
  EXPECT_FALSE(TlsProbe(proxy_address(), o).handshake_ok);
  EXPECT_TRUE(Probe("").handshake_ok);
  EXPECT_TRUE(WaitUntil([&] { return Handshakes("protocol_version") >= 1; }, 5000ms, 50ms)) << Metrics();
  EXPECT_GE(MetricValue("switchyard_tls_connections_total", {{"listener", "public"}, {"version", "TLSv1.3"}}), 1);
}

TEST_F(TlsSniTest, SessionsAreResumedByDefault) {
  Start();
  for (bool tls12 : {false, true}) {
    SSL_SESSION* session = nullptr;
    ProbeOptions first;
    first.tls12 = tls12;
    first.session_out = &session;
    ASSERT_TRUE(TlsProbe(proxy_address(), first).handshake_ok);
    ASSERT_NE(session, nullptr);
    ProbeOptions second;
    second.tls12 = tls12;
    second.session = session;
    second.wait_for_close = true;  // read, so the close is not a reset under unread data
    ProbeResult r = TlsProbe(proxy_address(), second);
    SSL_SESSION_free(session);
    EXPECT_TRUE(r.handshake_ok) << r.error;
    EXPECT_TRUE(r.resumed) << (tls12 ? "TLS 1.2" : "TLS 1.3") << " session not resumed";
  }
}

TEST_F(TlsSniTest, ExpiryOfEveryLoadedCertificateIsExported) {
  Start();
  auto samples = ops::ParseMetrics(Metrics());
  auto expiry = ops::Select(samples, "switchyard_tls_cert_expiry_timestamp_seconds", {{"owner", "listener public"}});
  ASSERT_EQ(expiry.size(), 3u) << Metrics();
  const double now = static_cast<double>(std::time(nullptr));
  for (const auto& s : expiry) {
    EXPECT_GT(s.value, now);
    EXPECT_LT(s.value, now + 4 * 24 * 3600);
  }
}

// Operator ticket keys: a session resumes from its ticket alone (the reload
// builds new contexts, so no server-side cache survives it), for as long as
// the key that sealed it is listed; the first key seals the new tickets.
class TlsTicketTest : public TlsSniTest {
 protected:
  std::string Key(const std::string& name) {
    std::string bytes(80, '\0');
    EXPECT_EQ(RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), 80), 1);
    auto path = dir_.path() / (name + ".ticketkey");
    WriteFile(path, bytes);
    return path.string();
  }
  static std::string Keys(const std::vector<std::string>& paths) {
    std::string out = "      session_ticket_keys:\n";
    for (const auto& p : paths) out += "        - \"" + p + "\"\n";
    return out;
  }
  // A handshake offering `session` (null: none); the session it ends with.
  SSL_SESSION* Connect(bool tls12, SSL_SESSION* session, bool* resumed, const std::string& sni = "") {
    SSL_SESSION* out = nullptr;
    ProbeOptions o;
    o.sni = sni;
    o.tls12 = tls12;
    o.session = session;
    o.session_out = &out;
    ProbeResult r = TlsProbe(proxy_address(), o);
    EXPECT_TRUE(r.handshake_ok) << r.error;
    *resumed = r.resumed;
    return out;
  }
};

TEST_F(TlsTicketTest, TicketsResumeAcrossReloadsWhileTheirKeyIsListed) {
  const std::string k1 = Key("k1");
  const std::string k2 = Key("k2");
  Start(Keys({k1}));
  for (bool tls12 : {false, true}) {
    SCOPED_TRACE(tls12 ? "TLS 1.2" : "TLS 1.3");
    bool resumed = false;
    SSL_SESSION* under_k1 = Connect(tls12, nullptr, &resumed);
    ASSERT_NE(under_k1, nullptr);
    EXPECT_FALSE(resumed);
    EXPECT_EQ(SSL_SESSION_has_ticket(under_k1), 1);

    // A new key first, the old one still listed: the old ticket resumes and
    // is replaced by one under the new key.
    ReloadYaml(ListenerYaml(Keys({k2, k1})));
    SSL_SESSION* under_k2 = Connect(tls12, under_k1, &resumed);
    EXPECT_TRUE(resumed) << "a ticket under a listed key must resume after a reload";
    ASSERT_NE(under_k2, nullptr);

    // The old key dropped: its tickets fall back to a full handshake, the
    // renewed ticket still resumes.
    ReloadYaml(ListenerYaml(Keys({k2})));
    SSL_SESSION_free(Connect(tls12, under_k1, &resumed));
    EXPECT_FALSE(resumed) << "a ticket under an unlisted key must not resume";
    SSL_SESSION_free(Connect(tls12, under_k2, &resumed));
    EXPECT_TRUE(resumed) << "the ticket renewed under the first key must resume";
    SSL_SESSION_free(under_k1);
    SSL_SESSION_free(under_k2);
    ReloadYaml(ListenerYaml(Keys({k1})));  // the next round starts from k1 again
  }
  // Two resumptions per round, each counted by the listener.
  EXPECT_TRUE(WaitUntil([&] {
    return MetricValue("switchyard_tls_resumed_total", {{"listener", "public"}}) == 4;
  }, 5000ms, 20ms)) << Metrics();
}

// A name served by its own SNI context seals and opens tickets with the same keys.
TEST_F(TlsTicketTest, TicketsWorkForCertificatesChosenBySni) {
  const std::string k1 = Key("k1");
  Start(Keys({k1}));
  for (bool tls12 : {false, true}) {
    SCOPED_TRACE(tls12 ? "TLS 1.2" : "TLS 1.3");
    bool resumed = false;
    SSL_SESSION* session = Connect(tls12, nullptr, &resumed, "api.example.com");
    ASSERT_NE(session, nullptr);
    ReloadYaml(ListenerYaml(Keys({k1})));
    SSL_SESSION_free(Connect(tls12, session, &resumed, "api.example.com"));
    EXPECT_TRUE(resumed);
    SSL_SESSION_free(session);
  }
}

// Without ticket keys, resumption comes from the listener's session cache,
// which a reload replaces: the control for the test above.
TEST_F(TlsTicketTest, WithoutTicketKeysAReloadEndsResumption) {
  Start();
  bool resumed = false;
  SSL_SESSION* session = Connect(false, nullptr, &resumed);
  ASSERT_NE(session, nullptr);
  SSL_SESSION_free(Connect(false, session, &resumed));
  EXPECT_TRUE(resumed);
  ReloadYaml(ListenerYaml(""));
  SSL_SESSION_free(Connect(false, session, &resumed));
  EXPECT_FALSE(resumed);
  SSL_SESSION_free(session);
}

// --check-config loads the TLS files the way startup does.
class TlsCheckConfigTest : public TlsSniTest {
 protected:
  CommandResult Check(const std::string& yaml) {
    WriteFile(config_path(), Expand(yaml));
    return RunCommand({ProxyBinary(), "--check-config", "--config", config_path().string()}, dir_.path());
  }
};

TEST_F(TlsCheckConfigTest, KeyThatDoesNotMatchItsCertificateIsRejected) {
  backend_ = "127.0.0.1:1";
  std::string yaml = ListenerYaml("");
  CommandResult ok = Check(yaml);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  std::string bad = yaml;
  bad.replace(bad.find(pki_.Key("server")), pki_.Key("server").size(), pki_.Key("client"));
  CommandResult r = Check(bad);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("private key does not match certificate"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("switchyard.yaml:7:"), std::string::npos) << r.err;
}

TEST_F(TlsCheckConfigTest, ServerNameServedByTwoCertificatesIsRejected) {
  backend_ = "127.0.0.1:1";
  std::string yaml = ListenerYaml("");
  yaml.replace(yaml.find("server_names: [api.example.com, \"*.api.example.com\"] }\n        - { cert: \"" +
                         pki_.Crt("api-rsa")),
               std::string("server_names: [api.example.com, \"*.api.example.com\"]").size(),
               "server_names: [api.example.com]");
  CommandResult r = Check(yaml);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("server name \"api.example.com\" is already served"), std::string::npos) << r.err;
}

TEST_F(TlsCheckConfigTest, TicketKeyOfTheWrongSizeIsRejected) {
  backend_ = "127.0.0.1:1";
  WriteFile(dir_ / "short.key", std::string(79, 'k'));
  WriteFile(dir_ / "good.key", std::string(80, 'k'));
  std::string keys = "      session_ticket_keys: [\"" + (dir_ / "good.key").string() + "\"]\n";
  CommandResult ok = Check(ListenerYaml(keys));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  keys = "      session_ticket_keys: [\"" + (dir_ / "good.key").string() + "\", \"" +
         (dir_ / "short.key").string() + "\"]\n";
  CommandResult r = Check(ListenerYaml(keys));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("short.key: a session ticket key file must hold exactly 80 bytes"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("switchyard.yaml:7:"), std::string::npos) << r.err;
}

TEST_F(TlsCheckConfigTest, ClientCaThatIsNotPemIsRejected) {
  backend_ = "127.0.0.1:1";
  WriteFile(dir_ / "junk.pem", "not a certificate\n");
  std::string yaml = ListenerYaml("      client_ca: \"" + (dir_ / "junk.pem").string() + "\"\n      client_auth: require\n");
  CommandResult r = Check(yaml);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("junk.pem"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sytest
