// GGUF-embedded vocabularies → BpeTokenizer (gpt2) or SentencePieceTokenizer (llama).
#include "tokenizer/gguf_tokenizer.h"

#include <fmt/format.h>

#include "core/error.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/sentencepiece_tokenizer.h"

namespace eaq::tokenizer {
namespace {

constexpr const char* kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr const char* kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::vector<std::string> string_array(const gguf::GgufFile& file, const char* key) {
  const auto& array = file.get(key).as_array(key);
  std::vector<std::string> out;
  out.reserve(array.items.size());
  for (const auto& item : array.items) out.push_back(item.as_string(key));
  return out;
}

std::vector<TokenType> token_types(const gguf::GgufFile& file, std::size_t n_tokens) {
  std::vector<TokenType> types(n_tokens, TokenType::kNormal);
  const auto* value = file.find("tokenizer.ggml.token_type");
  if (value == nullptr) return types;
  const auto& array = value->as_array("tokenizer.ggml.token_type");
  if (array.items.size() != n_tokens) {
    fail("{}: tokenizer.ggml.token_type has {} entries but tokenizer.ggml.tokens has {}", file.path(),
         array.items.size(), n_tokens);
  }
  for (std::size_t i = 0; i < n_tokens; ++i) {
    auto t = array.items[i].as_int("tokenizer.ggml.token_type");
    if (t < 1 || t > 6) {
      fail("{}: tokenizer.ggml.token_type[{}] = {} is not a token type (1..6)", file.path(), i, t);
    }
    types[i] = static_cast<TokenType>(t);
  }
  return types;
}

std::int32_t special_id(const gguf::GgufFile& file, const char* key, std::size_t n_tokens) {
  auto id = file.get_int(key);
  if (!id) return -1;
  if (*id < 0 || static_cast<std::size_t>(*id) >= n_tokens) {
    fail("{}: {} = {} is outside the vocabulary of {} tokens", file.path(), key, *id, n_tokens);
  }
  return static_cast<std::int32_t>(*id);
}

std::unique_ptr<Tokenizer> load_gpt2(const gguf::GgufFile& file) {
  auto tokens = string_array(file, "tokenizer.ggml.tokens");
  auto merges = string_array(file, "tokenizer.ggml.merges");
  auto types = token_types(file, tokens.size());
  std::string pre = file.get_string("tokenizer.ggml.pre").value_or("default");

  BpeTokenizerParts parts;
  parts.kind = "gguf-gpt2";
  parts.pieces = tokens;
  parts.types = types;
  // Control and user-defined tokens are matched in the text, as llama.cpp's parse_special.
  std::vector<std::string> model_pieces = tokens;
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    if (types[id] == TokenType::kControl || types[id] == TokenType::kUserDefined) {
      parts.added_tokens.push_back({tokens[id], static_cast<std::int32_t>(id),
                                    types[id] == TokenType::kControl});
    }
  }
  auto model = std::make_unique<BpeModel>(std::move(model_pieces), BpeOptions{});
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const auto& m = merges[i];
    auto space = m.find(' ', 1);
    if (space == std::string::npos) {
      fail("{}: tokenizer.ggml.merges[{}] = \"{}\" is not \"left right\"", file.path(), i, m);
    }
    model->add_merge(std::string_view(m).substr(0, space), std::string_view(m).substr(space + 1),
                     static_cast<std::int32_t>(i), fmt::format("{}: tokenizer.ggml.merges[{}]", file.path(), i));
  }
  parts.model = std::move(model);
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  for (const auto& regex : gguf_pre_tokenizer_regexes(pre, file.path())) {
    steps.push_back(make_regex_split(regex, SplitBehavior::kIsolated, false,
                                     fmt::format("{}: tokenizer.ggml.pre '{}'", file.path(), pre)));
  }
  steps.push_back(make_byte_level_pre_tokenizer(false, false));
  parts.pre_tokenizer = make_sequence_pre_tokenizer(std::move(steps));
  parts.decoder = make_byte_level_decoder();

  std::int32_t bos = special_id(file, "tokenizer.ggml.bos_token_id", tokens.size());
  std::int32_t eos = special_id(file, "tokenizer.ggml.eos_token_id", tokens.size());
  bool add_bos = file.get_bool("tokenizer.ggml.add_bos_token").value_or(false) && bos >= 0;
  bool add_eos = file.get_bool("tokenizer.ggml.add_eos_token").value_or(false) && eos >= 0;
  if (add_bos) parts.prefix_ids.push_back(bos);
  if (add_eos) parts.suffix_ids.push_back(eos);
  auto tokenizer = std::make_unique<BpeTokenizer>(std::move(parts));
  tokenizer->set_special_ids(bos, eos, special_id(file, "tokenizer.ggml.padding_token_id", tokens.size()),
                             special_id(file, "tokenizer.ggml.unknown_token_id", tokens.size()));
  tokenizer->set_add_bos(add_bos);
  return tokenizer;
}

