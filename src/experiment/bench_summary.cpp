// Reducing repetitions to estimates and derived figures.
#include "experiment/bench_summary.h"

#include <cmath>
#include <limits>

#include "experiment/derived_metrics.h"

namespace eaq::experiment {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

template <typename Get>
Estimate estimate_of(const std::vector<RepetitionFigures>& figures, Get get) {
  std::vector<double> values;
  for (const auto& f : figures) {
    if (std::isfinite(get(f))) values.push_back(get(f));
  }
  if (values.empty()) return Estimate{0, kNaN, kNaN};
  return estimate(values);
}

}  // namespace

RepetitionFigures repetition_figures(const BenchSpec& spec, const RepetitionMeasurement& m,
                                     const std::optional<double>& quality) {
  RepetitionFigures f;
  const auto n_prompt = static_cast<double>(spec.n_prompt);
  const auto n_gen = static_cast<double>(m.token_latencies_s.size());
  f.prefill_tokens_per_s = n_prompt / m.prefill_s;
  f.decode_tokens_per_s = n_gen / m.decode_s;
  f.itl_p50_s = percentile(m.token_latencies_s, 50);
  f.itl_p90_s = percentile(m.token_latencies_s, 90);
  f.itl_p99_s = percentile(m.token_latencies_s, 99);
  f.request_s = m.prefill_s + m.decode_s;
  if (m.prefill_energy && m.decode_energy) {
    const auto& pe = *m.prefill_energy;
    const auto& de = *m.decode_energy;
    f.prefill_j_per_token = pe.energy_j / n_prompt;
    f.prefill_net_j_per_token = pe.net_energy_j / n_prompt;
    f.decode_j_per_token = de.energy_j / n_gen;
    f.decode_net_j_per_token = de.net_energy_j / n_gen;
    const double window_s = pe.duration_s + de.duration_s;
    f.mean_power_w = window_s > 0 ? (pe.energy_j + de.energy_j) / window_s : kNaN;
    f.request_energy_j = pe.energy_j + de.energy_j;
    f.edp_j_s = energy_delay_product_j_s(f.request_energy_j, f.request_s);
    const double wh = joules_to_wh(f.request_energy_j);
    f.eor = quality ? energy_to_outcome_ratio(*quality, wh) : kNaN;
    f.tweor = quality ? time_weighted_energy_to_outcome_ratio(*quality, wh, f.request_s) : kNaN;
  } else {
    f.prefill_j_per_token = f.prefill_net_j_per_token = f.decode_j_per_token = f.decode_net_j_per_token = kNaN;
    f.mean_power_w = f.request_energy_j = f.edp_j_s = f.eor = f.tweor = kNaN;
  }
  return f;
}

PrecisionSummary summarize(const BenchSpec& spec, const BenchContext& context, const PrecisionRun& run) {
  PrecisionSummary s;
  if (run.quality) s.quality = run.quality->top1_agreement;
  std::vector<RepetitionFigures> figures;
  std::vector<double> ttft, latencies;
  for (const auto& m : run.repetitions) {
    figures.push_back(repetition_figures(spec, m, s.quality));
    ttft.push_back(m.ttft_s);
    latencies.insert(latencies.end(), m.token_latencies_s.begin(), m.token_latencies_s.end());
  }
  s.n_repetitions = figures.size();
  if (figures.empty()) return s;
  s.prefill_tokens_per_s = estimate_of(figures, [](const auto& f) { return f.prefill_tokens_per_s; });
  s.decode_tokens_per_s = estimate_of(figures, [](const auto& f) { return f.decode_tokens_per_s; });
  s.ttft_s = estimate(ttft);
  s.itl_p50_s = percentile(latencies, 50);
  s.itl_p90_s = percentile(latencies, 90);
  s.itl_p99_s = percentile(latencies, 99);
  s.prefill_j_per_token = estimate_of(figures, [](const auto& f) { return f.prefill_j_per_token; });
  s.prefill_net_j_per_token = estimate_of(figures, [](const auto& f) { return f.prefill_net_j_per_token; });
  s.decode_j_per_token = estimate_of(figures, [](const auto& f) { return f.decode_j_per_token; });
  s.decode_net_j_per_token = estimate_of(figures, [](const auto& f) { return f.decode_net_j_per_token; });
  s.mean_power_w = estimate_of(figures, [](const auto& f) { return f.mean_power_w; });
  s.request_energy_j = estimate_of(figures, [](const auto& f) { return f.request_energy_j; });
  s.edp_j_s = estimate_of(figures, [](const auto& f) { return f.edp_j_s; });
  s.eor = estimate_of(figures, [](const auto& f) { return f.eor; });
  s.tweor = estimate_of(figures, [](const auto& f) { return f.tweor; });

  const auto& first = run.repetitions.front();
  if (first.decode_energy) {
    s.has_energy = true;
    s.energy_source = first.decode_energy->source;
    s.energy_domains = first.decode_energy->domains;
    s.footprint_per_1m_decode_tokens = carbon::footprint(s.decode_j_per_token.mean * 1e6, spec.carbon);
  }
  s.decode_bandwidth_bytes_per_s = run.decode_bytes_per_token * s.decode_tokens_per_s.mean;
  s.bandwidth_utilisation = context.bandwidth && context.bandwidth->bytes_per_s > 0
                                ? s.decode_bandwidth_bytes_per_s / context.bandwidth->bytes_per_s
                                : kNaN;
  return s;
}

}  // namespace eaq::experiment
