#include "server/signals.h"

#include <csignal>

namespace switchyard::server {

std::vector<int> handledSignals() { return {SIGHUP, SIGUSR1, SIGTERM, SIGINT, SIGQUIT}; }

void ignoreStraySignals() {
  for (int sig : {SIGUSR2, SIGPIPE, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGIO, SIGPWR,
                  SIGSTKFLT}) {
    std::signal(sig, SIG_IGN);
  }
  // SIGRTMIN skips the real-time signals the C library keeps for itself.
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) std::signal(sig, SIG_IGN);
}

}  // namespace switchyard::server
