// Tests of core/thread_pool.h: every index is run exactly once whatever n and the thread count,
// exceptions from any chunk reach the caller and leave the pool usable, and jobs announced to
// workers that are polling and to workers that have blocked (after ThreadPool::kSpinNs) both run.
#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <thread>
#include <vector>

namespace eaq {
namespace {

// Runs parallel_for over n and checks that each index was visited exactly once.
void expect_each_index_once(ThreadPool& pool, std::size_t n) {
  std::vector<std::atomic<int>> visits(n);
  pool.parallel_for(n, [&](std::size_t begin, std::size_t end) {
    ASSERT_LE(begin, end);
    ASSERT_LE(end, n);
    for (std::size_t i = begin; i < end; ++i) visits[i].fetch_add(1);
  });
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(visits[i].load(), 1) << "index " << i << " of " << n;
}

TEST(ThreadPool, EveryIndexOnceForAnySizeAndThreadCount) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{4}, std::size_t{7},
                          std::size_t{64}, std::size_t{1001}}) {
      SCOPED_TRACE(testing::Message() << threads << " threads, n " << n);
      expect_each_index_once(pool, n);
    }
  }
}

TEST(ThreadPool, ZeroItemsCallsNothing) {
  ThreadPool pool(3);
  bool called = false;
  pool.parallel_for(0, [&](std::size_t, std::size_t) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ThreadPool, UsesTheWorkers) {
  ThreadPool pool(3);
  std::vector<std::thread::id> ids(3);
  pool.parallel_for(3, [&](std::size_t begin, std::size_t) { ids[begin] = std::this_thread::get_id(); });
  EXPECT_EQ(ids[0], std::this_thread::get_id());  // the caller takes the first chunk
  EXPECT_NE(ids[1], ids[0]);
  EXPECT_NE(ids[2], ids[0]);
  EXPECT_NE(ids[1], ids[2]);
}

// Thousands of back-to-back jobs: the polling path, where a lost or doubled job would show.
// Two threads poll (on a machine of two cores or more); more threads than cores block at once.
TEST(ThreadPool, ManyJobsBackToBack) {
  for (int threads : {2, 2 * static_cast<int>(std::thread::hardware_concurrency()) + 1}) {
    ThreadPool pool(threads);
    std::atomic<long long> total{0};
    constexpr int kJobs = 5000;
    for (int j = 0; j < kJobs; ++j) {
      pool.parallel_for(8, [&](std::size_t begin, std::size_t end) {
        total.fetch_add(static_cast<long long>(end - begin));
      });
    }
    EXPECT_EQ(total.load(), 8LL * kJobs) << threads << " threads";
  }
}

// Gaps longer than the polling time: the workers block in the kernel and must be woken.
TEST(ThreadPool, JobsAfterTheWorkersBlocked) {
  ThreadPool pool(2);
  const auto gap = std::chrono::nanoseconds(3 * ThreadPool::kSpinNs);
  for (int j = 0; j < 5; ++j) {
    std::this_thread::sleep_for(gap);
    expect_each_index_once(pool, 30);
  }
}

// A chunk slower than the polling time: the caller blocks waiting for it and must be woken.
TEST(ThreadPool, CallerWaitsForASlowWorker) {
  ThreadPool pool(2);
  std::atomic<int> done{0};
  pool.parallel_for(2, [&](std::size_t begin, std::size_t) {
    if (begin == 1) std::this_thread::sleep_for(std::chrono::nanoseconds(5 * ThreadPool::kSpinNs));
    done.fetch_add(1);
  });
  EXPECT_EQ(done.load(), 2);
}

TEST(ThreadPool, ExceptionFromAWorkerChunkReachesTheCaller) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.parallel_for(3,
                                 [](std::size_t begin, std::size_t) {
                                   if (begin == 2) throw std::runtime_error("chunk 2");
                                 }),
               std::runtime_error);
  expect_each_index_once(pool, 9);  // still usable
}

TEST(ThreadPool, ExceptionFromTheCallersChunkReachesTheCaller) {
  ThreadPool pool(2);
  std::atomic<int> others{0};
  EXPECT_THROW(pool.parallel_for(2,
                                 [&](std::size_t begin, std::size_t) {
                                   if (begin == 0) throw std::runtime_error("chunk 0");
                                   others.fetch_add(1);
                                 }),
               std::runtime_error);
  EXPECT_EQ(others.load(), 1);  // the worker's chunk still ran to its end before the rethrow
  expect_each_index_once(pool, 5);
}

TEST(ThreadPool, DestroyedWhileWorkersPollOrBlock) {
  { ThreadPool polling(2); expect_each_index_once(polling, 4); }  // destroyed right after a job
  {
    ThreadPool blocked(2);
    expect_each_index_once(blocked, 4);
    std::this_thread::sleep_for(std::chrono::nanoseconds(3 * ThreadPool::kSpinNs));
  }
  SUCCEED();  // reaching here means the destructor joined every worker
}

}  // namespace
}  // namespace eaq
