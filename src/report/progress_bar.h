// ProgressBar: progress of a long run on stderr — a bar redrawn in place when stderr is a terminal,
// otherwise one plain line per step (logs and CI keep a readable record).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace eaq::report {

class ProgressBar {
 public:
  // total_steps > 0. enabled = false prints nothing.
  ProgressBar(std::int64_t total_steps, bool enabled);
  // Step `done` of the total has finished; `label` says what it was ("q4_0 repetition 2/5").
  void update(std::int64_t done, const std::string& label);
  // Ends the bar's line (terminal only).
  void finish();

 private:
  std::int64_t total_;
  bool enabled_;
  bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace eaq::report
