// The bench runner: for each precision of a BenchSpec, load the engine once, warm up, then time
// `repetitions` requests (prefill of n_prompt tokens, then n_gen greedy decode steps, every token
// timed) inside energy windows around prefill and decode separately (idle baseline subtracted),
// score quality against the reference precision with the same engine, and cool down before the
// next precision. Observers see each repetition as soon as it is measured (so a store can commit
// it), and a stop flag (SIGINT) ends the run between tokens: the repetition in flight is dropped,
// everything finished is kept.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "energy/energy_window.h"
#include "energy/meter_set.h"
#include "experiment/bench_spec.h"
#include "experiment/machine_bandwidth.h"
#include "experiment/phase_energy.h"
#include "experiment/provenance.h"
#include "quant/quality_metrics.h"

namespace eaq::experiment {

struct RepetitionMeasurement {
  int repetition = 0;  // 1-based
  std::string measured_at;  // UTC, when it finished
  double prefill_s = 0;     // prefill of n_prompt tokens
  double ttft_s = 0;        // prefill + choosing the first token (its logits' argmax)
  double decode_s = 0;      // n_gen decode steps
  std::vector<double> token_latencies_s;  // one per decode step (forward + argmax)
  std::optional<PhaseEnergy> prefill_energy;  // absent when no meter is usable
  std::optional<PhaseEnergy> decode_energy;
};

struct PrecisionRun {
  std::string precision;
  std::string weights_description;  // the engine's "stored → computed" formats
  double load_s = 0;
  std::uint64_t weights_bytes = 0;
  std::uint64_t kv_cache_bytes = 0;
  std::uint64_t workspace_bytes = 0;
  std::optional<std::uint64_t> peak_rss_bytes;
  double decode_bytes_per_token = 0;  // at the middle of the decode (n_prompt + n_gen/2 cached)
  std::vector<RepetitionMeasurement> repetitions;
  std::optional<quant::QualitySummary> quality;
  bool complete = false;  // every repetition and the quality check ran
};

// What is measured once per run.
struct BenchContext {
  std::string run_id;
  Provenance provenance;
  int n_threads = 0;
  std::vector<energy::MeterDecision> meter_decisions;
  energy::IdleBaseline idle;
  std::optional<MachineBandwidth> bandwidth;
  std::int64_t quality_chunks = 0;
  std::int64_t quality_positions = 0;
};

struct BenchObserver {
  std::function<void(const BenchContext&)> on_start;
  std::function<void(const BenchContext&, const PrecisionRun&, const RepetitionMeasurement&)> on_repetition;
  std::function<void(const BenchContext&, const PrecisionRun&)> on_precision;
  // Progress: called after each step (a load, a repetition, a quality check) with a label.
  std::function<void(std::int64_t done_steps, const std::string& label)> on_step;
  const std::atomic<bool>* stop = nullptr;
};

struct BenchResult {
  BenchContext context;
  std::vector<PrecisionRun> precisions;  // those with at least one repetition
  // Precisions that could not run (eaq::Error while loading or running them: e.g. a scheme whose
  // block size does not divide the model's rows), with the message; the others still run.
  std::vector<std::pair<std::string, std::string>> failures;
  bool interrupted = false;
};

// Steps on_step counts to: per precision a load, the repetitions and the quality check.
std::int64_t total_steps(const BenchSpec& spec);

BenchResult run_bench(const BenchSpec& spec, const BenchObserver& observer = {});

}  // namespace eaq::experiment
