// quantize_gguf_file: rewrites a GGUF model with its weight matrices in the dtypes a
// PrecisionPlan chooses (metadata copied; 1-D tensors such as norms kept as stored). GGUF
// q8_0 / q4_0 / q4_1 outputs are byte-identical to the gguf package's quantizer and load in
// llama.cpp; eaq's own formats (int4-gN, nf4, int8, fp8) use GGML type ids from 1024 up
// (io/gguf_file.cpp), which llama.cpp and the gguf package reject — those files are for eaq.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "quant/precision_plan.h"

namespace eaq::quant {

struct QuantizeSummary {
  std::int64_t n_tensors = 0;
  std::int64_t n_quantized = 0;  // tensors whose dtype changed
  std::uint64_t weight_count = 0;
  std::uint64_t weight_bytes = 0;  // bytes of the 2-D tensors in the output
  double bits_per_weight() const { return weight_count ? 8.0 * weight_bytes / weight_count : 0.0; }
};

QuantizeSummary quantize_gguf_file(const std::string& in_path, const std::string& out_path, const PrecisionPlan& plan,
                                   const std::function<void(const std::string& tensor, DType from, DType to)>& on_tensor = {});

}  // namespace eaq::quant
