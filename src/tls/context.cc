#include "tls/context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <ctime>

namespace switchyard::tls {

Result<SharedSslCtx> newContext(const SSL_METHOD* method) {
  SharedSslCtx ctx(SSL_CTX_new(method), SSL_CTX_free);
  if (!ctx) return Error{"SSL_CTX_new: " + lastOpenSslError()};
  return ctx;
}

std::string lastOpenSslError() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

std::string keyError(const std::string& cert_path) {
  unsigned long code = ERR_peek_last_error();
  if (ERR_GET_LIB(code) == ERR_LIB_X509 && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH) {
    ERR_clear_error();
    return "private key does not match certificate " + cert_path;
  }
  return lastOpenSslError();
}

int protocolVersion(const std::string& v) { return v == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION; }

std::string negotiatedAlpn(const SSL* ssl) {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

void keepSessionResumable(SSL* ssl) {
  if (ssl != nullptr && SSL_is_init_finished(ssl)) {
    SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  }
}

Result<CertificateInfo> describeCertificateFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Error{path + ": cannot open"};
  X509Ptr cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!cert) return Error{path + ": no PEM certificate: " + lastOpenSslError()};
  CertificateInfo info;
  info.path = path;
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(cert.get()), buf, sizeof buf);
  info.subject = buf;
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) == 1) info.not_after = timegm(&tm);
  return info;
}

}  // namespace switchyard::tls
