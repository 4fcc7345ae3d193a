// The verified client certificate of a downstream connection, read once after
// the handshake: its SANs and subject (matched by routes' allowed_sans) and
// the x-forwarded-client-cert element the proxy may add for backends.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <openssl/ssl.h>

namespace switchyard::tls {

struct PeerIdentity {
  std::string subject;            // RFC 2253, e.g. "CN=billing,O=prod"
  std::vector<std::string> uris;  // URI SANs ("spiffe://prod/ns/billing/sa/api")
  std::vector<std::string> dns;   // DNS SANs
  std::vector<std::string> emails;
  std::string sha256;             // hex digest of the DER certificate
  // Envoy's format: Hash=...;Subject="...";URI=...;DNS=...
  std::string xfcc;
  // What the access log shows: the first URI SAN, else the subject.
  const std::string& display() const { return uris.empty() ? subject : uris.front(); }
};

// The identity of the peer's certificate if it presented one and it verified;
// null otherwise.
std::shared_ptr<const PeerIdentity> verifiedPeer(SSL* ssl);

// Envoy's x-forwarded-client-cert element for `id` (also in id.xfcc).
std::string formatXfcc(const PeerIdentity& id);

}  // namespace switchyard::tls
