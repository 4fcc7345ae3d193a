#include "tls/server_context.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "tls/ticket_keys.h"

namespace switchyard::tls {
namespace {

// RFC 9113 9.2.2: HTTP/2 over TLS 1.2 uses AEAD ciphers with ephemeral key exchange.
constexpr const char* kDefaultCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

constexpr unsigned char kSessionIdContext[] = "switchyard";

// RFC 7301 server selection: "h2" if the client offers it, else "http/1.1"
// (gRPC-Web and REST/JSON clients), otherwise a fatal no_application_protocol
// alert. A client that sends no ALPN at all speaks HTTP/1.1 (as nghttpx has it).
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kProtocols[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  int rc = SSL_select_next_proto(&selected, outlen, kProtocols, sizeof kProtocols, in, inlen);
  if (rc != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// The named contexts of a listener, owned by its default context (freed with
// it through ex_data, so a handshake still running after a reload is safe).
struct SniTable {
  std::unordered_map<std::string, SSL_CTX*> by_name;  // exact names and "*.rest"
  std::vector<SSL_CTX*> owned;
  ~SniTable() {
    for (SSL_CTX* c : owned) SSL_CTX_free(c);
  }
};

void freeSniTable(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<SniTable*>(ptr);
}

int sniIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, freeSniTable);
  return index;
}

int onServerName(SSL* ssl, int*, void* arg) {
  const auto* table = static_cast<const SniTable*>(arg);
  const char* sent = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (sent == nullptr || table == nullptr) return SSL_TLSEXT_ERR_OK;
  std::string name(sent);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto it = table->by_name.find(name);
  if (it == table->by_name.end()) {
    size_t dot = name.find('.');
    // name.substr(dot).insert(0, "*"), not "*" + ...: GCC 12 -O3 -Wrestrict (bug 105329).
    if (dot != std::string::npos) it = table->by_name.find(name.substr(dot).insert(0, 1, '*'));
  }
  if (it != table->by_name.end()) SSL_set_SSL_CTX(ssl, it->second);
  return SSL_TLSEXT_ERR_OK;  // unknown names get the default certificate
}

Status loadCrl(SSL_CTX* ctx, const std::string& path) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
  if (lookup == nullptr || X509_load_crl_file(lookup, path.c_str(), X509_FILETYPE_PEM) <= 0) {
    return Error{path + ": cannot load CRL: " + lastOpenSslError()};
  }
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return {};
}

Status configureClientAuth(SSL_CTX* ctx, const config::TlsSpec& t) {
  if (t.client_ca.empty()) return {};
  if (SSL_CTX_load_verify_locations(ctx, t.client_ca.c_str(), nullptr) != 1) {
    return Error{t.client_ca + ": cannot load client CA bundle: " + lastOpenSslError()};
  }
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(t.client_ca.c_str());
  if (names == nullptr) return Error{t.client_ca + ": no CA certificate in client CA bundle"};
  SSL_CTX_set_client_CA_list(ctx, names);
  int mode = SSL_VERIFY_NONE;
  if (t.client_auth == "optional") mode = SSL_VERIFY_PEER;
  if (t.client_auth == "require") mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx, mode, nullptr);
  SSL_CTX_set_verify_depth(ctx, static_cast<int>(t.verify_depth));
  if (!t.crl.empty()) return loadCrl(ctx, t.crl);
  return {};
}

