// ThreadPool: static chunking; a generation counter announces each parallel_for. Waiting threads
// poll for kSpinNs, then block on a condition variable (see thread_pool.h).
#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

#include "core/error.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace eaq {

namespace {

std::pair<std::size_t, std::size_t> chunk_of(std::size_t n, int n_chunks, int index) {
  std::size_t per = n / n_chunks, extra = n % n_chunks;
  std::size_t begin = index * per + std::min<std::size_t>(index, extra);
  std::size_t end = begin + per + (static_cast<std::size_t>(index) < extra ? 1 : 0);
  return {begin, end};
}

void cpu_relax() {
#if defined(__x86_64__) || defined(_M_X64)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// Polls `done` for up to `spin_ns`, true once it holds. Past the first microseconds each round
// also yields the core, so a thread that has work (ours or another process's) gets it when there
// are more runnable threads than cores.
template <class Done>
bool spin_until(std::int64_t spin_ns, const Done& done) {
  if (spin_ns <= 0) return done();
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    const auto waited_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
    if (waited_ns >= spin_ns) return done();
    if (waited_ns >= 5'000) std::this_thread::yield();
  }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(std::max(1, n_threads)),
      // More threads than cores: a polling thread would hold a core that a working one needs.
      spin_ns_(static_cast<unsigned>(n_threads_) <= std::max(1u, std::thread::hardware_concurrency()) ? kSpinNs : 0) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
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

void ThreadPool::run_chunk(int index) {
  try {
    auto [b, e] = chunk_of(job_n_, n_threads_, index);
    if (b < e) (*job_)(b, e);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!first_error_) first_error_ = std::current_exception();
  }
}

void ThreadPool::parallel_for(std::size_t n,
                              const std::function<void(std::size_t, std::size_t)>& fn) {
  if (n == 0) return;
  if (n_threads_ == 1 || n == 1) {
    fn(0, n);
    return;
  }
  job_ = &fn;
  job_n_ = n;
  first_error_ = nullptr;  // no worker runs between jobs, so no lock is needed
  pending_.store(n_threads_ - 1);
  generation_.fetch_add(1);  // seq_cst: ordered before the read of sleepers_ below
  if (sleepers_.load() > 0) {
    { std::lock_guard<std::mutex> lock(mutex_); }
    work_ready_.notify_all();
  }
  run_chunk(0);
  if (!spin_until(spin_ns_, [this] { return pending_.load(std::memory_order_acquire) == 0; })) {
    std::unique_lock<std::mutex> lock(mutex_);
    sleepers_.fetch_add(1);
    work_done_.wait(lock, [this] { return pending_.load() == 0; });
    sleepers_.fetch_sub(1);
  }
  job_ = nullptr;
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    error = first_error_;
  }
  if (error) std::rethrow_exception(error);
}

void ThreadPool::worker_loop(int worker_index) {
  std::uint64_t seen = 0;
  for (;;) {
    const auto ready = [&] { return stopping_.load() || generation_.load(std::memory_order_acquire) != seen; };
    if (!spin_until(spin_ns_, ready)) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      work_ready_.wait(lock, ready);
      sleepers_.fetch_sub(1);
    }
    if (stopping_.load()) return;
    seen = generation_.load(std::memory_order_acquire);
    run_chunk(worker_index);
    if (pending_.fetch_sub(1) == 1 && sleepers_.load() > 0) {
      { std::lock_guard<std::mutex> lock(mutex_); }
      work_done_.notify_all();
    }
  }
}

}  // namespace eaq
