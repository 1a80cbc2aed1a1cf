#include "model/synthetic_model.h"

#include <cmath>
#include <numbers>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "io/hf_config.h"
#include "io/safetensors_writer.h"
#include "model/tensor_table.h"

namespace eaq::model {

namespace {

// Values come in blocks of kBlockElements, each from its own generator seeded by (seed, tensor,
// block): any chunking of the output and any thread count give the same bytes.
constexpr std::uint64_t kBlockElements = 4096;

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in (0, 1]: 53 random bits.
double uniform01(std::uint64_t& state) { return (static_cast<double>(splitmix64(state) >> 11) + 1.0) * 0x1.0p-53; }

enum class Init { kNormal, kOnes, kZeros };

struct SynthTensor {
  safetensors::TensorDeclaration decl;
  Init init = Init::kNormal;
};

void fill_block(std::uint64_t seed, std::size_t tensor, std::uint64_t block, Init init, float stddev, float* out,
                std::size_t n) {
  if (init != Init::kNormal) {
    std::fill(out, out + n, init == Init::kOnes ? 1.0f : 0.0f);
    return;
  }
  std::uint64_t state = seed * 0x2545F4914F6CDD1Dull ^ (static_cast<std::uint64_t>(tensor) << 40) ^ block;
  splitmix64(state);
  for (std::size_t i = 0; i < n; i += 2) {  // Box-Muller: two normals per pair of uniforms
    const double r = std::sqrt(-2.0 * std::log(uniform01(state)));
    const double theta = 2.0 * std::numbers::pi * uniform01(state);
    out[i] = static_cast<float>(stddev * r * std::cos(theta));
    if (i + 1 < n) out[i + 1] = static_cast<float>(stddev * r * std::sin(theta));
  }
}

void store(DType dtype, const float* values, std::size_t n, std::uint8_t* out) {
  switch (dtype) {
    case DType::F32: std::memcpy(out, values, n * 4); break;
    case DType::F16:
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint16_t h = f32_to_f16(values[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      break;
    case DType::BF16:
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint16_t h = f32_to_bf16(values[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      break;
    default: fail("synthetic models are written in f32, f16 or bf16, not {}", dtype_name(dtype));
  }
}

std::string torch_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "float32";
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    default: fail("synthetic models are written in f32, f16 or bf16, not {}", dtype_name(dtype));
  }
}

}  // namespace

SynthSummary write_synthetic_model(const SynthOptions& options,
                                   const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  const std::string torch_dtype = torch_dtype_name(options.dtype);
  const io::HfConfig hf = io::HfConfig::open(options.config_path);
  SynthSummary summary;
  summary.config = config_from_hf(hf);
  const ModelConfig& config = summary.config;
  const bool gemma = config.architecture == Architecture::kGemma3;
  const std::optional<io::HfConfig> text = hf.object("text_config");
  const double init_range =
      hf.find_double("initializer_range").value_or(text ? text->find_double("initializer_range").value_or(0.02) : 0.02);
  if (!(init_range > 0.0 && init_range < 10.0)) {
    fail("'{}': initializer_range = {} must be in (0, 10)", options.config_path, init_range);
  }

  std::vector<SynthTensor> tensors;
  for (const TensorSpec& spec : tensor_table(config.architecture)) {
    if (spec.hf_name.empty() || !is_expected(spec, config)) continue;
    const std::vector<std::int64_t> shape = expected_shape(spec, config);
    const bool is_norm = shape.size() == 1 && spec.name.find("norm") != std::string_view::npos;
    const Init init = is_norm ? (gemma ? Init::kZeros : Init::kOnes) : Init::kNormal;
    const std::int64_t n_copies = spec.per_layer() ? config.n_layers : 1;
    for (std::int64_t layer = 0; layer < n_copies; ++layer) {
      SynthTensor t;
      t.decl.name = spec.per_layer() ? layer_tensor_name(spec.hf_name, layer) : std::string(spec.hf_name);
      t.decl.dtype = options.dtype;
      t.decl.shape = shape;
      t.init = init;
      tensors.push_back(std::move(t));
    }
  }
  std::vector<safetensors::TensorDeclaration> decls;
  for (const SynthTensor& t : tensors) {
    decls.push_back(t.decl);
    std::uint64_t n = 1;
    for (std::int64_t d : t.decl.shape) n *= static_cast<std::uint64_t>(d);
    summary.n_parameters += n;
    summary.n_bytes += t.decl.n_bytes();
  }
  summary.n_tensors = static_cast<std::int64_t>(tensors.size());

  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec) fail("cannot create the output folder '{}': {}", options.out_dir, ec.message());
  const fs::path weights_path = fs::path(options.out_dir) / "model.safetensors";
  if (fs::exists(weights_path)) {
    fail("'{}' already exists; choose an empty output folder (eaq synth never overwrites weights)", weights_path.string());
  }

  ThreadPool pool(options.n_threads > 0 ? options.n_threads : ThreadPool::default_threads());
  const std::size_t elem_bytes = traits(options.dtype).block_bytes;
  std::uint64_t bytes_done = 0;
  auto fill = [&](std::size_t index, std::uint64_t offset_bytes, std::span<std::uint8_t> out) {
    const std::uint64_t first = offset_bytes / elem_bytes;
    const std::uint64_t count = out.size() / elem_bytes;
    const std::uint64_t first_block = first / kBlockElements;
    const std::uint64_t last_block = (first + count - 1) / kBlockElements;
    const float stddev = static_cast<float>(init_range);
    pool.parallel_for(last_block - first_block + 1, [&](std::size_t begin, std::size_t end) {
      std::vector<float> values(kBlockElements);
      for (std::size_t b = begin; b < end; ++b) {
        const std::uint64_t block = first_block + b;
        fill_block(options.seed, index, block, tensors[index].init, stddev, values.data(), kBlockElements);
        // The part of this block inside [first, first + count).
        const std::uint64_t lo = std::max(block * kBlockElements, first);
        const std::uint64_t hi = std::min((block + 1) * kBlockElements, first + count);
        store(options.dtype, values.data() + (lo - block * kBlockElements), hi - lo,
              out.data() + (lo - first) * elem_bytes);
      }
    });
    bytes_done += out.size();
    if (progress) progress(bytes_done, summary.n_bytes);
  };
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"eaq.synthetic", "true"}, {"eaq.synth_seed", std::to_string(options.seed)}};
  safetensors::write_safetensors(weights_path.string(), decls, metadata, fill);

  // config.json: the input, flagged synthetic, with the stored dtype.
  nlohmann::json out_config = hf.json();
  out_config["eaq_synthetic"] = true;
  out_config["eaq_synth_seed"] = options.seed;
  out_config["torch_dtype"] = torch_dtype;
  const fs::path config_out = fs::path(options.out_dir) / "config.json";
  {
    std::ofstream f(config_out);
    f << out_config.dump(2) << "\n";
    if (!f) fail("cannot write '{}'", config_out.string());
  }
  return summary;
}

}  // namespace eaq::model
