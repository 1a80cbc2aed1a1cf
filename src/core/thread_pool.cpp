// ThreadPool: static chunking; one generation counter wakes every worker per parallel_for.
#include "core/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <string>

#include "core/error.h"

namespace eaq {

namespace {
std::pair<std::size_t, std::size_t> chunk_of(std::size_t n, int n_chunks, int index) {
  std::size_t per = n / n_chunks, extra = n % n_chunks;
  std::size_t begin = index * per + std::min<std::size_t>(index, extra);
  std::size_t end = begin + per + (static_cast<std::size_t>(index) < extra ? 1 : 0);
  return {begin, end};
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (auto& t : workers_) t.join();
}

int ThreadPool::default_threads() {
  if (const char* env = std::getenv("EAQ_THREADS")) {
    int n = std::atoi(env);
    if (n <= 0) fail("EAQ_THREADS='{}' is not a positive integer", env);
    return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

void ThreadPool::parallel_for(std::size_t n,
                              const std::function<void(std::size_t, std::size_t)>& fn) {
  if (n == 0) return;
  if (n_threads_ == 1 || n == 1) {
    fn(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    job_n_ = n;
    pending_ = n_threads_ - 1;
    first_error_ = nullptr;
    ++generation_;
  }
  work_ready_.notify_all();
  std::exception_ptr own_error;
  try {
    auto [b, e] = chunk_of(n, n_threads_, 0);
    if (b < e) fn(b, e);
  } catch (...) {
    own_error = std::current_exception();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  work_done_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
  if (own_error) std::rethrow_exception(own_error);
  if (first_error_) std::rethrow_exception(first_error_);
}

void ThreadPool::worker_loop(int worker_index) {
  std::size_t seen_generation = 0;
  for (;;) {
    const std::function<void(std::size_t, std::size_t)>* job;
    std::size_t n;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return stopping_ || generation_ != seen_generation; });
      if (stopping_) return;
      seen_generation = generation_;
      job = job_;
      n = job_n_;
    }
    try {
      auto [b, e] = chunk_of(n, n_threads_, worker_index);
      if (b < e) (*job)(b, e);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!first_error_) first_error_ = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) work_done_.notify_one();
    }
  }
}

}  // namespace eaq
