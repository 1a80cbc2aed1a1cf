// CI95, percentiles and the derived figures against hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "experiment/bench_statistics.h"
#include "experiment/bench_summary.h"
#include "experiment/derived_metrics.h"

namespace eaq::experiment {
namespace {

TEST(BenchStatistics, Ci95MatchesAHandComputedCase) {
  // values 10, 12, 11, 13, 14: mean 12, sample sd = sqrt(10/4) = 1.5811388300841898,
  // sem = sd / sqrt(5) = 0.7071067811865476, t(0.975, 4) = 2.7764451051977987 (t tables),
  // half-width = 2.7764451051977987 x 0.7071067811865476 = 1.9632431614775607.
  const std::vector<double> values = {10, 12, 11, 13, 14};
  const auto e = estimate(values);
  EXPECT_EQ(e.n, 5u);
  EXPECT_DOUBLE_EQ(e.mean, 12.0);
  EXPECT_NEAR(e.ci95_half_width, 2.7764451051977987 * 1.5811388300841898 / std::sqrt(5.0), 1e-9);
  EXPECT_NEAR(e.ci95_half_width, 1.9632431614775607, 1e-9);
}

TEST(BenchStatistics, OneRepetitionHasNoInterval) {
  const std::vector<double> one = {3.0};
  const auto e = estimate(one);
  EXPECT_DOUBLE_EQ(e.mean, 3.0);
  EXPECT_TRUE(std::isinf(e.ci95_half_width));
  EXPECT_THROW(estimate(std::vector<double>{}), Error);
}

TEST(BenchStatistics, PercentilesInterpolateLikeNumpy) {
  // numpy.percentile([1, 2, 3, 4], [50, 90, 99]) = [2.5, 3.7, 3.97]
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 50), 2.5);
  EXPECT_NEAR(percentile({4, 1, 3, 2}, 90), 3.7, 1e-12);
  EXPECT_NEAR(percentile({4, 1, 3, 2}, 99), 3.97, 1e-12);
  EXPECT_DOUBLE_EQ(percentile({5}, 99), 5);
  EXPECT_THROW(percentile({}, 50), Error);
  EXPECT_THROW(percentile({1}, 101), Error);
}

TEST(DerivedMetrics, EorTweorEdpByHand) {
  // 36 J = 0.01 Wh; quality 0.9 → EOR 90 per Wh; over 2 s → TWEOR 45 per Wh·s; EDP 72 J·s.
  EXPECT_DOUBLE_EQ(joules_to_wh(36), 0.01);
  EXPECT_NEAR(energy_to_outcome_ratio(0.9, joules_to_wh(36)), 90, 1e-9);
  EXPECT_NEAR(time_weighted_energy_to_outcome_ratio(0.9, joules_to_wh(36), 2), 45, 1e-9);
  EXPECT_DOUBLE_EQ(energy_delay_product_j_s(36, 2), 72);
  EXPECT_TRUE(std::isnan(energy_to_outcome_ratio(0.9, 0)));
  EXPECT_TRUE(std::isnan(time_weighted_energy_to_outcome_ratio(0.9, 0.01, 0)));
}

RepetitionMeasurement measurement(double prefill_s, double decode_s, double prefill_j, double decode_j, double idle_w) {
  RepetitionMeasurement m;
  m.prefill_s = prefill_s;
  m.ttft_s = prefill_s;
  m.decode_s = decode_s;
  m.token_latencies_s = {decode_s / 4, decode_s / 4, decode_s / 4, decode_s / 4};
  PhaseEnergy p;
  p.duration_s = prefill_s;
  p.energy_j = prefill_j;
  p.idle_energy_j = idle_w * prefill_s;
  p.net_energy_j = prefill_j - p.idle_energy_j;
  p.has_idle_baseline = true;
  p.source = "estimated";
  p.domains = "cpu,dram";
  PhaseEnergy d = p;
  d.duration_s = decode_s;
  d.energy_j = decode_j;
  d.idle_energy_j = idle_w * decode_s;
  d.net_energy_j = decode_j - d.idle_energy_j;
  m.prefill_energy = p;
  m.decode_energy = d;
  return m;
}

