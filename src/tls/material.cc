#include "tls/material.h"

namespace switchyard::tls {
namespace {

std::string at(const config::Config& cfg, config::Mark m) {
  return cfg.path + ":" + std::to_string(m.line) + ":" + std::to_string(m.col) + ": ";
}

}  // namespace

std::vector<Material::LoadedCertificate> Material::certificates() const {
  std::vector<LoadedCertificate> out;
  for (const auto& [name, l] : listeners) {
    for (const auto& c : l.certificates) out.push_back({"listener " + name, c});
  }
  for (const auto& [name, c] : clusters) {
    for (const auto& info : c.certificates) out.push_back({"cluster " + name, info});
  }
  return out;
}

Result<MaterialPtr> loadMaterial(const config::Config& cfg) {
  auto m = std::make_shared<Material>();
  for (const auto& l : cfg.listeners) {
    if (!l.tls) continue;
    auto made = makeListenerTls(*l.tls);
    if (!made.ok()) return Error{at(cfg, l.tls->mark) + "listener " + l.name + ": " + made.error()};
    m->listeners[l.name] = std::move(*made);
  }
  for (const auto& c : cfg.clusters) {
    if (!c.tls) continue;
    auto made = makeClusterTls(*c.tls);
    if (!made.ok()) return Error{at(cfg, c.tls->mark) + "cluster " + c.name + ": " + made.error()};
    m->clusters[c.name] = std::move(*made);
  }
  return MaterialPtr(std::move(m));
}

}  // namespace switchyard::tls