// Everything but the certificates; the same for every context of a listener.
Result<SharedSslCtx> baseContext(const config::TlsSpec& t, const TicketKeysPtr& ticket_keys) {
  auto made = newContext(TLS_server_method());
  if (!made.ok()) return made;
  SSL_CTX* ctx = made->get();
  SSL_CTX_set_min_proto_version(ctx, protocolVersion(t.min_version));
  SSL_CTX_set_max_proto_version(ctx, protocolVersion(t.max_version));
  // HTTP/2 frames delimit themselves, so a peer that closes without
  // close_notify is an ordinary close, not a fatal alert that would also drop
  // its session from the cache.
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
  std::string ciphers = t.ciphers.empty() ? kDefaultCiphers : t.ciphers;
  if (SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) {
    return Error{"tls.ciphers: no usable cipher in \"" + ciphers + "\""};
  }
  if (!t.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx, t.ciphersuites.c_str()) != 1) {
    return Error{"tls.ciphersuites: no usable ciphersuite in \"" + t.ciphersuites + "\""};
  }
  if (!t.groups.empty() && SSL_CTX_set1_groups_list(ctx, t.groups.c_str()) != 1) {
    return Error{"tls.groups: unknown group in \"" + t.groups + "\""};
  }
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1);
  if (t.session_resumption) {
    // Without operator keys, a server-side session cache (TLS 1.3 stateful
    // tickets, TLS 1.2 session ids): no keys to manage, entries expire after
    // session_timeout. With session_ticket_keys, stateless tickets under
    // those keys (valid across reloads and across proxies sharing the keys,
    // for session_timeout); the cache still serves TLS 1.2 clients that do
    // not support tickets.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_timeout(
        ctx, static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(t.session_timeout).count()));
    if (ticket_keys) {
      if (Status st = useTicketKeys(ctx, ticket_keys); !st.ok()) return Error{st.error()};
    }
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
  }
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_alpn_select_cb(ctx, selectAlpn, nullptr);
  if (Status st = configureClientAuth(ctx, t); !st.ok()) return Error{st.error()};
  return made;
}

Status loadPair(SSL_CTX* ctx, const std::string& cert, const std::string& key,
                std::vector<CertificateInfo>& infos) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    return Error{cert + ": cannot load certificate: " + lastOpenSslError()};
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Error{key + ": cannot load private key: " + keyError(cert)};
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return Error{key + ": private key does not match certificate " + cert};
  }
  auto info = describeCertificateFile(cert);
  if (!info.ok()) return Error{info.error()};
  infos.push_back(*info);
  return {};
}

}  // namespace

bool serverNameMatches(const std::string& pattern, const std::string& name) {
  if (pattern.rfind("*.", 0) != 0) return pattern == name;
  size_t dot = name.find('.');
  return dot != std::string::npos && dot > 0 && name.compare(dot, std::string::npos, pattern, 1) == 0;
}

Result<ListenerTls> makeListenerTls(const config::TlsSpec& spec) {
  ListenerTls out;
  TicketKeysPtr ticket_keys;
  if (spec.session_resumption && !spec.session_ticket_keys.empty()) {
    auto loaded = loadTicketKeys(spec.session_ticket_keys);
    if (!loaded.ok()) return Error{loaded.error()};
    ticket_keys = *loaded;
  }
  auto def = baseContext(spec, ticket_keys);
  if (!def.ok()) return Error{def.error()};
  if (Status st = loadPair(def->get(), spec.cert, spec.key, out.certificates); !st.ok()) {
    return Error{st.error()};
  }
  // Certificates listing the same names share one context (ECDSA + RSA).
  std::map<std::vector<std::string>, SslCtxPtr> groups;
  for (const auto& c : spec.certificates) {
    if (c.server_names.empty()) {
      if (Status st = loadPair(def->get(), c.cert, c.key, out.certificates); !st.ok()) {
        return Error{st.error()};
      }
      continue;
    }
    std::vector<std::string> names = c.server_names;
    std::sort(names.begin(), names.end());
    auto& slot = groups[names];
    if (!slot) {
      auto made = baseContext(spec, ticket_keys);
      if (!made.ok()) return Error{made.error()};
      SSL_CTX_up_ref(made->get());
      slot.reset(made->get());
    }
    if (Status st = loadPair(slot.get(), c.cert, c.key, out.certificates); !st.ok()) {
      return Error{st.error()};
    }
  }
  if (!groups.empty()) {
    auto table = std::make_unique<SniTable>();
    for (auto& [names, ctx] : groups) {
      for (const auto& n : names) table->by_name[n] = ctx.get();
      table->owned.push_back(ctx.release());
    }
    SSL_CTX_set_tlsext_servername_callback(def->get(), onServerName);
    SSL_CTX_set_tlsext_servername_arg(def->get(), table.get());
    SSL_CTX_set_ex_data(def->get(), sniIndex(), table.release());
  }
  out.ctx = *def;
  return out;
}

}  // namespace switchyard::tls
