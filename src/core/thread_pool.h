// ThreadPool: a fixed set of workers for data-parallel loops (the calling thread takes part).
#pragma once

#include <condition_variable>
#include <cstddef>
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

 private:
  void worker_loop(int worker_index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  const std::function<void(std::size_t, std::size_t)>* job_ = nullptr;
  std::size_t job_n_ = 0;
  std::size_t generation_ = 0;
  int pending_ = 0;
  bool stopping_ = false;
  std::exception_ptr first_error_;
};

}  // namespace eaq
