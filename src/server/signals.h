// Signal dispositions of the daemon. Handled on the main loop (server.cc):
// SIGHUP reload (and reopen logs), SIGUSR1 reopen logs, SIGTERM/SIGINT/SIGQUIT
// drain. Everything else that would end the process by default and is not a
// fault (SIGUSR2, SIGPIPE, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ,
// SIGIO, SIGPWR, SIGSTKFLT, the real-time signals) is ignored, so a stray
// kill -USR2 or a logrotate script written for another daemon causes no outage.
#pragma once

#include <vector>

namespace switchyard::server {

// The signals the main loop handles.
std::vector<int> handledSignals();
// Sets SIG_IGN for every signal listed above as ignored. Call once at startup.
void ignoreStraySignals();

}  // namespace switchyard::server
