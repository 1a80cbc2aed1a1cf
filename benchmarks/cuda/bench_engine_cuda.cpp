// bench_engine_cuda: eaq's CUDA engine end to end (batch 1, a P-token prompt, N new greedy
// tokens) on published model shapes with random weights, per precision; beside it, in the same
// process and on the same GPU, the two ceilings the figures are read against: a device-to-device
// copy (HBM bandwidth) and a cuBLAS f16 GEMM (tensor-core peak). Energy per token comes from the
// energy module (NVML counter, idle power measured first and subtracted). --energy-s 0 measures no
// energy (no idle baseline, no windows): the J/token columns print "-" and the JSON has null. (A
// window of one decode stretch, a few ms, is shorter than the counter's updates: it had read
// negative net joules.)
//
//   bench_engine_cuda [--shape NAME]... [--precision f16|bf16|i8_ch|i4s_g128|...]... [--prompt 512]
//                     [--new 128] [--repeat 3] [--energy-s 3] [--jsonl FILE] [--sampled]
//   bench_engine_cuda --model PATH --ids 1,2,3 --new 64 [--weights f16] [--logits FILE]
//       (parity mode: greedy tokens of a model file as JSON; the prompt's last logits to FILE)
//
// --sampled adds, per row, decode as `eaq generate` runs it with llama.cpp's default sampling chain
// (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, repetition penalty 1.1, seed 1): a Session,
// one token back to the host a step, the token picked on the GPU (Session::decode_and_sample)
// against the logits copied to the host and sampled there, in the same process; wall-clock tok/s
// of the n-1 decode steps, and whether the two picked the same tokens (they draw the same numbers).
//
// Each row also checks that its CUDA graphs reproduce their kernels launched one by one: the decode
// graph of several steps a launch (the same greedy tokens as one step a launch) and the prefill's
// graph (the same last logits, bit for bit, as the prefill launched kernel by kernel). A mismatch
// is printed as NO in its row and fails the run (exit 1) after every row.
//
// Shapes (from the models' published config.json): llama2-7b, deepseek-coder-1.3b,
// r1-distill-qwen-1.5b. Random weights: the speed of a memory-bound decode does not depend on
// the values; every row says "synthetic".
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/half.h"
#include "energy/energy_window.h"
#include "energy/meter_set.h"
#include "energy/nvml_meter.h"
#include "kernels/cuda/cuda_check.h"
#include "engine_ceilings.h"
#include "model_shapes.h"
#include "model/cuda_decoder_lm.h"
#include "model/decoder_builder.h"
#include "model/model_loader.h"
#include "quant/scheme_registry.h"
#include "runtime/kv_cache.h"
#include "runtime/sampler.h"
#include "runtime/session.h"

namespace {

using namespace eaq;

using bench::elapsed_s;
using bench::measure_copy_bandwidth_gbs;
using bench::measure_gemm_tflops;
using bench::measure_projection_gemms_s;
using bench::Shape;
using bench::shapes;

// Random weights for one shape in one dtype: one pool of rows per input width, every matrix of
// that width pointing into it (the values repeat across layers; the bytes read do not).
struct RandomWeights {
  model::DecoderSpec spec;
  model::DecoderWeights weights;
  std::map<std::int64_t, std::vector<std::uint8_t>> pools;  // cols → packed rows
  std::vector<float> norm_ones, bias;
  std::vector<std::uint8_t> embedding;  // f16 for every precision: read one row a token
};

std::vector<std::uint8_t> random_rows(DType dtype, std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
  const std::size_t row_b = row_bytes(dtype, static_cast<std::size_t>(cols));
  std::vector<std::uint8_t> out(row_b * static_cast<std::size_t>(rows));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> row(static_cast<std::size_t>(cols));
  // A block of 64 distinct random rows, repeated: generating billions of normals would take
  // longer than the benchmark.
  const std::int64_t distinct = std::min<std::int64_t>(rows, 64);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::uint8_t* dst = out.data() + static_cast<std::size_t>(r) * row_b;
    if (r >= distinct) {
      std::memcpy(dst, out.data() + static_cast<std::size_t>(r % distinct) * row_b, row_b);
      continue;
    }
    for (auto& v : row) v = normal(rng);
    if (dtype == DType::F32) {
      std::memcpy(dst, row.data(), row_b);
    } else if (dtype == DType::F16 || dtype == DType::BF16) {
      auto* h = reinterpret_cast<std::uint16_t*>(dst);
      for (std::int64_t c = 0; c < cols; ++c) h[c] = dtype == DType::F16 ? f32_to_f16(row[c]) : f32_to_bf16(row[c]);
    } else {
      quant::quantize_row(dtype, row.data(), dst, static_cast<std::size_t>(cols));
    }
  }
  return out;
}

