#include "server/notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdlib>
#include <string>

namespace switchyard::server::notify {

namespace {

bool send(const std::string& state) {
  if (!enabled()) return false;
  // unset_environment = 0: later notifications (reload, stop) need the socket too.
  return sd_notify(0, state.c_str()) > 0;
}

unsigned long long monotonicUsec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL +
         static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
}

}  // namespace

bool enabled() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  return socket != nullptr && *socket != '\0';
}

bool ready() { return send("READY=1"); }

bool reloading() {
  return send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonicUsec()));
}

bool stopping() { return send("STOPPING=1"); }

bool status(std::string_view text) {
  std::string line = "STATUS=";
  for (char c : text) line += (c == '\n' || c == '\r') ? ' ' : c;
  return send(line);
}

}  // namespace switchyard::server::notify
