// Ctrl-C as a request to stop between measured units (a bench repetition, an eval item): while a
// SigintStop is alive the first SIGINT sets its flag and restores the default action, so a second
// Ctrl-C ends the process at once. The previous handler comes back when the scope ends.
#pragma once

#include <signal.h>

#include <atomic>

namespace eaq::cli {

class SigintStop {
 public:
  SigintStop();
  ~SigintStop();
  SigintStop(const SigintStop&) = delete;
  SigintStop& operator=(const SigintStop&) = delete;

  const std::atomic<bool>* flag() const;
  bool requested() const { return flag()->load(); }

 private:
  struct sigaction previous_ {};
};

}  // namespace eaq::cli