RandomWeights make_random_weights(const Shape& s, DType dtype, std::int64_t context) {
  RandomWeights rw;
  auto& spec = rw.spec;
  spec.architecture = s.architecture;
  spec.n_layers = s.layers;
  spec.hidden_size = s.hidden;
  spec.intermediate_size = s.inter;
  spec.n_heads = s.heads;
  spec.n_kv_heads = s.kv_heads;
  spec.head_dim = s.hidden / s.heads;
  spec.vocab_size = s.vocab;
  spec.context_length = context;
  spec.rms_norm_eps = 1e-6f;
  spec.rope_layout = kernels::RopeLayout::kNeox;
  for (std::int64_t i = 0; i < spec.head_dim / 2; ++i) {
    spec.rope_inv_freq_global.push_back(
        static_cast<float>(1.0 / std::pow(s.rope_theta, 2.0 * static_cast<double>(i) / static_cast<double>(spec.head_dim))));
  }
  const std::int64_t hd = spec.head_dim, q_w = s.heads * hd, kv_w = s.kv_heads * hd;
  const std::int64_t rows_h = std::max({q_w, kv_w, s.hidden, s.inter, s.vocab});
  rw.pools[s.hidden] = random_rows(dtype, rows_h, s.hidden, 1);
  rw.pools[s.inter] = random_rows(dtype, s.hidden, s.inter, 2);
  rw.norm_ones.assign(static_cast<std::size_t>(std::max(s.hidden, hd)), 1.0f);
  rw.bias.assign(static_cast<std::size_t>(q_w + 2 * kv_w), 0.01f);
  auto ref = [&](std::int64_t rows, std::int64_t cols) {
    return kernels::make_weight_ref(dtype, rows, cols, rw.pools.at(cols).data());
  };
  rw.embedding = random_rows(DType::F16, s.vocab, s.hidden, 3);
  rw.weights.token_embedding = kernels::make_weight_ref(DType::F16, s.vocab, s.hidden, rw.embedding.data());
  rw.weights.final_norm = rw.norm_ones.data();
  rw.weights.output = ref(s.vocab, s.hidden);
  for (std::int64_t l = 0; l < s.layers; ++l) {
    model::DecoderLayerWeights L;
    L.attn_norm = L.ffn_norm = rw.norm_ones.data();
    L.wq = ref(q_w, s.hidden);
    L.wk = ref(kv_w, s.hidden);
    L.wv = ref(kv_w, s.hidden);
    L.wo = ref(s.hidden, q_w);
    L.w_gate = ref(s.inter, s.hidden);
    L.w_up = ref(s.inter, s.hidden);
    L.w_down = ref(s.hidden, s.inter);
    if (s.qkv_bias) {
      L.bq = rw.bias.data();
      L.bk = rw.bias.data() + q_w;
      L.bv = rw.bias.data() + q_w + kv_w;
    }
    rw.weights.layers.push_back(L);
  }
  return rw;
}

struct Options {
  std::vector<std::string> shapes;
  std::vector<std::string> precisions;
  int prompt = 512;
  int n_new = 128;
  int repeat = 3;
  double energy_s = 3.0;
  std::string jsonl;
  bool sampled = false;
  // parity mode
  std::string model_path;
  std::vector<std::int32_t> ids;
  std::string weights = "f16";
  std::string logits_path;
};

