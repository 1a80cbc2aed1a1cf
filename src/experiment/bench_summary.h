// PrecisionSummary: one precision's repetitions reduced to mean ± 95% CI (Student t over
// repetitions), pooled inter-token latency percentiles, quality, and the derived figures (J per
// token, EDP, EOR, TWEOR, gCO2e and cost per 1M decode tokens, bandwidth utilisation). The
// per-repetition figures that feed it are in RepetitionFigures, so a measurement row and the
// summary compute them the same way.
#pragma once

#include <optional>
#include <string>

#include "energy/carbon.h"
#include "experiment/bench_runner.h"
#include "experiment/bench_statistics.h"

namespace eaq::experiment {

// Figures of one repetition. Energies are NaN when no meter ran; EOR/TWEOR when quality is absent.
struct RepetitionFigures {
  double prefill_tokens_per_s = 0;
  double decode_tokens_per_s = 0;
  double itl_p50_s = 0, itl_p90_s = 0, itl_p99_s = 0;
  double prefill_j_per_token = 0, prefill_net_j_per_token = 0;
  double decode_j_per_token = 0, decode_net_j_per_token = 0;
  double mean_power_w = 0;     // (prefill + decode gross energy) / (their window durations)
  double request_s = 0;        // prefill + decode wall time
  double request_energy_j = 0; // gross prefill + decode energy (never negative; see derived_metrics.h)
  double edp_j_s = 0;
  double eor = 0;    // quality / request Wh
  double tweor = 0;  // quality / (request Wh x request s)
};

RepetitionFigures repetition_figures(const BenchSpec& spec, const RepetitionMeasurement& m,
                                     const std::optional<double>& quality);

struct PrecisionSummary {
  std::size_t n_repetitions = 0;
  Estimate prefill_tokens_per_s, decode_tokens_per_s, ttft_s;
  double itl_p50_s = 0, itl_p90_s = 0, itl_p99_s = 0;  // over every decode step of every repetition
  Estimate prefill_j_per_token, prefill_net_j_per_token, decode_j_per_token, decode_net_j_per_token;
  Estimate mean_power_w, request_energy_j, edp_j_s, eor, tweor;
  std::string energy_source, energy_domains;
  std::optional<double> quality;  // top-1 agreement with the reference, [0, 1]
  carbon::Footprint footprint_per_1m_decode_tokens;  // from gross decode J/token x 1e6
  bool has_energy = false;
  double decode_bandwidth_bytes_per_s = 0;  // decode bytes/token x mean decode tok/s
  double bandwidth_utilisation = 0;         // / machine triad bandwidth (NaN when not measured)
};

PrecisionSummary summarize(const BenchSpec& spec, const BenchContext& context, const PrecisionRun& run);

}  // namespace eaq::experiment
