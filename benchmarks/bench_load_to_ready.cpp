// Load-to-ready benchmark: seconds from nothing to an engine that can take a prompt (map the
// model file, read its config and vocabulary, resolve and convert weights, allocate the KV cache),
// split into its stages. Median of N runs; the file is in the page cache after the first.
//   bench_load_to_ready MODEL [runs=5] [threads=2]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "model/model_loader.h"
#include "runtime/engine.h"
#include "tokenizer/gguf_tokenizer.h"

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_load_to_ready MODEL [runs=5] [threads=2]\n");
    return 2;
  }
  const std::string path = argv[1];
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  try {
    std::vector<double> open_s, tokenizer_s, total_s;
    for (int r = 0; r < runs; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      auto loaded = eaq::model::load_model(path);
      open_s.push_back(seconds_since(t0));
      t0 = std::chrono::steady_clock::now();
      if (loaded->gguf() != nullptr) auto tok = eaq::tokenizer::load_tokenizer_from_gguf(*loaded->gguf());
      tokenizer_s.push_back(seconds_since(t0));
      loaded.reset();
      t0 = std::chrono::steady_clock::now();
      eaq::runtime::EngineConfig config;
      config.model_path = path;
      config.n_threads = threads;
      config.context_size = 2048;
      auto engine = eaq::runtime::load_engine(config);
      total_s.push_back(seconds_since(t0));
    }
    fmt::print("{{\"model\": \"{}\", \"runs\": {}, \"threads\": {}, \"open_and_validate_s\": {:.4f}, "
               "\"tokenizer_s\": {:.4f}, \"load_to_ready_s\": {:.4f}}}\n",
               path, runs, threads, median(open_s), median(tokenizer_s), median(total_s));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_load_to_ready: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