std::vector<std::int32_t> parse_ids(const std::string& text) {
  std::vector<std::int32_t> ids;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    ids.push_back(static_cast<std::int32_t>(std::stol(text.substr(start, end - start))));
    start = end + 1;
  }
  return ids;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) fail("{} needs a value", a);
      return argv[++i];
    };
    if (a == "--shape") o.shapes.push_back(next());
    else if (a == "--precision") o.precisions.push_back(next());
    else if (a == "--prompt") o.prompt = std::stoi(next());
    else if (a == "--new") o.n_new = std::stoi(next());
    else if (a == "--repeat") o.repeat = std::stoi(next());
    else if (a == "--energy-s") o.energy_s = std::stod(next());
    else if (a == "--jsonl") o.jsonl = next();
    else if (a == "--sampled") o.sampled = true;
    else if (a == "--model") o.model_path = next();
    else if (a == "--ids") o.ids = parse_ids(next());
    else if (a == "--weights") o.weights = next();
    else if (a == "--logits") o.logits_path = next();
    else fail("unknown argument {}: see the header of benchmarks/cuda/bench_engine_cuda.cpp", a);
  }
  if (o.shapes.empty()) o.shapes = {"deepseek-coder-1.3b", "r1-distill-qwen-1.5b", "llama2-7b"};
  if (o.precisions.empty()) o.precisions = {"f16", "i8_ch", "i4s_g128"};
  if (o.prompt < 1 || o.n_new < 2 || o.repeat < 1) fail("--prompt >= 1, --new >= 2 and --repeat >= 1");
  if (!(o.energy_s >= 0.0)) fail("--energy-s is seconds of energy window, 0 for none: got {}", o.energy_s);
  return o;
}

// A J/token figure for the table: "-" where none was measured (NaN).
std::string measured_or_dash(double v) { return std::isfinite(v) ? fmt::format("{:.3f}", v) : std::string("-"); }
// The same for the JSON line: null where none was measured.
std::string json_number_or_null(double v) { return std::isfinite(v) ? fmt::format("{:.4f}", v) : std::string("null"); }

model::CudaModelOptions cuda_options(std::int64_t context) {
  model::CudaModelOptions c;
  c.max_positions = context;
  c.max_prefill_tokens = 512;
  const char* half_gemv = std::getenv("EAQ_CUDA_HALF_GEMV");
  c.half_gemv_from_kernels = half_gemv != nullptr && std::string(half_gemv) == "kernels";
  const char* prefill = std::getenv("EAQ_CUDA_PREFILL");
  c.split_half_activations = prefill != nullptr && std::string(prefill) == "split";
  return c;
}

// The last prompt position's logits through CudaDecoderLm::forward (the model keeps its own KV
// cache: the store only bounds the positions).
std::vector<float> last_prompt_logits(model::CudaDecoderLm& lm, const std::vector<std::int32_t>& prompt,
                                      std::int64_t context) {
  struct Bound : model::KvStore {
    std::int64_t n;
    explicit Bound(std::int64_t n_) : n(n_) {}
    kernels::KvRef layer(std::int64_t, std::int64_t) override { return {}; }
    std::int64_t max_positions() const override { return n; }
  } bound(context);
  std::vector<float> logits(static_cast<std::size_t>(lm.vocab_size()));
  model::TokenChunk chunk{prompt, 0, 0};
  lm.forward(std::span(&chunk, 1), bound, model::LogitsRows::kLastOfEachChunk, logits.data());
  return logits;
}

