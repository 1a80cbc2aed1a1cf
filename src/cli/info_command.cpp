// `eaq info MODEL [--json] [--tensors]`: what a model file holds — architecture, size, dtypes,
// bits per weight, the config the engine will run, tokenizer and chat template kinds.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "core/error.h"
#include "io/gguf_file.h"
#include "model/model_loader.h"
#include "tokenizer/chat_template.h"

namespace eaq::cli {

namespace {

using model::LoadedModel;
using model::TokenizerSourceKind;

constexpr std::uintmax_t kMaxTokenizerJsonBytes = 256u << 20;

struct TokenizerKind {
  std::string kind;  // "gguf:gpt2", "gguf:llama", "tokenizer.json:BPE", "llama2c", "none"
  std::string pre;   // GGUF tokenizer.ggml.pre, when present
};

TokenizerKind tokenizer_kind(const LoadedModel& m) {
  const auto& src = m.tokenizer_source();
  switch (src.kind) {
    case TokenizerSourceKind::kNone: return {"none", ""};
    case TokenizerSourceKind::kLlama2cBin: return {"llama2c", ""};
    case TokenizerSourceKind::kGguf: {
      const auto* g = m.gguf();
      return {"gguf:" + g->get_string("tokenizer.ggml.model").value_or("?"),
              g->get_string("tokenizer.ggml.pre").value_or("")};
    }
    case TokenizerSourceKind::kTokenizerJson: {
      std::error_code ec;
      auto size = std::filesystem::file_size(src.path, ec);
      if (ec || size > kMaxTokenizerJsonBytes) fail("cannot read '{}' (too large or unreadable)", src.path);
      std::ifstream in(src.path, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(ss.str());
      } catch (const nlohmann::json::exception& e) {
        fail("'{}' is not valid JSON ({})", src.path, e.what());
      }
      std::string type = "?";
      if (j.is_object() && j.contains("model") && j["model"].is_object() && j["model"].contains("type") &&
          j["model"]["type"].is_string()) {
        type = j["model"]["type"].get<std::string>();
      }
      return {"tokenizer.json:" + type, ""};
    }
  }
  return {"unknown", ""};
}

struct DTypeSummary {
  std::int64_t n_tensors = 0;
  std::int64_t n_elements = 0;
  std::uint64_t bytes = 0;
};

std::string human_bytes(std::uint64_t b) {
  if (b >= (1ull << 30)) return fmt::format("{:.2f} GiB", b / double(1ull << 30));
  if (b >= (1ull << 20)) return fmt::format("{:.2f} MiB", b / double(1ull << 20));
  if (b >= (1ull << 10)) return fmt::format("{:.1f} KiB", b / double(1ull << 10));
  return fmt::format("{} B", b);
}

std::string human_count(std::int64_t n) {
  if (n >= 1'000'000'000) return fmt::format("{:.2f} B", n / 1e9);
  if (n >= 1'000'000) return fmt::format("{:.2f} M", n / 1e6);
  if (n >= 1'000) return fmt::format("{:.1f} K", n / 1e3);
  return std::to_string(n);
}

// FNV-1a (64-bit) of a tensor's stored bytes: lets a reference reader check that eaq found each
// tensor's data where the file says it is (tests/reference/test_safetensors_reader.py).
std::string fnv1a64_hex(const std::uint8_t* data, std::uint64_t n_bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::uint64_t i = 0; i < n_bytes; ++i) {
    h ^= data[i];
    h *= 0x100000001b3ull;
  }
  return fmt::format("{:016x}", h);
}

nlohmann::ordered_json rope_json(const model::ModelConfig& c) {
  nlohmann::ordered_json r;
  r["layout"] = model::rope_layout_name(c.rope_layout);
  r["dim"] = c.rope_dim;
  r["theta"] = c.rope_theta;
  r["theta_local"] = c.rope_theta_local;
  const auto& s = c.rope_scaling;
  nlohmann::ordered_json sj;
  sj["type"] = model::rope_scaling_type_name(s.type);
  switch (s.type) {
    case model::RopeScalingType::kLinear: sj["factor"] = s.factor; break;
    case model::RopeScalingType::kLlama3:
      sj["factor"] = s.factor;
      sj["low_freq_factor"] = s.low_freq_factor;
      sj["high_freq_factor"] = s.high_freq_factor;
      sj["original_max_position_embeddings"] = s.original_max_position_embeddings;
      break;
    case model::RopeScalingType::kYarn:
      sj["factor"] = s.factor;
      sj["original_max_position_embeddings"] = s.original_max_position_embeddings;
      sj["beta_fast"] = s.beta_fast;
      sj["beta_slow"] = s.beta_slow;
      if (s.attention_factor) sj["attention_factor"] = *s.attention_factor;
      break;
    default: break;
  }
  r["scaling"] = sj;
  return r;
}

std::string rope_text(const model::ModelConfig& c) {
  std::string s = fmt::format("{} layout, dim {}, theta {:g}", model::rope_layout_name(c.rope_layout), c.rope_dim,
                              c.rope_theta);
  if (c.rope_theta_local != c.rope_theta) s += fmt::format(" (sliding layers {:g})", c.rope_theta_local);
  const auto& r = c.rope_scaling;
  switch (r.type) {
    case model::RopeScalingType::kNone: s += ", no scaling"; break;
    case model::RopeScalingType::kLinear: s += fmt::format(", linear scaling ×{:g}", r.factor); break;
    case model::RopeScalingType::kLlama3:
      s += fmt::format(", llama3 scaling ×{:g} (low {:g}, high {:g}, original ctx {})", r.factor, r.low_freq_factor,
                       r.high_freq_factor, r.original_max_position_embeddings);
      break;
    case model::RopeScalingType::kYarn:
      s += fmt::format(", yarn scaling ×{:g} (original ctx {})", r.factor, r.original_max_position_embeddings);
      break;
    case model::RopeScalingType::kFreqFactors: s += ", per-frequency factors (rope_freqs tensor)"; break;
  }
  return s;
}

void run_info(const std::string& path, bool as_json, bool list_tensors) {
  auto m = model::load_model(path);
  const auto& c = m->config();
  const std::int64_t n_params = m->n_params();
  const std::uint64_t weight_bytes = m->weight_bytes();
  // As llama.cpp reports it: stored weight bits over weights (headers and vocab not counted).
  const double bits_per_weight = n_params > 0 ? 8.0 * static_cast<double>(weight_bytes) / n_params : 0.0;

  std::map<std::string, DTypeSummary> dtypes;
  for (const auto& t : m->tensors()) {
    auto& d = dtypes[std::string(dtype_name(t.dtype))];
    d.n_tensors += 1;
    d.n_elements += t.n_elements();
    d.bytes += t.n_bytes;
  }
  const TokenizerKind tok = tokenizer_kind(*m);
  const auto& tmpl = m->chat_template();
  std::string template_kind = "none";
  if (tmpl) template_kind = std::string(tokenizer::chat_template_kind_name(tokenizer::detect_chat_template(*tmpl)));
  std::vector<std::int64_t> sliding;
  for (std::int64_t i = 0; i < c.n_layers; ++i) {
    if (c.is_sliding(i)) sliding.push_back(i);
  }

  if (as_json) {
    nlohmann::ordered_json j;
    j["path"] = m->path();
    j["format"] = model::model_format_name(m->format());
    j["architecture"] = model::architecture_name(c.architecture);
    j["source_architecture"] = c.source_architecture;
    j["synthetic"] = c.synthetic;
    j["n_params"] = n_params;
    j["n_tensors"] = m->tensors().size();
    j["file_bytes"] = m->file_bytes();
    j["weight_bytes"] = weight_bytes;
    j["bits_per_weight"] = bits_per_weight;
    j["n_layers"] = c.n_layers;
    j["hidden_size"] = c.hidden_size;
    j["intermediate_size"] = c.intermediate_size;
    j["n_heads"] = c.n_heads;
    j["n_kv_heads"] = c.n_kv_heads;
    j["head_dim"] = c.head_dim;
    j["vocab_size"] = c.vocab_size;
    j["context_length"] = c.context_length;
    j["rms_norm_eps"] = c.rms_norm_eps;
    j["rope"] = rope_json(c);
    j["qkv_bias"] = c.qkv_bias;
    j["attn_output_bias"] = c.attn_output_bias;
    j["qk_norm"] = c.qk_norm;
    j["tied_embeddings"] = c.tied_embeddings;
    j["sliding_window"] = c.sliding_window;
    j["sliding_layers"] = sliding;
    j["activation"] = model::activation_name(c.activation);
    j["embedding_scale"] = c.embedding_scale;
    j["norm_adds_one"] = c.norm_adds_one;
    j["attention_scale"] = c.attention_scale;
    j["final_logit_softcapping"] = c.final_logit_softcapping;
    j["attn_logit_softcapping"] = c.attn_logit_softcapping;
    j["bos_token_id"] = c.bos_token_id ? nlohmann::ordered_json(*c.bos_token_id) : nlohmann::ordered_json();
    j["eos_token_ids"] = c.eos_token_ids;
    j["tokenizer"] = tok.kind;
    if (!tok.pre.empty()) j["tokenizer_pre"] = tok.pre;
    j["tokenizer_path"] = m->tokenizer_source().path;
    j["chat_template"] = template_kind;
    nlohmann::ordered_json dj = nlohmann::ordered_json::object();
    for (const auto& [name, d] : dtypes) {
      dj[name] = {{"n_tensors", d.n_tensors}, {"n_elements", d.n_elements}, {"bytes", d.bytes}};
    }
    j["dtypes"] = dj;
    if (list_tensors) {
      nlohmann::ordered_json tj = nlohmann::ordered_json::array();
      for (const auto& t : m->tensors()) {
        tj.push_back({{"name", t.name},
                      {"source_name", t.source_name},
                      {"dtype", dtype_name(t.dtype)},
                      {"shape", t.shape},
                      {"bytes", t.n_bytes},
                      {"fnv1a64", fnv1a64_hex(t.data, t.n_bytes)}});
      }
      j["tensors"] = tj;
    }
    fmt::print("{}\n", j.dump(2));
    return;
  }

  auto row = [](std::string_view key, const std::string& value) { fmt::print("{:<16} {}\n", key, value); };
  row("model", m->path());
  row("format", std::string(model::model_format_name(m->format())));
  row("architecture", fmt::format("{} ({})", model::architecture_name(c.architecture), c.source_architecture));
  if (c.synthetic) row("weights", std::string("SYNTHETIC: random-initialised by eaq synth; speed and energy only, no accuracy"));
  row("parameters", fmt::format("{} ({})", human_count(n_params), n_params));
  row("file size", fmt::format("{} ({} bytes)", human_bytes(m->file_bytes()), m->file_bytes()));
  row("bits per weight", fmt::format("{:.3f} ({} of weights)", bits_per_weight, human_bytes(weight_bytes)));
  row("layers", std::to_string(c.n_layers));
  row("hidden size", std::to_string(c.hidden_size));
  row("ffn size", fmt::format("{} ({})", c.intermediate_size, model::activation_name(c.activation)));
  row("attention", fmt::format("{} heads, {} kv heads, head_dim {}{}{}", c.n_heads, c.n_kv_heads, c.head_dim,
                               c.qkv_bias ? ", qkv bias" : "", c.qk_norm ? ", qk norm" : ""));
  if (c.sliding_window > 0) {
    row("sliding window", fmt::format("{} on {} of {} layers", c.sliding_window, sliding.size(), c.n_layers));
  }
  row("rope", rope_text(c));
  row("vocab size", std::to_string(c.vocab_size));
  row("context length", std::to_string(c.context_length));
  row("norm", fmt::format("rms eps {:g}{}", c.rms_norm_eps, c.norm_adds_one ? ", weights +1 at run time" : ""));
  row("embeddings", fmt::format("{}{}", c.tied_embeddings ? "tied to output" : "separate output",
                                c.embedding_scale != 1.0 ? fmt::format(", scaled ×{:.4g}", c.embedding_scale) : ""));
  std::string tok_text = tok.kind + (tok.pre.empty() ? "" : " (pre: " + tok.pre + ")");
  if (!m->tokenizer_source().path.empty() && m->tokenizer_source().path != m->path()) {
    tok_text += " from " + m->tokenizer_source().path;
  }
  row("tokenizer", tok_text);
  row("chat template", template_kind);
  std::vector<std::pair<std::string, DTypeSummary>> sorted(dtypes.begin(), dtypes.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.bytes > b.second.bytes; });
  fmt::print("dtypes:\n");
  for (const auto& [name, d] : sorted) {
    fmt::print("  {:<8} {:>5} tensors {:>14} weights {:>12}\n", name, d.n_tensors, d.n_elements, human_bytes(d.bytes));
  }
  if (list_tensors) {
    fmt::print("tensors:\n");
    for (const auto& t : m->tensors()) {
      std::string shape;
      for (auto d : t.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
      fmt::print("  {:<32} {:<8} {:<14} {:>12}  {}\n", t.name, dtype_name(t.dtype), shape, t.n_bytes, t.source_name);
    }
  }
}

}  // namespace

void register_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Describe a model: architecture, parameters, dtypes, bits per weight, "
                                         "config, tokenizer and chat template");
  auto path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto list_tensors = std::make_shared<bool>(false);
  cmd->add_option("model", *path, "A .gguf file, a Hugging Face safetensors directory or a llama2.c .bin")
      ->required();
  cmd->add_flag("--json", *as_json, "Print one JSON object instead of text");
  cmd->add_flag("--tensors", *list_tensors, "Also list every tensor (canonical name, dtype, shape, bytes, source name; with --json also an FNV-1a 64 checksum of its bytes)");
  cmd->callback([path, as_json, list_tensors] { run_info(*path, *as_json, *list_tensors); });
}

}  // namespace eaq::cli
