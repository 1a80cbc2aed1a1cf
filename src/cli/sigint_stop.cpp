// SigintStop (sigint_stop.h): one process-wide flag, set from the signal handler.
#include "cli/sigint_stop.h"

namespace eaq::cli {

namespace {
std::atomic<bool> g_stop{false};

extern "C" void on_sigint(int) {
  g_stop.store(true);
  signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}
}  // namespace

SigintStop::SigintStop() {
  g_stop.store(false);
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous_);
}

SigintStop::~SigintStop() { sigaction(SIGINT, &previous_, nullptr); }

const std::atomic<bool>* SigintStop::flag() const { return &g_stop; }

}  // namespace eaq::cli