int run_parity(const Options& o) {
  if (o.ids.empty()) fail("--model needs --ids");
  std::shared_ptr<model::LoadedModel> loaded = model::load_model(o.model_path);
  std::map<std::string, model::TensorView, std::less<>> views;
  for (const auto& t : loaded->tensors()) views.emplace(t.name, model::TensorView{t.dtype, t.shape, t.data});
  model::TensorLookup lookup = [&views](std::string_view name) -> const model::TensorView* {
    auto it = views.find(name);
    return it == views.end() ? nullptr : &it->second;
  };
  model::EngineOptions eo;
  eo.n_threads = 4;
  auto d = dtype_from_name(o.weights);
  if (!d) fail("--weights {} is not a dtype", o.weights);
  eo.weight_dtype = *d;
  auto cpu = model::build_decoder_lm(loaded->config(), lookup, loaded, eo);
  const std::int64_t context = static_cast<std::int64_t>(o.ids.size()) + o.n_new + 8;
  model::CudaDecoderLm gpu(cpu->spec(), cpu->weights(), cuda_options(context));
  gpu.begin_greedy(o.ids);
  gpu.continue_greedy(o.n_new - 1);
  std::vector<std::int32_t> tokens = gpu.greedy_tokens(o.n_new);
  // The prompt's last logits on the GPU (Session-style path: prefill, logits copied back) and
  // on the CPU engine with the same weights and an f16 KV cache.
  const auto V = static_cast<std::size_t>(gpu.vocab_size());
  const std::vector<float> gpu_logits = last_prompt_logits(gpu, o.ids, context);
  std::vector<float> cpu_logits(V);
  model::TokenChunk chunk{o.ids, 0, 0};
  runtime::KvCache cache(runtime::KvCacheShape{cpu->n_layers(), cpu->n_kv_heads(), cpu->head_dim(), context, 1, DType::F16});
  struct CacheStore : model::KvStore {
    runtime::KvCache& c;
    explicit CacheStore(runtime::KvCache& c_) : c(c_) {}
    kernels::KvRef layer(std::int64_t l, std::int64_t slot) override { return c.layer(l, slot); }
    std::int64_t max_positions() const override { return c.shape().max_positions; }
  } store(cache);
  cpu->forward(std::span(&chunk, 1), store, model::LogitsRows::kLastOfEachChunk, cpu_logits.data());
  double max_diff = 0.0, max_abs = 0.0;
  for (std::size_t i = 0; i < V; ++i) {
    max_diff = std::max(max_diff, static_cast<double>(std::fabs(gpu_logits[i] - cpu_logits[i])));
    max_abs = std::max(max_abs, static_cast<double>(std::fabs(cpu_logits[i])));
  }
  if (!o.logits_path.empty()) {
    std::ofstream out(o.logits_path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(gpu_logits.data()), static_cast<std::streamsize>(V * 4));
  }
  fmt::print("{{\"source\": \"eaq cuda vs eaq cpu, last prompt logits\", \"max_abs_diff\": {:.6g}, \"max_abs_logit\": {:.6g}}}\n",
             max_diff, max_abs);
  fmt::print("{{\"source\": \"eaq cuda greedy\", \"device\": \"{}\", \"tokens\": [{}]}}\n", gpu.description(),
             fmt::join(tokens, ", "));
  return 0;
}

// Sampled decode through a Session (see the header): tok/s with the GPU picking the token, with
// the host picking it from copied logits, and whether their tokens agree.
struct SampledDecode {
  double gpu_tok_s = 0, host_tok_s = 0;
  bool same_tokens = false;
};

SampledDecode measure_sampled_decode(model::CudaDecoderLm& lm, const std::vector<std::int32_t>& prompt, int n_new,
                                     std::int64_t context) {
  runtime::SessionOptions so;
  so.context_size = context;
  so.kv_dtype = DType::F16;
  runtime::Session session(lm, so);
  runtime::SamplingParams p;
  p.temperature = 0.8f;
  p.top_k = 40;
  p.top_p = 0.95f;
  p.min_p = 0.05f;
  p.repetition_penalty = 1.1f;
  p.seed = 1;
  SampledDecode result;
  std::vector<std::int32_t> tokens[2];
  for (int on_gpu = 1; on_gpu >= 0; --on_gpu) {
    session.reset();
    runtime::Sampler sampler(p);
    std::vector<std::int32_t> history = prompt;
    history.push_back(sampler.sample(session.prefill(prompt), history));
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 1; i < n_new; ++i) {
      const std::int32_t next = on_gpu ? session.decode_and_sample(history.back(), sampler, history)
                                       : sampler.sample(session.decode(history.back()), history);
      history.push_back(next);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    (on_gpu ? result.gpu_tok_s : result.host_tok_s) = (n_new - 1) / s;
    tokens[on_gpu].assign(history.begin() + static_cast<std::ptrdiff_t>(prompt.size()), history.end());
  }
  result.same_tokens = tokens[0] == tokens[1];
  return result;
}

