// ThreadPool: a fixed set of workers for data-parallel loops (the calling thread takes part).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace eaq {

class ThreadPool {
 public:
  // n_threads counts the calling thread: ThreadPool(1) runs everything inline.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return n_threads_; }

  // Calls fn(begin, end) over [0, n) split into contiguous chunks, one per thread, and waits.
  // The first exception thrown by any chunk is rethrown here.
  void parallel_for(std::size_t n, const std::function<void(std::size_t, std::size_t)>& fn);

  // Default thread count: EAQ_THREADS if set, else the hardware concurrency.
  static int default_threads();

  // How long a thread waiting for work (a worker) or for the others to finish (the caller) polls
  // before it blocks in the kernel. A decode step calls parallel_for hundreds of times a token,
  // microseconds apart; waking a blocked thread costs tens of microseconds each time. A pool of
  // more threads than the machine has cores does not poll.
  static constexpr std::int64_t kSpinNs = 200'000;

 private:
  void worker_loop(int worker_index);
  void run_chunk(int index);

  int n_threads_;
  std::int64_t spin_ns_;  // kSpinNs, or 0 when the pool has more threads than there are cores
  std::vector<std::thread> workers_;
  // The job: written by the caller before it publishes a new generation (release), read by the
  // workers after they see it (acquire).
  const std::function<void(std::size_t, std::size_t)>* job_ = nullptr;
  std::size_t job_n_ = 0;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> pending_{0};  // workers still running the current job
  std::atomic<bool> stopping_{false};
  // Blocking: a thread counts itself in sleepers_ (under mutex_) before it re-checks its condition
  // and waits; whoever changes that condition notifies under mutex_ only when it sees a sleeper.
  std::atomic<int> sleepers_{0};
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  std::exception_ptr first_error_;  // under mutex_
};

}  // namespace eaq
