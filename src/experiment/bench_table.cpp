// Markdown report: short column names, units in the headers, the long story in the notes.
#include "experiment/bench_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/markdown_table.h"

namespace eaq::experiment {

namespace {

// Decimals that show three significant digits of `value` (at most 6, none above 100).
int decimals_for(double value) {
  if (!std::isfinite(value) || value == 0) return 1;
  return std::clamp(2 - static_cast<int>(std::floor(std::log10(std::fabs(value)))), 0, 6);
}

// "12.3 ± 0.4", "12.3" for one repetition, "-" when not measured; three significant digits.
std::string with_ci(const Estimate& e, double scale) {
  if (e.n == 0 || !std::isfinite(e.mean)) return "-";
  const int decimals = decimals_for(e.mean * scale);
  const std::string mean = fmt::format("{:.{}f}", e.mean * scale, decimals);
  if (!std::isfinite(e.ci95_half_width)) return mean;
  return mean + " ± " + fmt::format("{:.{}f}", e.ci95_half_width * scale, decimals);
}

std::string number(double value, int decimals, double scale = 1) {
  return std::isfinite(value) ? fmt::format("{:.{}f}", value * scale, decimals) : "-";
}

std::string significant(double value) { return std::isfinite(value) ? fmt::format("{:.3g}", value) : "-"; }

}  // namespace

std::string bench_markdown(const BenchSpec& spec, const BenchResult& result,
                           const std::vector<PrecisionSummary>& summaries) {
  const auto& c = result.context;
  const auto& p = c.provenance;
  std::string out = fmt::format("eaq bench — {} (sha256 {}…)\n", p.model_path, p.model_sha256.substr(0, 12));
  out += fmt::format("{} on {}{}, {} threads; -p {} -n {} -r {}; eaq {} (git {}), {}\n", spec.device.name(), p.cpu_model,
                     p.gpu_name.empty() ? "" : " + " + p.gpu_name, c.n_threads, spec.n_prompt, spec.n_gen,
                     spec.repetitions, p.eaq_version, p.git_sha, p.started_at);
  std::string meters;
  for (const auto& d : c.meter_decisions) {
    if (d.used) meters += (meters.empty() ? "" : "; ") + d.meter + " (" + d.reason + ")";
  }
  out += fmt::format("energy: {}; idle baseline {}\n\n", meters.empty() ? "no meter usable" : meters,
                     c.idle.duration_s > 0 ? fmt::format("{:.1f} s", c.idle.duration_s)
                                           : std::string("none (net = gross)"));

  const bool net = c.idle.duration_s > 0;
  std::vector<report::MarkdownColumn> columns = {
      {"precision", report::Align::kLeft}, {"prefill tok/s"}, {"decode tok/s"}, {"TTFT ms"}, {"ITL p50/p90/p99 ms"},
      {"prefill mJ/tok"}, {"decode mJ/tok"}, {net ? "decode mJ/tok net" : "decode mJ/tok net (no idle)"}, {"W"},
      {"top-1 %"}, {"KL"}, {"EOR /Wh"}, {"TWEOR /(Wh·s)"}, {"EDP J·s"}, {"gCO2e/1M tok"}, {"weights MiB"},
      {"KV MiB"}, {"peak RSS MiB"}, {"BW util %"}};
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < result.precisions.size(); ++i) {
    const auto& run = result.precisions[i];
    const auto& s = summaries[i];
    const std::string name = run.complete ? run.precision : run.precision + " (partial)";
    rows.push_back({name,
                    with_ci(s.prefill_tokens_per_s, 1),
                    with_ci(s.decode_tokens_per_s, 1),
                    with_ci(s.ttft_s, 1e3),
                    fmt::format("{}/{}/{}", number(s.itl_p50_s, 1, 1e3), number(s.itl_p90_s, 1, 1e3), number(s.itl_p99_s, 1, 1e3)),
                    with_ci(s.prefill_j_per_token, 1e3),
                    with_ci(s.decode_j_per_token, 1e3),
                    with_ci(s.decode_net_j_per_token, 1e3),
                    with_ci(s.mean_power_w, 1),
                    run.quality ? number(run.quality->top1_agreement, 1, 100) : "-",
                    run.quality ? significant(run.quality->mean_kl_divergence) : "-",
                    significant(s.eor.mean),
                    significant(s.tweor.mean),
                    significant(s.edp_j_s.mean),
                    s.has_energy ? significant(s.footprint_per_1m_decode_tokens.grams_co2e) : "-",
                    number(static_cast<double>(run.weights_bytes) / (1 << 20), 1),
                    number(static_cast<double>(run.kv_cache_bytes) / (1 << 20), 1),
                    run.peak_rss_bytes ? number(static_cast<double>(*run.peak_rss_bytes) / (1 << 20), 0) : "-",
                    number(s.bandwidth_utilisation, 1, 100)});
  }
  out += report::markdown_table(columns, rows);

  out += "\nmean ± 95% CI over repetitions (Student t). Measured: times (steady clock), energy";
  if (!summaries.empty() && summaries.front().has_energy) {
    out += fmt::format(" ({}: {})", summaries.front().energy_source, summaries.front().energy_domains);
  }
  out += ", top-1 and KL";
  if (spec.quality.enabled) {
    out += fmt::format(" (vs {} on {} positions of the project's docs)", spec.quality.reference, c.quality_positions);
  }
  out += ", peak RSS, machine bandwidth";
  if (c.bandwidth) {
    out += fmt::format(" ({:.1f} GB/s, {}; {}{})", c.bandwidth->bytes_per_s / 1e9, c.bandwidth->method,
                       c.bandwidth->from_cache ? "cached, measured " : "measured ", c.bandwidth->measured_at);
  }
  out += ".\nDerived: tok/s, mJ/tok (gross; net = gross − idle W × time), W, EOR = top-1 / request Wh, "
         "TWEOR = top-1 / (request Wh × request s), EDP = request J × request s (request = one repetition, gross "
         "energy), gCO2e per 1M decode tokens";
  if (!summaries.empty() && summaries.front().has_energy) {
    const auto& i = summaries.front().footprint_per_1m_decode_tokens.intensity;
    out += fmt::format(" ({:.0f} g/kWh, {})", i.g_per_kwh, i.basis);
  }
  out += ", BW util = decode bytes/token × tok/s ÷ triad. Computed: weights MiB; allocated: KV MiB. docs/bench.md defines each.\n";
  for (const auto& [precision, message] : result.failures) out += fmt::format("\n{} failed: {}", precision, message);
  if (!result.failures.empty()) out += "\n";
  if (result.interrupted) {
    out += fmt::format("\ninterrupted: {} of {} precisions measured; '(partial)' rows lack repetitions or quality.\n",
                       result.precisions.size(), spec.precisions.size());
  }
  return out;
}

}  // namespace eaq::experiment