TEST(BenchSummary, RepetitionFiguresByHand) {
  BenchSpec spec;
  spec.n_prompt = 8;
  spec.n_gen = 4;
  // prefill 0.5 s, 20 J gross; decode 1.5 s, 40 J gross; idle 10 W → net 15 J and 25 J.
  const auto f = repetition_figures(spec, measurement(0.5, 1.5, 20, 40, 10), 0.8);
  EXPECT_DOUBLE_EQ(f.prefill_tokens_per_s, 16);
  EXPECT_NEAR(f.decode_tokens_per_s, 4 / 1.5, 1e-12);
  EXPECT_DOUBLE_EQ(f.prefill_j_per_token, 2.5);
  EXPECT_DOUBLE_EQ(f.prefill_net_j_per_token, 15.0 / 8);
  EXPECT_DOUBLE_EQ(f.decode_j_per_token, 10);
  EXPECT_DOUBLE_EQ(f.decode_net_j_per_token, 25.0 / 4);
  EXPECT_DOUBLE_EQ(f.mean_power_w, 60.0 / 2.0);
  EXPECT_DOUBLE_EQ(f.request_energy_j, 60);  // gross: 20 + 40
  EXPECT_DOUBLE_EQ(f.request_s, 2);
  EXPECT_DOUBLE_EQ(f.edp_j_s, 120);
  // 60 J = 1/60 Wh: EOR = 0.8 x 60 = 48; TWEOR = 48 / 2 s = 24.
  EXPECT_NEAR(f.eor, 48, 1e-9);
  EXPECT_NEAR(f.tweor, 24, 1e-9);
}

TEST(BenchSummary, SummaryOverRepetitions) {
  BenchSpec spec;
  spec.n_prompt = 8;
  spec.n_gen = 4;
  BenchContext context;
  PrecisionRun run;
  run.precision = "q4_0";
  run.decode_bytes_per_token = 1e6;
  run.repetitions = {measurement(0.5, 1.0, 20, 40, 10), measurement(0.5, 2.0, 20, 40, 10)};
  quant::QualitySummary q;
  q.top1_agreement = 0.5;
  run.quality = q;
  MachineBandwidth bandwidth;
  bandwidth.bytes_per_s = 1e7;
  context.bandwidth = bandwidth;
  const auto s = summarize(spec, context, run);
  EXPECT_EQ(s.n_repetitions, 2u);
  // decode tok/s 4 and 2: mean 3, sd sqrt(2), half-width t(0.975, 1) x sd / sqrt(2) = 12.706204736174698 x 1.
  EXPECT_DOUBLE_EQ(s.decode_tokens_per_s.mean, 3);
  EXPECT_NEAR(s.decode_tokens_per_s.ci95_half_width, 12.706204736174698, 1e-6);
  EXPECT_DOUBLE_EQ(s.decode_j_per_token.mean, 10);
  EXPECT_EQ(s.energy_source, "estimated");
  // bandwidth: 1e6 bytes/token x 3 tok/s / 1e7 bytes/s = 0.3
  EXPECT_NEAR(s.bandwidth_utilisation, 0.3, 1e-12);
  // gCO2e per 1M decode tokens at the world average 481 g/kWh: 10 J x 1e6 / 3.6e6 x 481.
  EXPECT_NEAR(s.footprint_per_1m_decode_tokens.grams_co2e, 10e6 / 3.6e6 * 481, 1e-6);
  // ITL pooled over both repetitions: 0.25 x4 and 0.5 x4 → p50 = 0.375.
  EXPECT_DOUBLE_EQ(s.itl_p50_s, 0.375);
}

}  // namespace
}  // namespace eaq::experiment