std::unique_ptr<Tokenizer> load_llama(const gguf::GgufFile& file) {
  SentencePieceVocab vocab;
  vocab.kind = "gguf-llama";
  vocab.pieces = string_array(file, "tokenizer.ggml.tokens");
  vocab.types = token_types(file, vocab.pieces.size());
  vocab.scores.assign(vocab.pieces.size(), 0.0f);
  if (const auto* scores = file.find("tokenizer.ggml.scores")) {
    const auto& array = scores->as_array("tokenizer.ggml.scores");
    if (array.items.size() != vocab.pieces.size()) {
      fail("{}: tokenizer.ggml.scores has {} entries but tokenizer.ggml.tokens has {}", file.path(),
           array.items.size(), vocab.pieces.size());
    }
    for (std::size_t i = 0; i < array.items.size(); ++i) {
      vocab.scores[i] = static_cast<float>(array.items[i].as_double("tokenizer.ggml.scores"));
    }
  }
  vocab.byte_ids.fill(-1);
  for (std::size_t id = 0; id < vocab.pieces.size(); ++id) {
    const auto& p = vocab.pieces[id];
    if (vocab.types[id] == TokenType::kByte && p.size() == 6 && p.starts_with("<0x")) {
      int value = std::stoi(p.substr(3, 2), nullptr, 16);
      vocab.byte_ids[value] = static_cast<std::int32_t>(id);
    }
  }
  vocab.spaces_as_metaspace = true;
  vocab.add_space_prefix = file.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
  std::int32_t bos = special_id(file, "tokenizer.ggml.bos_token_id", vocab.pieces.size());
  std::int32_t eos = special_id(file, "tokenizer.ggml.eos_token_id", vocab.pieces.size());
  vocab.add_eos = file.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
  std::size_t n = vocab.pieces.size();
  auto tokenizer = std::make_unique<SentencePieceTokenizer>(std::move(vocab));
  tokenizer->set_special_ids(bos, eos, special_id(file, "tokenizer.ggml.padding_token_id", n),
                             special_id(file, "tokenizer.ggml.unknown_token_id", n));
  tokenizer->set_add_bos(file.get_bool("tokenizer.ggml.add_bos_token").value_or(true) && bos >= 0);
  return tokenizer;
}

}  // namespace

std::vector<std::string> gguf_pre_tokenizer_regexes(const std::string& pre, const std::string& path) {
  if (pre == "gpt2" || pre == "gpt-2" || pre == "mpt" || pre == "olmo" || pre == "jais") return {kGpt2Regex};
  if (pre == "llama3" || pre == "llama-bpe" || pre == "llama-v3" || pre == "falcon3" || pre == "pixtral") {
    return {kLlama3Regex};
  }
  if (pre == "qwen2" || pre == "stablelm2" || pre == "deepseek-r1-qwen" || pre == "hunyuan") return {kQwen2Regex};
  if (pre == "smollm" || pre == "starcoder" || pre == "refact" || pre == "command-r" || pre == "codeshell" ||
      pre == "exaone" || pre == "minerva-7b") {
    return {R"(\p{N})", kGpt2Regex};
  }
  if (pre == "default") {
    return {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2Regex, R"(\p{N}+)", "[0-9][0-9][0-9]"};
  }
  fail("{}: tokenizer.ggml.pre = '{}' is a pre-tokenizer eaq does not know (known: default, gpt2, "
       "llama-bpe/llama3, qwen2, smollm, starcoder, ...). Use the model's tokenizer.json with --tokenizer.",
       path, pre);
}

std::unique_ptr<Tokenizer> load_tokenizer_from_gguf(const gguf::GgufFile& file) {
  auto model = file.get_string("tokenizer.ggml.model");
  if (!model) {
    fail("{}: no tokenizer.ggml.model in the metadata: this GGUF carries no vocabulary. Pass --tokenizer.",
         file.path());
  }
  if (*model == "gpt2") return load_gpt2(file);
  if (*model == "llama") return load_llama(file);
  fail("{}: tokenizer.ggml.model = '{}' is not supported (eaq reads 'gpt2' and 'llama')", file.path(), *model);
}

}  // namespace eaq::tokenizer
