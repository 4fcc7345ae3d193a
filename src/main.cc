// switchyard: a gRPC-aware L7 load-balancing proxy.
// Wiring only: flags, logging, then the Server.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/log.h"
#include "config/loader.h"
#include "event/loop.h"
#include "server/server.h"
#include "server/startup_check.h"

namespace {

// Where systemd units, the container image and the docs expect the file.
constexpr const char* kDefaultConfig = "/etc/switchyard/switchyard.yaml";

constexpr const char* kUsage =
    "usage: switchyard [--config FILE] [--log-level LEVEL]\n"
    "       switchyard --check-config [--config FILE] [--log-level LEVEL]\n"
    "       switchyard --version\n"
    "\n"
    "  --config FILE       YAML configuration (default /etc/switchyard/switchyard.yaml;\n"
    "                      see docs/configuration.md)\n"
    "  --check-config      run every startup step short of binding sockets (load the\n"
    "                      file, certificates and keys, build TLS contexts, check the\n"
    "                      flags) and exit: 0 valid, 1 invalid, 2 bad flags\n"
    "  --log-level LEVEL   trace|debug|info|warn|error|critical|off (overrides logging.level)\n"
    "  --version           print the version and exit\n"
    "\n"
    "Signals: SIGHUP reloads the configuration and reopens the access log;\n"
    "SIGUSR1 reopens the access log; SIGTERM/SIGINT/SIGQUIT drain and exit (a second\n"
    "one exits at once); SIGUSR2, SIGPIPE and other signals that would end the\n"
    "process are ignored.\n";

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::string log_level;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "switchyard: %s needs a value\n%s", flag, kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--config" || arg == "-c") {
      config_path = value("--config");
    } else if (arg.rfind("--config=", 0) == 0) {
      config_path = arg.substr(9);
    } else if (arg == "--check-config") {
      check_only = true;
    } else if (arg == "--log-level") {
      log_level = value("--log-level");
    } else if (arg.rfind("--log-level=", 0) == 0) {
      log_level = arg.substr(12);
    } else if (arg == "--version") {
      std::printf("switchyard %s\n", SY_VERSION);
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "switchyard: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (config_path.empty()) {
    config_path = kDefaultConfig;
    if (::access(config_path.c_str(), R_OK) != 0) {
      std::fprintf(stderr, "switchyard: no --config given and the default %s cannot be read: %s\n",
                   kDefaultConfig, std::strerror(errno));
      return 1;
    }
  }
  if (!log_level.empty() && !switchyard::config::isLogLevel(log_level)) {
    std::fprintf(stderr, "switchyard: unknown log level '%s' for --log-level\n%s", log_level.c_str(),
                 kUsage);
    return 2;
  }
  if (check_only) return switchyard::server::checkConfig(config_path);
  switchyard::log::init(log_level.empty() ? "info" : log_level, "stdout");
  switchyard::event::initThreading();
  switchyard::server::Server server(config_path, log_level);
  return server.run();
}
