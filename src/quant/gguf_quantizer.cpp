// quantize_gguf_file: one row at a time (dequantize the stored row to f32, quantize to the
// target), so no f32 copy of a whole matrix is needed.
#include "quant/gguf_quantizer.h"

#include <vector>

#include "core/error.h"
#include "io/gguf_file.h"
#include "io/gguf_writer.h"
#include "quant/scheme_registry.h"

namespace eaq::quant {

namespace {

// llama.cpp's general.file_type (enum llama_ftype) for files whose matrices are all one type.
std::optional<std::uint32_t> llama_file_type(DType d) {
  switch (d) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q4_1: return 3;
    case DType::Q8_0: return 7;
    case DType::BF16: return 32;
    default: return std::nullopt;
  }
}

}  // namespace

QuantizeSummary quantize_gguf_file(const std::string& in_path, const std::string& out_path, const PrecisionPlan& plan,
                                   const std::function<void(const std::string&, DType, DType)>& on_tensor) {
  auto in = gguf::GgufFile::open(in_path);
  gguf::GgufWriter writer;
  writer.copy_metadata_from(*in);
  QuantizeSummary summary;
  std::optional<DType> matrix_dtype;  // the dtype of the non-embedding matrices, if they share one
  bool mixed = false;
  std::vector<float> row_f32;
  for (const auto& t : in->tensors()) {
    ++summary.n_tensors;
    if (t.shape.size() != 2) {
      writer.add_tensor(t.name, t.dtype, t.shape, std::span<const std::uint8_t>(t.data, t.n_bytes));
      continue;
    }
    const std::int64_t rows = t.shape[0], cols = t.shape[1];
    const DType target = plan.dtype_for(t.name, t.dtype, cols);
    if (!is_embedding_tensor(t.name)) {
      if (matrix_dtype && *matrix_dtype != target) mixed = true;
      matrix_dtype = target;
    }
    if (on_tensor) on_tensor(t.name, t.dtype, target);
    summary.weight_count += static_cast<std::uint64_t>(rows * cols);
    if (target == t.dtype) {
      summary.weight_bytes += t.n_bytes;
      writer.add_tensor(t.name, t.dtype, t.shape, std::span<const std::uint8_t>(t.data, t.n_bytes));
      continue;
    }
    const std::size_t src_row = row_bytes(t.dtype, static_cast<std::size_t>(cols));
    const std::size_t dst_row = row_bytes(target, static_cast<std::size_t>(cols));
    std::vector<std::uint8_t> out(dst_row * static_cast<std::size_t>(rows));
    row_f32.resize(static_cast<std::size_t>(cols));
    for (std::int64_t r = 0; r < rows; ++r) {
      dequantize(t.dtype, t.data + r * src_row, row_f32.data(), static_cast<std::size_t>(cols));
      try {
        quantize_row(target, row_f32.data(), out.data() + r * dst_row, static_cast<std::size_t>(cols));
      } catch (const Error& e) {
        fail("{}: tensor '{}' row {}: {}", in_path, t.name, r, e.what());
      }
    }
    summary.weight_bytes += out.size();
    ++summary.n_quantized;
    writer.add_tensor(t.name, target, t.shape, std::move(out));
  }
  if (matrix_dtype && !mixed) {
    if (auto ft = llama_file_type(*matrix_dtype)) {
      writer.set_uint32("general.file_type", *ft);
    } else {
      writer.remove("general.file_type");
    }
  } else {
    writer.remove("general.file_type");
  }
  writer.set_string("eaq.quantization.plan", plan.describe());
  writer.write(out_path);
  return summary;
}

}  // namespace eaq::quant
