// load_engine: model file → config + canonical tensors → DecoderLm; tokenizer from the model's
// own vocabulary unless overridden; chat template from the model's metadata.
#include "runtime/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/error.h"
#include "core/thread_pool.h"
#include "model/decoder_builder.h"
#include "model/model_loader.h"
#include "quant/precision_plan.h"
#include "quant/scheme_registry.h"
#include "tokenizer/tokenizer_factory.h"

#if EAQ_HAVE_CUDA
#include <cstdlib>

#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/cuda_gemv.h"
#include "model/cuda_decoder_lm.h"
#endif

namespace eaq::runtime {

namespace {

std::string describe_weights(const model::LoadedModel& m, const std::optional<DType>& target) {
  std::map<std::string, std::int64_t> by_dtype;
  for (const auto& t : m.tensors()) by_dtype[std::string(dtype_name(t.dtype))] += 1;
  std::string stored;
  for (const auto& [name, count] : by_dtype) stored += (stored.empty() ? "" : "+") + name;
  return stored + " → " + (target ? std::string(dtype_name(*target)) : "auto (f32/f16/bf16 as stored, others f32)");
}

}  // namespace

DeviceChoice parse_device(const std::string& device) {
  if (device.empty() || device == "cpu") return {};
  if (device == "cuda") return {true, 0};
  if (device.rfind("cuda:", 0) == 0) {
    const std::string index = device.substr(5);
    if (!index.empty() && index.size() < 4 && index.find_first_not_of("0123456789") == std::string::npos) {
      return {true, std::stoi(index)};
    }
  }
  fail("--device {} is not a device: use cpu, cuda or cuda:N (N = the GPU's index in `eaq hw`)", device);
}

bool cuda_backend_built() { return EAQ_HAVE_CUDA != 0; }

bool cuda_computes([[maybe_unused]] DType dtype) {
#if EAQ_HAVE_CUDA
  return kernels::cuda::gemv_supports(dtype);
#else
  return false;
#endif
}

void require_cuda_device(int index) {
#if EAQ_HAVE_CUDA
  kernels::cuda::select_cuda_device(index);
#else
  fail("--device cuda:{} asks for the CUDA backend, but this eaq was built without it (no nvcc at build time): "
       "rebuild where the CUDA toolkit is installed, or use --device cpu",
       index);
#endif
}

std::vector<std::int32_t> Engine::stop_token_ids() const {
  std::vector<std::int32_t> ids;
  auto add = [&](std::int64_t id) {
    if (id >= 0 && id < tokenizer->vocab_size() &&
        std::find(ids.begin(), ids.end(), static_cast<std::int32_t>(id)) == ids.end()) {
      ids.push_back(static_cast<std::int32_t>(id));
    }
  };
  add(tokenizer->eos_id());
  for (auto id : config.eos_token_ids) add(id);
  // End-of-turn markers of the chat formats (a model may end a turn with these instead of EOS).
  for (const char* piece : {"<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end_of_text|>", "<｜end▁of▁sentence｜>"}) {
    if (auto id = tokenizer->token_id(piece)) add(*id);
  }
  return ids;
}

std::vector<std::int32_t> Engine::chat_prompt_ids(const std::string& system_prompt, const std::string& user) const {
  if (chat_template.kind == tokenizer::ChatTemplateKind::kUnknown) {
    fail("this model has no chat template eaq recognises; run without --chat and write the prompt yourself");
  }
  std::vector<tokenizer::ChatMessage> messages;
  if (!system_prompt.empty()) messages.push_back({"system", system_prompt});
  messages.push_back({"user", user});
  const std::string bos = tokenizer->bos_id() >= 0 ? std::string(tokenizer->piece(tokenizer->bos_id())) : "";
  const std::string eos = tokenizer->eos_id() >= 0 ? std::string(tokenizer->piece(tokenizer->eos_id())) : "";
  std::string text = tokenizer::apply_chat_template(chat_template, messages, true, bos, eos);
  // The template writes BOS itself where the model wants one; encode without adding another.
  return tokenizer->encode(text, false);
}

Engine load_engine(const EngineConfig& config) {
  Engine engine;
  std::shared_ptr<model::LoadedModel> loaded = model::load_model(config.model_path);
  engine.config = loaded->config();
  engine.file_bytes = loaded->file_bytes();

  if (!config.tokenizer_path.empty()) {
    engine.tokenizer = tokenizer::load_tokenizer_file(config.tokenizer_path);
  } else {
    const auto& source = loaded->tokenizer_source();
    switch (source.kind) {
      case model::TokenizerSourceKind::kGguf:
        engine.tokenizer = tokenizer::load_tokenizer_from_gguf(*loaded->gguf());
        break;
      case model::TokenizerSourceKind::kTokenizerJson:
      case model::TokenizerSourceKind::kLlama2cBin:
        engine.tokenizer = tokenizer::load_tokenizer_file(source.path);
        break;
      case model::TokenizerSourceKind::kNone:
        fail("no tokenizer found for '{}': put tokenizer.json (or tokenizer.bin) beside it or pass --tokenizer FILE",
             config.model_path);
    }
  }
  if (engine.tokenizer->vocab_size() > engine.config.vocab_size) {
    fail("the tokenizer has {} tokens but the model only {}: they do not belong together",
         engine.tokenizer->vocab_size(), engine.config.vocab_size);
  }
  if (loaded->chat_template()) engine.chat_template = tokenizer::parse_chat_template(*loaded->chat_template());

  model::TensorLookup lookup;
  std::map<std::string, model::TensorView, std::less<>> views;
  for (const auto& t : loaded->tensors()) views.emplace(t.name, model::TensorView{t.dtype, t.shape, t.data});
  lookup = [&views](std::string_view name) -> const model::TensorView* {
    auto it = views.find(name);
    return it == views.end() ? nullptr : &it->second;
  };
  model::EngineOptions options;
  options.n_threads = config.n_threads > 0 ? config.n_threads : ThreadPool::default_threads();
  engine.n_threads = options.n_threads;
  options.weight_dtype = config.weight_dtype;
  engine.weights_description = describe_weights(*loaded, config.weight_dtype);
  if (config.plan || !config.plan_path.empty() || (!config.precision.empty() && config.precision != "auto")) {
    std::shared_ptr<const quant::PrecisionPlan> plan = config.plan;
    if (!plan) {
      plan = std::make_shared<quant::PrecisionPlan>(config.plan_path.empty()
                                                        ? quant::PrecisionPlan::for_scheme(config.precision)
                                                        : quant::PrecisionPlan::from_yaml_file(config.plan_path));
    }
    options.matrix_dtype = [plan](std::string_view name, DType stored, std::int64_t cols) {
      return plan->dtype_for(name, stored, cols);
    };
    options.quantize_row = quant::quantize_row;
    engine.weights_description = describe_weights(*loaded, std::nullopt);
    engine.weights_description = engine.weights_description.substr(0, engine.weights_description.find(" → ")) +
                                 " → " + plan->describe();
  }
  const DeviceChoice device = parse_device(config.device);
  if (config.quantize_block_activations && device.cuda) {
    fail("--activations q8 (block-quantized activations) runs on the CPU only: drop it or use --device cpu");
  }
  engine.lm = model::build_decoder_lm(engine.config, lookup, loaded, options);
  if (config.quantize_block_activations) {
    engine.lm->set_quantize_block_activations(true);
    engine.weights_description += ", activations q8 blocks for q8_0/q4_0/q4_1 (ggml's reference numerics)";
  }
  engine.model_file = loaded;
  engine.device_description = "cpu";
  model::CausalLm* runner = engine.lm.get();
  if (device.cuda) {
#if EAQ_HAVE_CUDA
    model::CudaModelOptions cuda;
    cuda.device_index = device.index;
    cuda.max_positions = config.context_size > 0 ? config.context_size
                         : engine.lm->context_length() > 0 ? std::min<std::int64_t>(engine.lm->context_length(), 4096)
                                                           : 4096;
    cuda.n_slots = std::max<std::int64_t>(1, config.n_slots);
    const char* half_gemv = std::getenv("EAQ_CUDA_HALF_GEMV");
    cuda.half_gemv_from_kernels = half_gemv != nullptr && std::string(half_gemv) == "kernels";
    const char* prefill = std::getenv("EAQ_CUDA_PREFILL");
    cuda.split_half_activations = prefill != nullptr && std::string(prefill) == "split";
    auto gpu = std::make_unique<model::CudaDecoderLm>(engine.lm->spec(), engine.lm->weights(), cuda);
    engine.device_description = gpu->description();
    engine.device_weight_bytes = gpu->weight_device_bytes();
    engine.device_kv_cache_bytes = gpu->kv_cache_bytes();
    engine.device_decode_weight_bytes = gpu->decode_weight_bytes();
    engine.device_lm = std::move(gpu);
    runner = engine.device_lm.get();
#else
    fail("--device {} asks for the CUDA backend, but this eaq was built without it (no nvcc at build time): "
         "rebuild where the CUDA toolkit is installed, or use --device cpu",
         config.device);
#endif
  }

  SessionOptions session_options;
  session_options.context_size = config.context_size;
  session_options.n_slots = config.n_slots;
  session_options.kv_dtype = config.kv_dtype;
  engine.session = std::make_unique<Session>(*runner, session_options);
  return engine;
}

std::vector<std::int32_t> fit_prompt(std::vector<std::int32_t> prompt, std::int64_t context_size,
                                     std::int64_t n_predict, bool truncate) {
  const auto n = static_cast<std::int64_t>(prompt.size());
  const std::int64_t room = context_size - std::max<std::int64_t>(n_predict, 0);
  if (n <= room) return prompt;
  if (!truncate) {
    fail("the prompt has {} tokens and {} more are to be generated, but the context holds {}: "
         "shorten the prompt, lower -n, raise --ctx, or pass --truncate to keep the prompt's last {} tokens",
         n, n_predict, context_size, std::max<std::int64_t>(room, 0));
  }
  if (room < 2) fail("-n {} leaves no room for the prompt in a context of {}", n_predict, context_size);
  std::vector<std::int32_t> kept;
  kept.push_back(prompt.front());  // keep BOS (or the first token)
  kept.insert(kept.end(), prompt.end() - (room - 1), prompt.end());
  return kept;
}

}  // namespace eaq::runtime
