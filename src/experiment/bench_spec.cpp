// BenchSpec validation and the precision → engine configuration mapping.
#include "experiment/bench_spec.h"

#include <algorithm>
#include <charconv>
#include <filesystem>

#include <fmt/ranges.h>

#include "core/error.h"
#include "core/thread_pool.h"
#include "quant/scheme_registry.h"

namespace eaq::experiment {

std::string Device::name() const { return kind == DeviceKind::kCpu ? "cpu" : "cuda:" + std::to_string(index); }

Device parse_device(std::string_view text) {
  if (text == "cpu") return {};
  if (text == "cuda") return {DeviceKind::kCuda, 0};
  if (text.substr(0, 5) == "cuda:") {
    int index = -1;
    const auto digits = text.substr(5);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec == std::errc() && end == digits.data() + digits.size() && index >= 0) return {DeviceKind::kCuda, index};
  }
  fail("--device {} is not a device: use cpu, cuda or cuda:N", text);
}

std::vector<std::string> supported_precisions(const Device& device) {
  std::vector<std::string> names;
  if (device.kind == DeviceKind::kCuda) {
    if (!runtime::cuda_backend_built()) {
      fail("--device {}: this eaq was built without the CUDA backend (no nvcc at build time): rebuild where the "
           "CUDA toolkit is installed, or use --device cpu",
           device.name());
    }
    // Only the schemes whose every matrix the GPU computes in its own format: the others would
    // go up as f16 and measure f16 under another name.
    for (const auto& scheme : quant::schemes()) {
      if (runtime::cuda_computes(scheme.matrix_dtype) && runtime::cuda_computes(scheme.embedding_dtype)) {
        names.emplace_back(scheme.name);
      }
    }
    return names;
  }
  for (const auto& scheme : quant::schemes()) names.emplace_back(scheme.name);
  return names;
}

namespace {

bool is_plain_dtype(const std::string& precision) {
  return precision == "f32" || precision == "f16" || precision == "bf16";
}

bool is_known_precision(const std::string& precision) {
  return is_plain_dtype(precision) || precision == "native" || quant::find_scheme(precision) != nullptr ||
         precision.rfind("plan:", 0) == 0;
}

}  // namespace

void validate(const BenchSpec& spec) {
  namespace fs = std::filesystem;
  if (spec.model_path.empty()) fail("no model: give -m MODEL (a .gguf file, an HF directory or a llama2.c .bin)");
  std::error_code ec;
  if (!fs::exists(spec.model_path, ec)) {
    fail("-m {}: no such file or directory; check the path (the default model comes from scripts/fetch_models.sh)",
         spec.model_path);
  }
  if (spec.n_prompt < 1) fail("-p {} is invalid: the prompt needs at least 1 token", spec.n_prompt);
  if (spec.n_gen < 1) fail("-n {} is invalid: generate at least 1 token (decode is what bench times)", spec.n_gen);
  if (spec.repetitions < 1) fail("-r {} is invalid: use at least 1 repetition (5 gives a useful 95% CI)", spec.repetitions);
  if (spec.n_threads < 0) fail("--threads {} is invalid: use a positive count", spec.n_threads);
  if (!(spec.idle_s >= 0 && spec.idle_s <= 600)) fail("--idle {} must be within [0, 600] s", spec.idle_s);
  if (!(spec.cooldown_s >= 0 && spec.cooldown_s <= 600)) fail("--cooldown {} must be within [0, 600] s", spec.cooldown_s);
  if (spec.precisions.empty()) fail("--precision is empty: give a comma-separated list, e.g. f32,q8_0,q4_0");
  const auto supported = supported_precisions(spec.device);  // throws for a device not built yet
  for (const auto& precision : spec.precisions) {
    if (!is_known_precision(precision)) {
      fail("--precision {}: not a precision on {}: use f32, f16, bf16, native, plan:FILE.yaml or a scheme ({})",
           precision, spec.device.name(), quant::scheme_names());
    }
    if (spec.device.kind == DeviceKind::kCuda && precision != "native" && precision.rfind("plan:", 0) != 0 &&
        precision != "f16" && precision != "bf16" &&
        std::find(supported.begin(), supported.end(), precision) == supported.end()) {
      fail("--precision {}: the CUDA backend has no kernel for it (it would run as f16); on {} use f16, bf16, "
           "native, plan:FILE.yaml or one of: {}",
           precision, spec.device.name(), fmt::join(supported, ","));
    }
    if (precision.rfind("plan:", 0) == 0 && !fs::exists(precision.substr(5), ec)) {
      fail("--precision {}: the plan file '{}' does not exist", precision, precision.substr(5));
    }
  }
  if (spec.quality.enabled) {
    if (!is_known_precision(spec.quality.reference)) {
      fail("--reference {} is not a precision: use f32, f16, bf16, native or a scheme", spec.quality.reference);
    }
    if (spec.quality.chunk_tokens < 16) fail("--quality-chunk {} is too small: use at least 16 tokens", spec.quality.chunk_tokens);
    if (spec.quality.max_chunks < 1) fail("--quality-chunks {} is invalid: use at least 1", spec.quality.max_chunks);
  }
  // Last, so that flag errors come first: the GPU must be there (not found after loading a model).
  if (spec.device.kind == DeviceKind::kCuda) runtime::require_cuda_device(spec.device.index);
}

runtime::EngineConfig engine_config_for(const BenchSpec& spec, const std::string& precision) {
  runtime::EngineConfig c;
  c.model_path = spec.model_path;
  c.n_threads = spec.n_threads > 0 ? spec.n_threads : ThreadPool::default_threads();
  c.context_size = spec.n_prompt + spec.n_gen;
  c.device = spec.device.name();
  if (is_plain_dtype(precision)) {
    c.weight_dtype = dtype_from_name(precision);
  } else if (precision.rfind("plan:", 0) == 0) {
    c.plan_path = precision.substr(5);
  } else if (precision == "native" || quant::find_scheme(precision) != nullptr) {
    c.precision = precision;
  } else {
    fail("precision '{}' is unknown: use f32, f16, bf16, native, plan:FILE.yaml or a scheme ({})", precision,
         quant::scheme_names());
  }
  return c;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace eaq::experiment
