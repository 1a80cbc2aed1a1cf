// Synthetic models: a random-initialised model of a real architecture, written from a Hugging Face
// config.json alone, so speed and energy can be measured for models whose weights are not at hand
// (Llama-2-7B, Mistral-7B, DeepSeek-Coder-1.3B, DeepSeek-R1-Distill-Qwen-1.5B shapes, ...). The
// output is a Hugging Face folder (config.json + model.safetensors) that eaq and transformers
// both load; config.json carries "eaq_synthetic": true and the safetensors metadata
// eaq.synthetic = "true", and every eaq output that names the model says it is synthetic.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/dtype.h"
#include "model/model_config.h"

namespace eaq::model {

struct SynthOptions {
  std::string config_path;  // a Hugging Face config.json
  std::string out_dir;      // created if missing; must not already hold a model.safetensors
  DType dtype = DType::F16;  // F32, F16 or BF16
  std::uint64_t seed = 0;
  int n_threads = 0;  // 0 = ThreadPool::default_threads()
};

struct SynthSummary {
  ModelConfig config;
  std::int64_t n_tensors = 0;
  std::uint64_t n_parameters = 0;
  std::uint64_t n_bytes = 0;  // of model.safetensors' tensor data
};

// Weights: every matrix and bias ~ N(0, initializer_range²) (config.json's initializer_range,
// 0.02 when absent, as transformers' _init_weights); RMSNorm weights 1 (0 for gemma, whose HF
// norm multiplies by 1 + w). The values depend on the seed, the tensor and the element index only
// (not on the thread count). progress(bytes_done, bytes_total) is called as data is written.
SynthSummary write_synthetic_model(const SynthOptions& options,
                                   const std::function<void(std::uint64_t, std::uint64_t)>& progress = {});

}  // namespace eaq::model
