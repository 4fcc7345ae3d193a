// What the server tells operators about its TLS material after each load:
// certificate expiry as metrics (switchyard_tls_cert_expiry_timestamp_seconds),
// a warning for certificates that expire soon or have expired, and one for
// clusters that do not verify their backends.
#pragma once

#include "config/spec.h"
#include "tls/material.h"

namespace switchyard::server {

void publishCertificates(const config::Config& cfg, const tls::Material& material);

}  // namespace switchyard::server
