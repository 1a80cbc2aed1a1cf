// search_mixed_plan: measure per-layer sensitivity (n_layers + 1 engine loads on one calibration
// chunk), then allocate greedily. Bits are counted from the dtypes the plans resolve to
// (row_bytes of every 2-D tensor), so group-size fallbacks and 8-bit embeddings are included.
#include "runtime/mixed_precision_search.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "model/model_loader.h"
#include "quant/quality_metrics.h"
#include "runtime/engine.h"

namespace eaq::runtime {

namespace {

quant::PrecisionPlan plan_with_low_layers(const MixedPlanOptions& o, const std::vector<std::int64_t>& low_layers) {
  quant::PrecisionPlan plan = quant::PrecisionPlan::for_scheme(o.high_scheme);
  for (auto l : low_layers) plan.rules.push_back({fmt::format("blk.{}.*", l), o.low_scheme});
  plan.source = fmt::format("mixed {}/{} ({} of the layers at {})", o.high_scheme, o.low_scheme, low_layers.size(),
                            o.low_scheme);
  return plan;
}

// Bits of each layer's matrices (index n_layers = everything outside the layers) under a plan.
std::vector<double> bits_by_layer(const model::LoadedModel& m, std::int64_t n_layers, const quant::PrecisionPlan& plan,
                                  double* n_weights) {
  std::vector<double> bits(static_cast<std::size_t>(n_layers + 1), 0.0);
  *n_weights = 0;
  for (const auto& t : m.tensors()) {
    if (t.shape.size() != 2) continue;
    const DType d = plan.dtype_for(t.name, t.dtype, t.shape[1]);
    const double b = 8.0 * static_cast<double>(row_bytes(d, static_cast<std::size_t>(t.shape[1]))) * t.shape[0];
    std::int64_t layer = n_layers;
    if (t.name.rfind("blk.", 0) == 0) layer = std::stoll(t.name.substr(4));
    bits[static_cast<std::size_t>(std::clamp<std::int64_t>(layer, 0, n_layers))] += b;
    *n_weights += static_cast<double>(t.shape[0] * t.shape[1]);
  }
  return bits;
}

std::vector<float> chunk_logits(const MixedPlanOptions& o, const quant::PrecisionPlan& plan,
                                const std::vector<std::int32_t>& tokens) {
  EngineConfig c;
  c.model_path = o.model_path;
  c.n_threads = o.n_threads;
  c.context_size = static_cast<std::int64_t>(tokens.size());
  c.plan = std::make_shared<const quant::PrecisionPlan>(plan);
  Engine e = load_engine(c);
  return e.session->prefill_all_logits(tokens);
}

}  // namespace

MixedPlanResult search_mixed_plan(const MixedPlanOptions& o, const std::function<void(std::int64_t, std::int64_t)>& progress) {
  if (o.budget_bits_per_weight <= 0) fail("--budget-bpw must be positive");
  if (o.calibration_tokens < 16) fail("the calibration needs at least 16 tokens");
  auto loaded = model::load_model(o.model_path);
  const std::int64_t n_layers = loaded->config().n_layers;

  MixedPlanResult result;
  double n_weights = 0;
  std::vector<std::int64_t> all_layers(static_cast<std::size_t>(n_layers));
  std::iota(all_layers.begin(), all_layers.end(), 0);
  const auto high_bits = bits_by_layer(*loaded, n_layers, plan_with_low_layers(o, {}), &n_weights);
  const auto low_bits = bits_by_layer(*loaded, n_layers, plan_with_low_layers(o, all_layers), &n_weights);
  const double total_high = std::accumulate(high_bits.begin(), high_bits.end(), 0.0);
  const double total_low = std::accumulate(low_bits.begin(), low_bits.end(), 0.0);
  result.high_bits_per_weight = total_high / n_weights;
  result.low_bits_per_weight = total_low / n_weights;
  if (o.budget_bits_per_weight < result.low_bits_per_weight) {
    fail("a budget of {:.3f} bits/weight is below what {} everywhere (with {} embeddings) reaches, {:.3f}; raise "
         "--budget-bpw or choose a smaller --low scheme", o.budget_bits_per_weight, o.low_scheme, o.high_scheme,
         result.low_bits_per_weight);
  }

  // Calibration tokens: the text through the model's own tokenizer, BOS first (as eaq quality).
  EngineConfig probe;
  probe.model_path = o.model_path;
  probe.n_threads = o.n_threads;
  probe.context_size = o.calibration_tokens;
  probe.precision = o.high_scheme;
  Engine reference = load_engine(probe);
  std::vector<std::int32_t> tokens = reference.tokenizer->encode(o.calibration_text, false);
  if (static_cast<std::int64_t>(tokens.size()) < o.calibration_tokens) {
    fail("the calibration text has {} tokens, fewer than the {} needed: give a longer --calibration file",
         tokens.size(), o.calibration_tokens);
  }
  tokens.resize(static_cast<std::size_t>(o.calibration_tokens));
  if (reference.tokenizer->add_bos() && reference.tokenizer->bos_id() >= 0) tokens[0] = reference.tokenizer->bos_id();
  const std::int64_t vocab = reference.lm->vocab_size();
  const std::int64_t first = o.calibration_tokens / 2;  // score the second half, as eaq quality
  std::vector<std::vector<double>> reference_log_probs;
  {
    const auto& logits = reference.session->prefill_all_logits(tokens);
    for (std::int64_t j = first; j + 1 < o.calibration_tokens; ++j) {
      reference_log_probs.push_back(quant::log_softmax(std::span<const float>(logits.data() + j * vocab, vocab)));
    }
  }
  reference = Engine{};

  for (std::int64_t l = 0; l < n_layers; ++l) {
    const auto logits = chunk_logits(o, plan_with_low_layers(o, {l}), tokens);
    double kl = 0;
    for (std::int64_t j = first; j + 1 < o.calibration_tokens; ++j) {
      kl += quant::compare_position(reference_log_probs[static_cast<std::size_t>(j - first)],
                                    std::span<const float>(logits.data() + j * vocab, vocab),
                                    tokens[static_cast<std::size_t>(j + 1)])
                .kl_divergence;
    }
    result.layers.push_back({l, kl / static_cast<double>(reference_log_probs.size()),
                             high_bits[static_cast<std::size_t>(l)] - low_bits[static_cast<std::size_t>(l)], false});
    if (progress) progress(l + 1, n_layers);
  }

  // Greedy: demote the layers with the least KL per saved bit until the budget holds.
  std::vector<std::size_t> order(result.layers.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto& x = result.layers[a];
    const auto& y = result.layers[b];
    return x.mean_kl_divergence / std::max(x.bits_saved, 1.0) < y.mean_kl_divergence / std::max(y.bits_saved, 1.0);
  });
  double bits = total_high;
  std::vector<std::int64_t> low_layers;
  for (std::size_t i : order) {
    if (bits / n_weights <= o.budget_bits_per_weight) break;
    result.layers[i].demoted = true;
    bits -= result.layers[i].bits_saved;
    low_layers.push_back(result.layers[i].layer);
  }
  std::sort(low_layers.begin(), low_layers.end());
  result.plan = plan_with_low_layers(o, low_layers);
  result.bits_per_weight = bits / n_weights;
  return result;
}

}  // namespace eaq::runtime
