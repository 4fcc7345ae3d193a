#include "server/certificate_report.h"

#include <chrono>

#include "common/log.h"
#include "metrics/tls_metrics.h"

namespace switchyard::server {
namespace {

constexpr int64_t kExpiryWarning = 14 * 24 * 3600;  // seconds

}  // namespace

void publishCertificates(const config::Config& cfg, const tls::Material& material) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::vector<metrics::TlsMetrics::Certificate> certs;
  for (const auto& c : material.certificates()) {
    certs.push_back({c.owner, c.info.path, c.info.subject, c.info.not_after});
    if (c.info.not_after < now) {
      log::main().warn("{}: certificate {} ({}) has expired", c.owner, c.info.path, c.info.subject);
    } else if (c.info.not_after - now < kExpiryWarning) {
      log::main().warn("{}: certificate {} ({}) expires in {} hours", c.owner, c.info.path,
                       c.info.subject, (c.info.not_after - now) / 3600);
    }
  }
  metrics::TlsMetrics::instance().setCertificates(std::move(certs));
  for (const auto& c : cfg.clusters) {
    if (c.tls && !c.tls->verify) {
      log::main().warn("cluster {}: tls.verify is false: backend certificates are not checked",
                       c.name);
    }
  }
}

}  // namespace switchyard::server
