#include "tls/peer_identity.h"

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "tls/context.h"

namespace switchyard::tls {
namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

std::string subjectOf(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "";
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len > 0 ? len : 0));
  BIO_free(bio);
  return out;
}

void readSans(X509* cert, PeerIdentity& id) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_URI && n->type != GEN_DNS && n->type != GEN_EMAIL) continue;
    const ASN1_IA5STRING* s = n->d.ia5;
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                      static_cast<size_t>(ASN1_STRING_length(s)));
    if (n->type == GEN_URI) id.uris.push_back(std::move(value));
    if (n->type == GEN_DNS) id.dns.push_back(std::move(value));
    if (n->type == GEN_EMAIL) id.emails.push_back(std::move(value));
  }
  GENERAL_NAMES_free(names);
}

// Quotes a value for XFCC: wrapped in quotes, with '"' and '\' escaped.
std::string quoted(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string formatXfcc(const PeerIdentity& id) {
  std::string out = "Hash=" + id.sha256;
  out += ";Subject=" + quoted(id.subject);
  for (const auto& u : id.uris) out += ";URI=" + u;
  for (const auto& d : id.dns) out += ";DNS=" + d;
  return out;
}

std::shared_ptr<const PeerIdentity> verifiedPeer(SSL* ssl) {
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return nullptr;
  X509Ptr cert(SSL_get1_peer_certificate(ssl));
  if (!cert) return nullptr;
  auto id = std::make_shared<PeerIdentity>();
  id->subject = subjectOf(cert.get());
  readSans(cert.get(), *id);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &len) == 1) id->sha256 = hex(md, len);
  id->xfcc = formatXfcc(*id);
  return id;
}

}  // namespace switchyard::tls
