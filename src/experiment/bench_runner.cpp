// The bench loop. Timing uses the steady clock around each forward call plus its argmax (what a
// greedy server does per token); energy windows bound each phase; nothing is allocated inside
// the timed loops except what the engine itself does.
#include "experiment/bench_runner.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "core/error.h"
#include "core/thread_pool.h"
#include "experiment/memory_footprint.h"
#include "experiment/reference_quality.h"

namespace eaq::experiment {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::int32_t argmax(std::span<const float> logits) {
  return static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

bool stopped(const BenchObserver& observer) { return observer.stop != nullptr && observer.stop->load(); }

// Sleeps `seconds` in short slices so a stop request is honoured at once.
void interruptible_sleep(double seconds, const BenchObserver& observer) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end && !stopped(observer)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// The first n tokens of the text (BOS first when the tokenizer adds one), the text repeated when
// it is shorter.
std::vector<std::int32_t> prompt_tokens(const runtime::Engine& engine, const std::string& text, std::int64_t n) {
  const auto& tok = *engine.tokenizer;
  std::vector<std::int32_t> source = tok.encode(text.empty() ? std::string("Once upon a time") : text, false);
  if (source.empty()) source.push_back(0);
  std::vector<std::int32_t> prompt;
  prompt.reserve(static_cast<std::size_t>(n));
  if (tok.add_bos() && tok.bos_id() >= 0) prompt.push_back(tok.bos_id());
  for (std::size_t i = 0; static_cast<std::int64_t>(prompt.size()) < n; ++i) prompt.push_back(source[i % source.size()]);
  return prompt;
}

std::string make_run_id(const Provenance& p) {
  std::string stamp;
  for (char c : p.started_at) {
    if (c != '-' && c != ':') stamp += c;
  }
  return fmt::format("{}-{}-{}", stamp, p.hostname, getpid());
}

// One precision: load, warm up, the timed repetitions, quality. Fills `run` as it goes, so what
// was measured before an interruption is kept.
void run_precision(const BenchSpec& spec, const BenchObserver& observer, const BenchContext& context,
                   energy::MeterSet& meters, const ReferenceDistributions* reference,
                   const std::function<void(const std::string&)>& step, PrecisionRun& run) {
  const bool rss_reset = reset_peak_rss();
  const auto load_start = std::chrono::steady_clock::now();
  auto config = engine_config_for(spec, run.precision);
  if (reference) config.context_size = std::max(config.context_size, spec.quality.chunk_tokens);
  runtime::Engine engine = runtime::load_engine(config);
  run.load_s = seconds_since(load_start);
  run.weights_description = engine.weights_description;
  const std::int64_t mean_past = spec.n_prompt + spec.n_gen / 2;
  if (engine.device_lm) {
    // On the GPU: what was placed there (formats without a kernel went up as f16; the KV cache is f16).
    run.weights_description += " on " + engine.device_description;
    run.weights_bytes = engine.device_weight_bytes;
    run.kv_cache_bytes = engine.device_kv_cache_bytes;
    const auto& lm = *engine.device_lm;
    constexpr double kKvPlanes = 2.0;         // K and V
    constexpr double kKvElementBytes = 2.0;   // the GPU's KV cache is f16
    const double kv_elements = static_cast<double>(lm.n_layers() * mean_past * lm.n_kv_heads() * lm.head_dim());
    run.decode_bytes_per_token =
        static_cast<double>(engine.device_decode_weight_bytes) + kKvPlanes * kKvElementBytes * kv_elements;
  } else {
    run.weights_bytes = weights_bytes(*engine.lm);
    run.kv_cache_bytes = engine.session->kv_cache().size_bytes();
    const auto kv_element_bytes = engine.session->kv_cache().shape().dtype == DType::F16 ? 2 : 4;
    run.decode_bytes_per_token = decode_bytes_per_token(*engine.lm, mean_past, kv_element_bytes);
  }
  step(fmt::format("{} loaded in {:.1f} s", run.precision, run.load_s));

  const auto prompt = prompt_tokens(engine, spec.prompt_text, spec.n_prompt);
  auto& session = *engine.session;

  // Warm-up: the full prompt once (the forward pass grows its buffers to their largest) and a
  // few decode steps, untimed. A GPU model captures a prompt length's prefill as a CUDA graph on
  // its second run (docs/cuda.md): the warm-up runs the prompt twice there, so that no timed
  // repetition pays for the capture.
  const std::uint64_t heap_before = heap_bytes_in_use();
  {
    auto logits = session.prefill(prompt);
    if (engine.device_lm) {
      session.reset();
      logits = session.prefill(prompt);
    }
    std::int32_t token = argmax(logits);
    for (std::int64_t i = 0; i < std::min(spec.warmup_decode_steps, spec.n_gen) && !stopped(observer); ++i) {
      token = argmax(session.decode(token));
    }
  }
  const std::uint64_t heap_after = heap_bytes_in_use();
  run.workspace_bytes = heap_after > heap_before ? heap_after - heap_before : 0;

  for (int r = 1; r <= spec.repetitions && !stopped(observer); ++r) {
    RepetitionMeasurement m;
    m.repetition = r;
    session.reset();
    m.token_latencies_s.reserve(static_cast<std::size_t>(spec.n_gen));

    std::optional<energy::EnergyWindow> window;
    if (!meters.empty()) window.emplace(meters, "prefill", energy::DeviceSync{}, context.idle);
    auto t0 = std::chrono::steady_clock::now();
    auto logits = session.prefill(prompt);
    m.prefill_s = seconds_since(t0);
    std::int32_t token = argmax(logits);
    m.ttft_s = seconds_since(t0);
    if (window) m.prefill_energy = phase_energy(window->end());

    window.reset();
    if (!meters.empty()) window.emplace(meters, "decode", energy::DeviceSync{}, context.idle);
    const auto decode_start = std::chrono::steady_clock::now();
    bool interrupted = false;
    for (std::int64_t i = 0; i < spec.n_gen; ++i) {
      if (stopped(observer)) {
        interrupted = true;
        break;
      }
      const auto t = std::chrono::steady_clock::now();
      token = argmax(session.decode(token));
      m.token_latencies_s.push_back(seconds_since(t));
    }
    m.decode_s = seconds_since(decode_start);
    if (window) {
      auto ended = window->end();
      if (!interrupted) m.decode_energy = phase_energy(ended);
    }
    if (interrupted) break;  // a repetition cut short is not a measurement
    m.measured_at = utc_timestamp();
    run.repetitions.push_back(std::move(m));
    if (observer.on_repetition) observer.on_repetition(context, run, run.repetitions.back());
    step(fmt::format("{} repetition {}/{}", run.precision, r, spec.repetitions));
  }
  if (rss_reset) run.peak_rss_bytes = peak_rss_bytes();

  if (reference && !stopped(observer)) {
    run.quality = reference->compare(engine);
    step(fmt::format("{} quality vs {}: top-1 {:.1f}%", run.precision, spec.quality.reference,
                     100 * run.quality->top1_agreement));
  }
  run.complete = static_cast<int>(run.repetitions.size()) == spec.repetitions && (!reference || run.quality);
}

}  // namespace

std::int64_t total_steps(const BenchSpec& spec) {
  const std::int64_t per_precision = 1 + spec.repetitions + (spec.quality.enabled ? 1 : 0);
  return static_cast<std::int64_t>(spec.precisions.size()) * per_precision;
}

BenchResult run_bench(const BenchSpec& spec, const BenchObserver& observer) {
  validate(spec);
  BenchResult result;
  auto& context = result.context;
  context.n_threads = spec.n_threads > 0 ? spec.n_threads : ThreadPool::default_threads();

  energy::MeterOptions meter_options;
  meter_options.gpu = spec.device.kind == DeviceKind::kCuda;  // a CPU run does not count an idle GPU
  energy::MeterSet meters = energy::MeterSet::detect(meter_options);
  context.meter_decisions = meters.decisions();
  if (meters.empty()) spdlog::warn("no energy meter is usable here; energy columns stay empty");

  context.provenance = machine_provenance(meters);
  context.provenance.model_path = std::filesystem::absolute(spec.model_path).lexically_normal().string();
  context.provenance.model_sha256 = model_sha256(spec.model_path, spec.cache_dir);
  context.run_id = make_run_id(context.provenance);
  context.bandwidth = spec.device.kind == DeviceKind::kCpu ? machine_bandwidth(context.n_threads, spec.cache_dir)
                                                          : gpu_bandwidth(spec.device.index);

  std::int64_t steps = 0;
  // A failed precision's label counts as the last of its steps (steps is set before the call).
  auto step = [&](const std::string& label) {
    ++steps;
    if (observer.on_step) observer.on_step(steps, label);
  };

  std::optional<ReferenceDistributions> reference;
  if (spec.quality.enabled) {
    auto config = engine_config_for(spec, spec.quality.reference);
    config.context_size = spec.quality.chunk_tokens;
    // The reference runs on the CPU, where f32 is computed as f32 (a GPU would take it as f16).
    config.device = "cpu";
    auto engine = runtime::load_engine(config);
    reference.emplace(engine, spec.quality.text, spec.quality.chunk_tokens, spec.quality.max_chunks);
    context.quality_chunks = reference->n_chunks();
    context.quality_positions = reference->n_chunks() * (spec.quality.chunk_tokens - 1 - spec.quality.chunk_tokens / 2);
  }

  if (spec.idle_s > 0 && !meters.empty()) context.idle = energy::measure_idle_baseline(meters, spec.idle_s);
  if (observer.on_start) observer.on_start(context);

  for (std::size_t p = 0; p < spec.precisions.size() && !stopped(observer); ++p) {
    if (p > 0) interruptible_sleep(spec.cooldown_s, observer);
    if (stopped(observer)) break;
    PrecisionRun run;
    run.precision = spec.precisions[p];
    try {
      run_precision(spec, observer, context, meters, reference ? &*reference : nullptr, step, run);
    } catch (const InternalError&) {
      throw;
    } catch (const Error& e) {
      spdlog::error("{}: {}", run.precision, e.what());
      result.failures.emplace_back(run.precision, e.what());
      steps = static_cast<std::int64_t>(p + 1) * (total_steps(spec) / static_cast<std::int64_t>(spec.precisions.size())) - 1;
      step(fmt::format("{} failed", run.precision));
      continue;
    }
    if (!run.repetitions.empty()) {
      if (observer.on_precision) observer.on_precision(context, run);
      result.precisions.push_back(std::move(run));
    }
  }
  result.interrupted = stopped(observer);
  return result;
}

}  // namespace eaq::experiment
