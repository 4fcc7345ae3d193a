#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <optional>

#include "common/access_log_target.h"

namespace switchyard::log {
namespace {

constexpr const char* kMainPattern = "[%Y-%m-%d %H:%M:%S.%e] [%l] %v";

spdlog::logger& ensureMain() {
  // Never destroyed: other threads may hold main()'s reference at any time,
  // including during static destruction. The holder stays reachable from this
  // static, so leak checkers do not report it.
  static std::shared_ptr<spdlog::logger>* holder = [] {
    auto* h = new std::shared_ptr<spdlog::logger>(std::make_shared<spdlog::logger>(
        "main", std::make_shared<spdlog::sinks::stderr_sink_mt>()));
    spdlog::logger& m = **h;
    m.set_pattern(kMainPattern);
    m.set_level(spdlog::level::info);
    m.flush_on(spdlog::level::warn);
    // spdlog::info(...) and spdlog::get("main") reach the same logger.
    spdlog::drop("main");
    spdlog::set_default_logger(*h);
    return h;
  }();
  return **holder;
}

std::optional<spdlog::level::level_enum> levelFromName(const std::string& name) {
  using spdlog::level::level_enum;
  if (name == "trace") return level_enum::trace;
  if (name == "debug") return level_enum::debug;
  if (name == "info") return level_enum::info;
  if (name == "warn") return level_enum::warn;
  if (name == "error") return level_enum::err;
  if (name == "critical") return level_enum::critical;
  if (name == "off") return level_enum::off;
  return std::nullopt;
}

}  // namespace

bool init(const std::string& level, const std::string& access_log_target) {
  spdlog::logger& m = ensureMain();
  if (!setLevel(level)) {
    m.warn("unknown log level \"{}\", keeping \"{}\"", level,
           spdlog::level::to_string_view(m.level()));
  }
  Status st = AccessLogTarget::instance().open(access_log_target);
  if (!st.ok()) {
    m.error("{}; keeping the previous access log", st.error());
    return false;
  }
  return true;
}

bool reopen() {
  Status st = AccessLogTarget::instance().reopen();
  if (!st.ok()) {
    ensureMain().error("{}; the access log keeps its old file", st.error());
    return false;
  }
  return true;
}

bool setLevel(const std::string& level) {
  auto lvl = levelFromName(level);
  if (!lvl) return false;
  ensureMain().set_level(*lvl);
  return true;
}

spdlog::logger& main() { return ensureMain(); }

}  // namespace switchyard::log
