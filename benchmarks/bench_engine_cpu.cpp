// Engine benchmark: prefill and decode tok/s of a model at given thread counts and weight
// precisions, beside the STREAM-triad memory bandwidth measured in the same run. Decode of one
// token reads every weight matrix once, so bytes/token × tok/s against the triad bound says how
// close decode is to the memory-bandwidth limit. One JSON object per line on stdout.
//   bench_engine_cpu MODEL [--threads 1,2] [--weights f32,bf16] [-p 128] [-n 64]
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/memory_bandwidth.h"
#include "runtime/engine.h"

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Bytes one decode step reads: every matrix once (the embedding only one row), plus the KV cache.
double decode_bytes_per_token(const eaq::model::DecoderLm& lm, std::int64_t n_past, eaq::DType kv_dtype) {
  auto matrix_bytes = [](const eaq::kernels::WeightRef& w) {
    return static_cast<double>(w.row_stride_bytes) * static_cast<double>(w.rows);
  };
  const auto& w = lm.weights();
  double bytes = matrix_bytes(w.output) + static_cast<double>(w.token_embedding.row_stride_bytes);
  for (const auto& l : w.layers) {
    for (const auto* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) bytes += matrix_bytes(*m);
  }
  bytes += 2.0 * lm.n_layers() * n_past * lm.n_kv_heads() * lm.head_dim() * eaq::traits(kv_dtype).block_bytes;
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2) eaq::fail("usage: bench_engine_cpu MODEL [--threads 1,2] [--weights f32,bf16] [-p 128] [-n 64]");
    std::string model_path = argv[1];
    std::string threads_list = "1,2", weights_list = "f32,bf16";
    int n_prompt = 128, n_decode = 64;
    for (int i = 2; i + 1 < argc; i += 2) {
      std::string flag = argv[i], value = argv[i + 1];
      if (flag == "--threads") threads_list = value;
      else if (flag == "--weights") weights_list = value;
      else if (flag == "-p") n_prompt = std::stoi(value);
      else if (flag == "-n") n_decode = std::stoi(value);
      else eaq::fail("unknown flag {}", flag);
    }
    for (const auto& threads_text : split(threads_list)) {
      const int threads = std::stoi(threads_text);
      eaq::ThreadPool pool(threads);
      const double triad = eaq::kernels::measure_triad_bandwidth_bytes_per_s(pool, std::size_t{512} << 20);
      for (const auto& weights : split(weights_list)) {
        eaq::runtime::EngineConfig config;
        config.model_path = model_path;
        config.n_threads = threads;
        config.context_size = n_prompt + n_decode + 8;
        // f32/f16/bf16 convert as before; other names are precision schemes or "native".
        if (auto d = eaq::dtype_from_name(weights); d && (*d == eaq::DType::F32 || *d == eaq::DType::F16 || *d == eaq::DType::BF16)) {
          config.weight_dtype = d;
        } else if (weights != "auto") {
          config.precision = weights;
        }
        auto engine = eaq::runtime::load_engine(config);
        // Prompt: token ids cycling through the vocabulary (speed does not depend on the ids).
        std::vector<std::int32_t> prompt(n_prompt);
        for (int i = 0; i < n_prompt; ++i) prompt[i] = static_cast<std::int32_t>((i * 7919 + 1) % engine.lm->vocab_size());
        engine.session->prefill(std::vector<std::int32_t>(prompt.begin(), prompt.begin() + 8));  // warm-up
        engine.session->reset();
        auto t0 = std::chrono::steady_clock::now();
        auto logits = engine.session->prefill(prompt);
        const double prefill_s = seconds_since(t0);
        std::int32_t token = static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        const std::int64_t mid_past = n_prompt + n_decode / 2;
        t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n_decode; ++i) {
          auto l = engine.session->decode(token);
          token = static_cast<std::int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
        }
        const double decode_s = seconds_since(t0);
        const double decode_tps = n_decode / decode_s;
        const double bytes = decode_bytes_per_token(*engine.lm, mid_past, eaq::DType::F32);
        fmt::print("{{\"engine\": \"eaq\", \"model\": \"{}\", \"weights\": \"{}\", \"threads\": {}, \"prompt_tokens\": {}, "
                   "\"decode_tokens\": {}, \"prefill_tokens_per_s\": {:.2f}, \"decode_tokens_per_s\": {:.2f}, "
                   "\"decode_bytes_per_token\": {:.0f}, \"decode_bandwidth_bytes_per_s\": {:.4g}, "
                   "\"triad_bandwidth_bytes_per_s\": {:.4g}, \"decode_fraction_of_triad\": {:.3f}}}\n",
                   model_path, weights, threads, n_prompt, n_decode, n_prompt / prefill_s, decode_tps, bytes,
                   bytes * decode_tps, triad, bytes * decode_tps / triad);
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_engine_cpu: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
