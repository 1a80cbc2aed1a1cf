// search_mixed_plan: an automatic mixed-precision plan under a bits-per-weight budget. Each
// decoder layer's sensitivity is measured on calibration text as the mean KL divergence of the
// model's next-token distributions when that layer alone is quantized to the low scheme (the rest
// at the high scheme); layers are then demoted greedily, least KL per saved bit first, until the
// whole model's matrices (embeddings included) fit the budget.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "quant/precision_plan.h"

namespace eaq::runtime {

struct MixedPlanOptions {
  std::string model_path;
  std::string high_scheme = "int8";
  std::string low_scheme = "int4-g32";
  double budget_bits_per_weight = 0;
  std::string calibration_text;
  std::int64_t calibration_tokens = 256;
  int n_threads = 1;
};

struct LayerSensitivity {
  std::int64_t layer = 0;
  double mean_kl_divergence = 0;  // nats, vs all layers at the high scheme
  double bits_saved = 0;          // bits of the layer's matrices, high minus low
  bool demoted = false;
};

struct MixedPlanResult {
  quant::PrecisionPlan plan;
  std::vector<LayerSensitivity> layers;  // in layer order
  double bits_per_weight = 0;            // of the plan (all 2-D matrices)
  double high_bits_per_weight = 0;       // everything at the high scheme
  double low_bits_per_weight = 0;        // every layer at the low scheme
};

// progress(done, total) after each measured layer.
MixedPlanResult search_mixed_plan(const MixedPlanOptions& options,
                                  const std::function<void(std::int64_t, std::int64_t)>& progress = {});

}  // namespace eaq::runtime
