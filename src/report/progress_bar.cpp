// Progress on stderr with the elapsed time and a linear estimate of what remains.
#include "report/progress_bar.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace eaq::report {

ProgressBar::ProgressBar(std::int64_t total_steps, bool enabled)
    : total_(std::max<std::int64_t>(total_steps, 1)),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(std::int64_t done, const std::string& label) {
  if (!enabled_) return;
  done = std::clamp<std::int64_t>(done, 0, total_);
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double remaining_s = done > 0 ? elapsed_s * static_cast<double>(total_ - done) / static_cast<double>(done) : 0;
  if (!tty_) {
    fmt::print(stderr, "[eaq] {}/{} {} ({:.0f} s elapsed, ~{:.0f} s left)\n", done, total_, label, elapsed_s, remaining_s);
    return;
  }
  constexpr std::int64_t kWidth = 30;
  const std::int64_t filled = kWidth * done / total_;
  fmt::print(stderr, "\r\033[K[{}{}] {}/{} {:.0f} s, ~{:.0f} s left  {}", std::string(filled, '='),
             std::string(kWidth - filled, ' '), done, total_, elapsed_s, remaining_s, label);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (enabled_ && tty_ && drawn_) fmt::print(stderr, "\n");
  drawn_ = false;
}

}  // namespace eaq::report
