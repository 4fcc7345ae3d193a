// systemd readiness notification (sd_notify(3)) for Type=notify units.
//
// Every function is a no-op returning false when NOTIFY_SOCKET is unset (not
// started by systemd, or started by Docker/Kubernetes), so callers need no
// special casing. They never block for long: sd_notify sends one datagram.
//
// Sequence the daemon follows:
//   startup done (listeners bound, admin up)      -> ready()
//   SIGHUP received                               -> reloading() ... ready()
//   SIGTERM received, drain begins                -> stopping()
//   any time                                      -> status("draining, 12 RPCs left")
#pragma once

#include <string_view>

namespace switchyard::server::notify {

// True if NOTIFY_SOCKET is set, i.e. a service manager listens.
bool enabled();

// READY=1: startup or a reload has finished.
bool ready();

// RELOADING=1 plus MONOTONIC_USEC=<now>, which systemd >= 253 requires for
// Type=notify-reload and older versions ignore. Follow with ready() once the
// new configuration is live (or the reload failed and the old one stays).
bool reloading();

// STOPPING=1: shutdown (drain) has begun.
bool stopping();

// STATUS=<text>: one line shown by `systemctl status`. Newlines are replaced
// by spaces so the text cannot inject other assignments.
bool status(std::string_view text);

}  // namespace switchyard::server::notify