int run_bench(const Options& o) {
  const auto probe = kernels::cuda::select_cuda_device(0);
  const double copy_gbs = measure_copy_bandwidth_gbs();
  const double nominal_gbs = 3350.0;  // H100 SXM HBM3 datasheet; named as such in every row
  // The peak: the faster of cublasGemmEx's pick and the engine's tuned cuBLASLt pick.
  const double gemm_square_default = measure_gemm_tflops(8192, 8192, 8192, false);
  const double gemm_square_tuned = measure_gemm_tflops(8192, 8192, 8192, true);
  const double gemm_square = std::max(gemm_square_default, gemm_square_tuned);
  fmt::print("device: cuda:0 {} ({} SMs)\n", probe.name, probe.multiprocessors);
  fmt::print("D2D copy (measured, read+write): {:.0f} GB/s; nominal HBM3 (H100 SXM datasheet): {:.0f} GB/s\n",
             copy_gbs, nominal_gbs);
  fmt::print("cuBLAS f16 GEMM 8192^3 (measured): {:.0f} TFLOP/s (cublasGemmEx's pick {:.0f}, tuned cuBLASLt {:.0f})\n",
             gemm_square, gemm_square_default, gemm_square_tuned);

  // Rows whose graphs (decode steps a launch, the prefill's) did not reproduce the launches one
  // by one: the run goes on and then fails, naming them.
  std::vector<std::string> graph_mismatches;
  energy::MeterSet meters = energy::MeterSet::detect({});
  const bool have_nvml = meters.nvml() != nullptr;
  const bool measure_energy = have_nvml && o.energy_s > 0.0;
  energy::IdleBaseline idle;
  if (measure_energy) idle = energy::measure_idle_baseline(meters, 3.0);
  energy::EnergyWindows windows(meters, [] { cudaDeviceSynchronize(); }, idle);
  double idle_w = 0.0;
  if (const auto* p = idle.find("gpu:0")) idle_w = p->power_w;
  if (measure_energy) {
    fmt::print("energy: NVML counter (GPU idle {:.1f} W over {:.0f} s)\n", idle_w, idle.duration_s);
  } else {
    fmt::print("energy: not measured ({})\n", have_nvml ? "--energy-s 0" : "no NVML");
  }

  std::FILE* jsonl = o.jsonl.empty() ? nullptr : std::fopen(o.jsonl.c_str(), "a");
  // J/token: the decode window's net of idle; the job's (prompt + new tokens, per new token) net and
  // gross (what the counter read, idle included: what a dedicated GPU costs).
  fmt::print("{:<22} {:<9} {:>9} {:>8} {:>8} {:>9} {:>9} {:>10} {:>9} {:>9} {:>9}\n", "shape (synthetic)", "precision",
             "decode/s", "%HBM", "%copy", "prefill/s", "%GEMM", "GB/token", "J/tok net", "job net", "job gross");
  for (const auto& shape_name : o.shapes) {
    auto it = std::find_if(shapes().begin(), shapes().end(), [&](const Shape& s) { return s.name == shape_name; });
    if (it == shapes().end()) fail("--shape {} unknown: llama2-7b, deepseek-coder-1.3b, r1-distill-qwen-1.5b", shape_name);
    const Shape& s = *it;
    // The prefill GEMM of this shape (prompt x hidden -> intermediate) as a second peak.
    const double gemm_shape = measure_gemm_tflops(o.prompt, s.inter, s.hidden, true);
    // What the prefill could reach at most with cuBLAS's own GEMMs: all of its projections alone.
    const double projection_flops = 2.0 * static_cast<double>(o.prompt) * s.layers * bench::projection_params(s);
    const double projections_s = measure_projection_gemms_s(s, o.prompt);
    const double projections_pct = 100.0 * projection_flops / projections_s / 1e12 / std::max(gemm_square, gemm_shape);
    fmt::print("{:<22} cuBLAS alone on the {}-token prefill's projection GEMMs (measured): {:.3f} ms, {:.0f} TFLOP/s, "
               "{:.1f}% of the GEMM peak\n",
               s.name, o.prompt, projections_s * 1e3, projection_flops / projections_s / 1e12, projections_pct);
    for (const auto& precision : o.precisions) {
      auto dtype = dtype_from_name(precision);
      if (!dtype) fail("--precision {} is not a dtype name (f16, bf16, i8_ch, i4s_g128, q8_0, q4_0, nf4, ...)", precision);
      const std::int64_t context = o.prompt + o.n_new + 8;
      const auto t0 = std::chrono::steady_clock::now();
      RandomWeights rw = make_random_weights(s, *dtype, context);
      model::CudaDecoderLm lm(rw.spec, rw.weights, cuda_options(context));
      rw = RandomWeights{};  // host copies are no longer needed
      const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::vector<std::int32_t> prompt(static_cast<std::size_t>(o.prompt));
      for (int i = 0; i < o.prompt; ++i) prompt[static_cast<std::size_t>(i)] = static_cast<std::int32_t>((i * 7919 + 13) % s.vocab);

      cudaEvent_t e0, e1, e2;
      cudaEventCreate(&e0);
      cudaEventCreate(&e1);
      cudaEventCreate(&e2);
      // Warm-up (graph capture, cuBLAS heuristics), then timed repeats; best of the repeats. The
      // prompt runs twice: a prefill's graph is captured on its key's second run, which would
      // otherwise be the first timed repeat (--repeat 1 timed the capture: 1.3B 100.8k tok/s
      // against 165k replayed, H100, 2026-12-07).
      lm.begin_greedy(prompt);
      lm.begin_greedy(prompt);
      lm.continue_greedy(o.n_new - 1);
      lm.greedy_tokens(o.n_new);
      double best_prefill = 1e30, best_decode = 1e30;
      for (int r = 0; r < o.repeat; ++r) {
        EAQ_CUDA_CHECK(cudaStreamSynchronize(lm.stream()));  // e0 starts on an idle stream
        cudaEventRecord(e0, lm.stream());
        lm.begin_greedy(prompt);
        cudaEventRecord(e1, lm.stream());
        lm.continue_greedy(o.n_new - 1);
        cudaEventRecord(e2, lm.stream());
        lm.greedy_tokens(o.n_new);
        best_prefill = std::min(best_prefill, elapsed_s(e0, e1));
        best_decode = std::min(best_decode, elapsed_s(e1, e2) / (o.n_new - 1));
      }
      // The timed decode ran lm.graph_steps() steps a graph launch: it must pick what one step a
      // launch picks.
      const std::vector<std::int32_t> graph_tokens = lm.greedy_tokens(o.n_new);
      lm.begin_greedy(prompt);
      for (int i = 1; i < o.n_new; ++i) lm.continue_greedy(1);
      const bool graph_same = lm.greedy_tokens(o.n_new) == graph_tokens;
      // The prompt's last logits from the prefill's graph (a replay: the timed prefills made it)
      // and from its kernels launched one by one: the same bits.
      // With EAQ_CUDA_PREFILL_GRAPH=0 there is no graph to check, and none is made here:
      // profile_decode.sh's trace would read a prefill graph's kernels as decode steps.
      const bool prefill_graphs = lm.prefill_graphs();
      bool prefill_graph_same = true;
      if (prefill_graphs) {
        const std::vector<float> prefill_graph_logits = last_prompt_logits(lm, prompt, context);
        lm.set_prefill_graphs(false);
        prefill_graph_same = last_prompt_logits(lm, prompt, context) == prefill_graph_logits;
        lm.set_prefill_graphs(true);
      }
      // Energy: decode-only window (one decode stretch repeated for >= energy_s), and the whole
      // job (prompt + n_new tokens) per new token.
      double decode_j_net = NAN, job_j_net = NAN, job_j_gross = NAN, decode_j_gross = NAN;
      std::string energy_source = "none";
      if (measure_energy) {
        const std::vector<std::int32_t> last = lm.greedy_tokens(1);
        const int stretches = std::max(1, static_cast<int>(std::ceil(o.energy_s / (best_decode * (o.n_new - 1)))));
        lm.begin_greedy(prompt);
        lm.greedy_tokens(1);
        windows.begin("decode");
        for (int k = 0; k < stretches; ++k) {
          lm.rewind_greedy(o.prompt, last[0]);
          lm.continue_greedy(o.n_new - 1);
        }
        energy::WindowResult dr = windows.end("decode");
        if (const auto* g = dr.find("gpu:0")) {
          decode_j_net = g->net_energy_j / (static_cast<double>(stretches) * (o.n_new - 1));
          decode_j_gross = g->energy_j / (static_cast<double>(stretches) * (o.n_new - 1));
          energy_source = std::string(energy::to_string(g->source));
        }
        const int jobs = std::max(1, static_cast<int>(std::ceil(o.energy_s / (best_prefill + best_decode * (o.n_new - 1)))));
        windows.begin("job");
        for (int k = 0; k < jobs; ++k) {
          lm.begin_greedy(prompt);
          lm.continue_greedy(o.n_new - 1);
        }
        energy::WindowResult jr = windows.end("job");
        if (const auto* g = jr.find("gpu:0")) {
          job_j_net = g->net_energy_j / (static_cast<double>(jobs) * o.n_new);
          job_j_gross = g->energy_j / (static_cast<double>(jobs) * o.n_new);
        }
      }
      const double bytes = static_cast<double>(lm.decode_weight_bytes());
      const double decode_tps = 1.0 / best_decode;
      const double pct_hbm = 100.0 * bytes / best_decode / (nominal_gbs * 1e9);
      const double pct_copy = 100.0 * bytes / best_decode / (copy_gbs * 1e9);
      // Matrix FLOPs of the prompt (every projection, the LM head for one row) + attention.
      const std::int64_t hd = s.hidden / s.heads;
      const double matrix_params = static_cast<double>(s.layers) * bench::projection_params(s);
      const double attn_flops = 2.0 * 2.0 * s.layers * s.heads * hd * (static_cast<double>(o.prompt) * (o.prompt + 1) / 2.0);
      const double prefill_flops = 2.0 * matrix_params * o.prompt + 2.0 * s.vocab * s.hidden + attn_flops;
      const double prefill_tflops = prefill_flops / best_prefill / 1e12;
      const double pct_gemm = 100.0 * prefill_tflops / std::max(gemm_square, gemm_shape);
      fmt::print("{:<22} {:<9} {:>9.1f} {:>7.1f}% {:>7.1f}% {:>9.0f} {:>8.1f}% {:>10.3f} {:>9} {:>9} {:>9}\n",
                 s.name, precision, decode_tps, pct_hbm, pct_copy, o.prompt / best_prefill, pct_gemm, bytes / 1e9,
                 measured_or_dash(decode_j_net), measured_or_dash(job_j_net), measured_or_dash(job_j_gross));
      fmt::print("{:<22} {:<9} decode graph of {} steps a launch: its tokens are one step a launch's: {}\n", s.name,
                 precision, lm.graph_steps(), graph_same ? "yes" : "NO");
      fmt::print("{:<22} {:<9} prefill graph: its last logits are the kernel-by-kernel prefill's: {}\n", s.name,
                 precision, !prefill_graphs ? "not checked (EAQ_CUDA_PREFILL_GRAPH=0)" : prefill_graph_same ? "yes" : "NO");
      if (!graph_same) graph_mismatches.push_back(fmt::format("{} {} (decode graph)", s.name, precision));
      if (!prefill_graph_same) graph_mismatches.push_back(fmt::format("{} {} (prefill graph)", s.name, precision));
      SampledDecode sampled;
      if (o.sampled) {
        if (!lm.samples_on_device()) fail("--sampled compares GPU and host sampling: unset EAQ_CUDA_SAMPLING=host");
        sampled = measure_sampled_decode(lm, prompt, o.n_new, context);
        fmt::print("{:<22} {:<9} sampled decode (Session, wall clock): GPU sampling {:.1f} tok/s, host sampling {:.1f} "
                   "tok/s ({:.2f}x); same tokens: {}\n",
                   s.name, precision, sampled.gpu_tok_s, sampled.host_tok_s, sampled.gpu_tok_s / sampled.host_tok_s,
                   sampled.same_tokens ? "yes" : "NO");
      }
      if (jsonl) {
        fmt::print(jsonl,
                   "{{\"bench\": \"bench_engine_cuda\", \"synthetic\": true, \"shape\": \"{}\", \"precision\": \"{}\", "
                   "\"gpu\": \"{}\", \"engine\": \"{}\", \"prompt_tokens\": {}, \"new_tokens\": {}, \"repeat\": {}, "
                   "\"decode_tok_s\": {:.2f}, \"decode_s_per_token\": {:.6e}, \"weight_bytes_per_token\": {:.0f}, "
                   "\"pct_nominal_hbm_3350gbs\": {:.2f}, \"copy_gbs_measured\": {:.1f}, \"pct_measured_copy\": {:.2f}, "
                   "\"prefill_s\": {:.6f}, \"prefill_tok_s\": {:.1f}, \"prefill_tflops\": {:.1f}, "
                   "\"gemm_tflops_8192\": {:.1f}, \"gemm_tflops_shape\": {:.1f}, \"pct_gemm_peak\": {:.2f}, "
                   "\"projection_gemms_alone_s\": {:.6f}, \"pct_gemm_peak_projection_gemms_alone\": {:.2f}, "
                   "\"decode_j_per_token_net\": {}, \"decode_j_per_token_gross\": {}, "
                   "\"job_j_per_new_token_net\": {}, \"job_j_per_new_token_gross\": {}, "
                   "\"gpu_idle_w\": {:.1f}, \"energy_source\": \"{}\", \"decode_graph_steps\": {}, "
                   "\"graph_steps_same_tokens\": {}, \"load_s\": {:.2f}{}}}\n",
                   s.name, precision, probe.name, lm.description(), o.prompt, o.n_new, o.repeat, decode_tps,
                   best_decode, bytes, pct_hbm, copy_gbs, pct_copy, best_prefill, o.prompt / best_prefill,
                   prefill_tflops, gemm_square, gemm_shape, pct_gemm, projections_s, projections_pct,
                   json_number_or_null(decode_j_net), json_number_or_null(decode_j_gross), json_number_or_null(job_j_net),
                   json_number_or_null(job_j_gross), idle_w, energy_source, lm.graph_steps(), graph_same, load_s,
                   o.sampled ? fmt::format(", \"sampled_gpu_tok_s\": {:.2f}, \"sampled_host_tok_s\": {:.2f}, "
                                           "\"sampled_same_tokens\": {}",
                                           sampled.gpu_tok_s, sampled.host_tok_s, sampled.same_tokens)
                             : std::string());
        std::fflush(jsonl);
      }
    }
  }
  if (jsonl) std::fclose(jsonl);
  if (!graph_mismatches.empty()) {
    std::string rows;
    for (const std::string& r : graph_mismatches) rows += (rows.empty() ? "" : ", ") + r;
    fail("a CUDA graph did not reproduce its kernels launched one by one: {}", rows);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options o = parse(argc, argv);
    return o.model_path.empty() ? run_bench(o) : run_parity(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_engine_cuda: error: %s\n", e.what());
    return 1;
  }
}
