// Engine: everything needed to run a model file — the loaded file, its tokenizer, the model
// (DecoderLm on the CPU) and a Session — built from one EngineConfig.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/decoder_lm.h"
#include "model/model_config.h"
#include "quant/precision_plan.h"
#include "runtime/session.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace eaq::runtime {

struct EngineConfig {
  std::string model_path;
  std::string tokenizer_path;  // empty = the model's own (GGUF vocabulary, tokenizer.json, tokenizer.bin)
  int n_threads = 0;           // 0 = ThreadPool::default_threads()
  std::int64_t context_size = 0;
  std::int64_t n_slots = 1;
  std::optional<DType> weight_dtype;  // nullopt = f32/f16/bf16 as stored, others converted to f32
  // A precision scheme (quant/scheme_registry.h: "int8", "int4-g32", "nf4", "q8_0", ...) or
  // "native" (the file's own formats computed directly); used instead of weight_dtype when set.
  // "" or "auto" = weight_dtype.
  std::string precision;
  std::string plan_path;  // a YAML precision plan (quant/precision_plan.h); overrides precision
  std::shared_ptr<const quant::PrecisionPlan> plan;  // a plan in memory; overrides both
  DType kv_dtype = DType::F32;
  // Where the model runs: "cpu", or "cuda" / "cuda:N" (the CUDA backend on GPU N; weights that
  // are f32 or in a format without a GPU kernel go up as f16, and the KV cache is f16 there).
  std::string device = "cpu";
  // ggml's reference numerics for Q8_0/Q4_0/Q4_1 matrices: activations quantized to 8-bit blocks
  // (kernels::KernelContext::quantize_block_activations). CPU only.
  bool quantize_block_activations = false;
};

struct DeviceChoice {
  bool cuda = false;
  int index = 0;
};
// "cpu", "cuda", "cuda:N" → a DeviceChoice; eaq::Error naming the flag value otherwise.
DeviceChoice parse_device(const std::string& device);

// Whether eaq was built with the CUDA backend.
bool cuda_backend_built();
// Whether the CUDA backend computes weights of `dtype` in their own format (its GEMV kernels);
// other dtypes go up as f16. False when the backend was not built.
bool cuda_computes(DType dtype);
// eaq::Error saying why GPU `index` cannot run the backend (no driver, no GPU, index out of
// range, too old), or that the backend was not built; returns when it can.
void require_cuda_device(int index);

struct Engine {
  std::shared_ptr<const void> model_file;  // keeps the mapping alive
  model::ModelConfig config;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  tokenizer::ChatTemplate chat_template;
  std::unique_ptr<model::DecoderLm> lm;  // the CPU model (holds the host weights)
  // The model on a GPU when EngineConfig::device names one (the session runs it); else null.
  std::unique_ptr<model::CausalLm> device_lm;
  std::string device_description;  // "cpu", or the GPU, its weight formats and GEMV paths
  // With device_lm: the bytes its weights take on the GPU (f32 and kernel-less formats go up as
  // f16), its KV cache, and the weight bytes one decode step reads. 0 on the CPU.
  std::size_t device_weight_bytes = 0;
  std::size_t device_kv_cache_bytes = 0;
  std::size_t device_decode_weight_bytes = 0;
  std::unique_ptr<Session> session;
  std::string weights_description;  // e.g. "q4_1 → f32"
  int n_threads = 0;                 // the CPU threads it computes with (EngineConfig's 0 resolved)
  std::uint64_t file_bytes = 0;

  // The ids that end a turn: EOS and the template's end-of-turn token.
  std::vector<std::int32_t> stop_token_ids() const;
  // One user turn (after an optional system prompt) with the generation prompt, tokenized.
  std::vector<std::int32_t> chat_prompt_ids(const std::string& system_prompt, const std::string& user) const;
};

Engine load_engine(const EngineConfig& config);

// Checks that prompt + n_predict fit the context: with truncate, keeps the prompt's last tokens
// (after the first, BOS, token); without, throws eaq::Error saying by how much it is too long.
std::vector<std::int32_t> fit_prompt(std::vector<std::int32_t> prompt, std::int64_t context_size,
                                     std::int64_t n_predict, bool truncate);

}  // namespace eaq::runtime
