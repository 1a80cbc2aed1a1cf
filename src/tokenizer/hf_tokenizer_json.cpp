// tokenizer.json → BpeTokenizer (model, added tokens, normalizer, pre-tokenizer,
// post-processor, decoder), and GPT-2's encoder.json + vocab.bpe.
#include "tokenizer/hf_tokenizer_json.h"

#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "tokenizer/bpe_tokenizer.h"

namespace eaq::tokenizer {
namespace {

using nlohmann::json;

// Ids past this are not a real vocabulary but a corrupt file; refuse rather than allocate.
constexpr std::int64_t kMaxVocabSize = 1 << 22;

struct Context {
  std::string source;
  [[noreturn]] void error(std::string_view field, std::string_view what) const {
    fail("{}: field '{}': {}", source, field, what);
  }
  const json& member(const json& object, const char* key, const std::string& path) const {
    if (!object.is_object()) error(path, "expected a JSON object");
    auto it = object.find(key);
    if (it == object.end()) error(path + "." + key, "missing");
    return *it;
  }
  std::string string_at(const json& object, const char* key, const std::string& path) const {
    const json& value = member(object, key, path);
    if (!value.is_string()) error(path + "." + key, "expected a string");
    return value.get<std::string>();
  }
  bool bool_or(const json& object, const char* key, bool fallback, const std::string& path) const {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) error(path + "." + key, "expected true or false");
    return it->get<bool>();
  }
  std::int64_t int_or(const json& object, const char* key, std::int64_t fallback,
                      const std::string& path) const {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return fallback;
    if (!it->is_number_integer()) error(path + "." + key, "expected an integer");
    return it->get<std::int64_t>();
  }
  std::string type_of(const json& object, const std::string& path) const {
    return string_at(object, "type", path);
  }
  // {"String": "x"} or {"Regex": "x"} → (pattern, is_regex)
  std::pair<std::string, bool> pattern(const json& object, const std::string& path) const {
    const json& p = member(object, "pattern", path);
    if (p.is_object() && p.contains("String") && p["String"].is_string()) return {p["String"].get<std::string>(), false};
    if (p.is_object() && p.contains("Regex") && p["Regex"].is_string()) return {p["Regex"].get<std::string>(), true};
    error(path + ".pattern", "expected {\"String\": ...} or {\"Regex\": ...}");
  }
};

std::unique_ptr<Normalizer> parse_normalizer(const Context& c, const json& j, const std::string& path) {
  if (j.is_null()) return nullptr;
  std::string type = c.type_of(j, path);
  if (type == "NFC") return make_unicode_normalizer(UnicodeForm::kNfc);
  if (type == "NFD") return make_unicode_normalizer(UnicodeForm::kNfd);
  if (type == "NFKC") return make_unicode_normalizer(UnicodeForm::kNfkc);
  if (type == "NFKD") return make_unicode_normalizer(UnicodeForm::kNfkd);
  if (type == "Prepend") return make_prepend_normalizer(c.string_at(j, "prepend", path));
  if (type == "Lowercase") return make_lowercase_normalizer();
  if (type == "Strip") {
    return make_strip_normalizer(c.bool_or(j, "strip_left", true, path), c.bool_or(j, "strip_right", true, path));
  }
  if (type == "Replace") {
    auto [pattern, regex] = c.pattern(j, path);
    return make_replace_normalizer(pattern, regex, c.string_at(j, "content", path),
                                   fmt::format("{}: field '{}.pattern'", c.source, path));
  }
  if (type == "Sequence") {
    const json& list = c.member(j, "normalizers", path);
    if (!list.is_array()) c.error(path + ".normalizers", "expected an array");
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (auto step = parse_normalizer(c, list[i], fmt::format("{}.normalizers[{}]", path, i))) {
        steps.push_back(std::move(step));
      }
    }
    return make_sequence_normalizer(std::move(steps));
  }
  c.error(path + ".type", fmt::format("unsupported normalizer '{}' (eaq supports NFC, NFD, NFKC, NFKD, "
                                      "Prepend, Replace, Lowercase, Strip, Sequence)", type));
}

SplitBehavior parse_behavior(const Context& c, const json& j, const std::string& path) {
  std::string b = c.string_at(j, "behavior", path);
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  c.error(path + ".behavior", fmt::format("unknown split behavior '{}'", b));
}

PrependScheme parse_prepend_scheme(const Context& c, const json& j, const std::string& path) {
  auto it = j.find("prepend_scheme");
  if (it != j.end() && it->is_string()) {
    std::string s = it->get<std::string>();
    if (s == "always") return PrependScheme::kAlways;
    if (s == "first") return PrependScheme::kFirst;
    if (s == "never") return PrependScheme::kNever;
    c.error(path + ".prepend_scheme", fmt::format("unknown prepend scheme '{}'", s));
  }
  return c.bool_or(j, "add_prefix_space", true, path) ? PrependScheme::kAlways : PrependScheme::kNever;
}

std::string metaspace_replacement(const Context& c, const json& j, const std::string& path) {
  auto it = j.find("replacement");
  if (it == j.end()) return "\u2581";
  if (!it->is_string()) c.error(path + ".replacement", "expected a string");
  return it->get<std::string>();
}

std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const Context& c, const json& j, const std::string& path) {
  if (j.is_null()) return nullptr;
  std::string type = c.type_of(j, path);
  if (type == "Split") {
    auto [pattern, regex] = c.pattern(j, path);
    auto behavior = parse_behavior(c, j, path);
    bool invert = c.bool_or(j, "invert", false, path);
    if (regex) return make_regex_split(pattern, behavior, invert, fmt::format("{}: field '{}.pattern'", c.source, path));
    return make_string_split(pattern, behavior, invert);
  }
  if (type == "ByteLevel") {
    return make_byte_level_pre_tokenizer(c.bool_or(j, "add_prefix_space", true, path),
                                         c.bool_or(j, "use_regex", true, path));
  }
  if (type == "Metaspace") {
    return make_metaspace_pre_tokenizer(metaspace_replacement(c, j, path), parse_prepend_scheme(c, j, path),
                                        c.bool_or(j, "split", true, path));
  }
  if (type == "Digits") return make_digits_pre_tokenizer(c.bool_or(j, "individual_digits", false, path));
  if (type == "Whitespace") {
    return make_regex_split(R"(\w+|[^\w\s]+)", SplitBehavior::kRemoved, true, "Whitespace");
  }
  if (type == "WhitespaceSplit") return make_regex_split(R"(\s+)", SplitBehavior::kRemoved, false, "WhitespaceSplit");
  if (type == "Sequence") {
    const json& list = c.member(j, "pretokenizers", path);
    if (!list.is_array()) c.error(path + ".pretokenizers", "expected an array");
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (auto step = parse_pre_tokenizer(c, list[i], fmt::format("{}.pretokenizers[{}]", path, i))) {
        steps.push_back(std::move(step));
      }
    }
    return make_sequence_pre_tokenizer(std::move(steps));
  }
  c.error(path + ".type", fmt::format("unsupported pre-tokenizer '{}' (eaq supports Split, ByteLevel, "
                                      "Metaspace, Digits, Whitespace, WhitespaceSplit, Sequence)", type));
}

std::unique_ptr<TokenDecoder> parse_decoder(const Context& c, const json& j, const std::string& path,
                                            bool after_fuse) {
  if (j.is_null()) return nullptr;
  std::string type = c.type_of(j, path);
  if (type == "ByteLevel") return make_byte_level_decoder();
  if (type == "Metaspace") {
    return make_metaspace_decoder(metaspace_replacement(c, j, path),
                                  parse_prepend_scheme(c, j, path) != PrependScheme::kNever);
  }
  if (type == "Replace") {
    auto [pattern, regex] = c.pattern(j, path);
    if (regex) c.error(path + ".pattern", "regex patterns in the Replace decoder are not supported");
    return make_replace_decoder(pattern, c.string_at(j, "content", path));
  }
  if (type == "ByteFallback") return make_byte_fallback_decoder();
  if (type == "Fuse") return nullptr;  // tokens are decoded one by one and concatenated anyway
  if (type == "Strip") {
    return make_strip_decoder(c.string_at(j, "content", path), static_cast<int>(c.int_or(j, "start", 0, path)),
                              static_cast<int>(c.int_or(j, "stop", 0, path)), after_fuse);
  }
  if (type == "Sequence") {
    const json& list = c.member(j, "decoders", path);
    if (!list.is_array()) c.error(path + ".decoders", "expected an array");
    std::vector<std::unique_ptr<TokenDecoder>> steps;
    bool fused = after_fuse;
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string item_path = fmt::format("{}.decoders[{}]", path, i);
      if (list[i].is_object() && list[i].value("type", "") == "Fuse") fused = true;
      if (auto step = parse_decoder(c, list[i], item_path, fused)) steps.push_back(std::move(step));
    }
    return make_sequence_decoder(std::move(steps));
  }
  c.error(path + ".type", fmt::format("unsupported decoder '{}' (eaq supports ByteLevel, Metaspace, Replace, "
                                      "ByteFallback, Fuse, Strip, Sequence)", type));
}

// Post-processor → ids before and after the text.
void parse_post_processor(const Context& c, const json& j, const std::string& path,
                          const PieceIdMap& ids, BpeTokenizerParts& parts) {
  if (j.is_null()) return;
  std::string type = c.type_of(j, path);
  if (type == "ByteLevel") return;  // only trims offsets
  if (type == "Sequence") {
    const json& list = c.member(j, "processors", path);
    if (!list.is_array()) c.error(path + ".processors", "expected an array");
    for (std::size_t i = 0; i < list.size(); ++i) {
      parse_post_processor(c, list[i], fmt::format("{}.processors[{}]", path, i), ids, parts);
    }
    return;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    for (const char* key : {"cls", "sep"}) {
      const json& pair = c.member(j, key, path);
      if (!pair.is_array() || pair.size() != 2 || !pair[1].is_number_integer()) {
        c.error(path + "." + key, "expected [token, id]");
      }
      (std::string_view(key) == "cls" ? parts.prefix_ids : parts.suffix_ids).push_back(pair[1].get<std::int32_t>());
    }
    return;
  }
  if (type == "TemplateProcessing") {
    const json& single = c.member(j, "single", path);
    const json& specials = c.member(j, "special_tokens", path);
    if (!single.is_array()) c.error(path + ".single", "expected an array");
    bool after_sequence = false;
    for (std::size_t i = 0; i < single.size(); ++i) {
      std::string item_path = fmt::format("{}.single[{}]", path, i);
      const json& item = single[i];
      if (item.is_object() && item.contains("Sequence")) {
        after_sequence = true;
        continue;
      }
      if (!item.is_object() || !item.contains("SpecialToken")) c.error(item_path, "expected SpecialToken or Sequence");
      std::string name = c.string_at(item["SpecialToken"], "id", item_path + ".SpecialToken");
      if (!specials.is_object() || !specials.contains(name)) {
        c.error(path + ".special_tokens", fmt::format("no entry for '{}'", name));
      }
      const json& entry_ids = c.member(specials[name], "ids", path + ".special_tokens." + name);
      if (!entry_ids.is_array()) c.error(path + ".special_tokens." + name + ".ids", "expected an array");
      for (const auto& id : entry_ids) {
        if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() >= kMaxVocabSize) {
          c.error(path + ".special_tokens." + name + ".ids", "expected token ids");
        }
        (after_sequence ? parts.suffix_ids : parts.prefix_ids).push_back(id.get<std::int32_t>());
      }
    }
    return;
  }
  c.error(path + ".type", fmt::format("unsupported post-processor '{}' (eaq supports TemplateProcessing, "
                                      "ByteLevel, BertProcessing, RobertaProcessing, Sequence)", type));
}

std::string token_name(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string()) {
    return value["content"].get<std::string>();
  }
  return {};
}

void assign_types(BpeTokenizerParts& parts, bool byte_fallback, std::int32_t unk_id) {
  parts.types.assign(parts.pieces.size(), TokenType::kNormal);
  for (std::size_t id = 0; id < parts.pieces.size(); ++id) {
    const auto& p = parts.pieces[id];
    if (byte_fallback && p.size() == 6 && p.starts_with("<0x") && p.back() == '>') parts.types[id] = TokenType::kByte;
    if (p.empty()) parts.types[id] = TokenType::kUnused;
  }
  if (unk_id >= 0 && unk_id < static_cast<std::int32_t>(parts.types.size())) parts.types[unk_id] = TokenType::kUnknown;
  for (const auto& added : parts.added_tokens) {
    parts.types[added.id] = added.special ? TokenType::kControl : TokenType::kUserDefined;
  }
}

std::string read_file_text(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open {} '{}': {}", what, path, std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::unique_ptr<Tokenizer> parse_hf_tokenizer_json(std::string_view json_text, std::string_view source,
                                                   std::string_view config_json_text) {
  Context c{std::string(source)};
  json root = json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (root.is_discarded()) {
    fail("{}: not valid JSON (truncated or corrupt file?). Re-download tokenizer.json.", source);
  }
  if (!root.is_object()) c.error("(root)", "expected a JSON object");
  const json& model = c.member(root, "model", "(root)");
  if (!model.is_object()) c.error("model", "expected a JSON object");
  std::string model_type = model.contains("type") ? c.string_at(model, "type", "model") : "BPE";
  if (model_type != "BPE") {
    c.error("model.type", fmt::format("unsupported model type '{}' (eaq reads BPE tokenizers)", model_type));
  }
  const json& vocab = c.member(model, "vocab", "model");
  if (!vocab.is_object()) c.error("model.vocab", "expected an object of piece → id");

  BpeTokenizerParts parts;
  std::int64_t size = 0;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<std::int64_t>() < 0 ||
        it.value().get<std::int64_t>() >= kMaxVocabSize) {
      c.error("model.vocab", fmt::format("piece '{}' has an id that is not an integer in [0, {})", it.key(), kMaxVocabSize));
    }
    size = std::max(size, it.value().get<std::int64_t>() + 1);
  }
  std::vector<std::string> model_pieces(static_cast<std::size_t>(size));
  for (auto it = vocab.begin(); it != vocab.end(); ++it) model_pieces[it.value().get<std::size_t>()] = it.key();

  // Added tokens.
  if (root.contains("added_tokens") && !root["added_tokens"].is_null()) {
    const json& added = root["added_tokens"];
    if (!added.is_array()) c.error("added_tokens", "expected an array");
    for (std::size_t i = 0; i < added.size(); ++i) {
      std::string path = fmt::format("added_tokens[{}]", i);
      AddedToken token;
      token.content = c.string_at(added[i], "content", path);
      std::int64_t id = c.int_or(added[i], "id", -1, path);
      if (id < 0 || id >= kMaxVocabSize) c.error(path + ".id", fmt::format("expected an id in [0, {})", kMaxVocabSize));
      token.id = static_cast<std::int32_t>(id);
      token.special = c.bool_or(added[i], "special", false, path);
      token.lstrip = c.bool_or(added[i], "lstrip", false, path);
      token.rstrip = c.bool_or(added[i], "rstrip", false, path);
      token.single_word = c.bool_or(added[i], "single_word", false, path);
      token.normalized = c.bool_or(added[i], "normalized", !token.special, path);
      parts.added_tokens.push_back(std::move(token));
    }
  }
  std::int64_t total = size;
  for (const auto& t : parts.added_tokens) total = std::max<std::int64_t>(total, t.id + 1);
  parts.pieces = model_pieces;
  parts.pieces.resize(static_cast<std::size_t>(total));
  for (const auto& t : parts.added_tokens) parts.pieces[t.id] = t.content;

  BpeOptions options;
  options.byte_fallback = c.bool_or(model, "byte_fallback", false, "model");
  options.fuse_unk = c.bool_or(model, "fuse_unk", false, "model");
  options.ignore_merges = c.bool_or(model, "ignore_merges", false, "model");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    auto it = model.find(key);
    if (it != model.end() && it->is_string() && !it->get<std::string>().empty()) {
      c.error(std::string("model.") + key, "non-empty subword prefixes/suffixes are not supported");
    }
  }
  std::int32_t unk_id = -1;
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    std::string unk = model["unk_token"].get<std::string>();
    auto it = vocab.find(unk);
    if (it != vocab.end()) unk_id = it->get<std::int32_t>();
  }
  options.unk_id = unk_id;
  auto bpe = std::make_unique<BpeModel>(std::move(model_pieces), options);

  const json& merges = c.member(model, "merges", "model");
  if (!merges.is_array()) c.error("model.merges", "expected an array");
  for (std::size_t i = 0; i < merges.size(); ++i) {
    std::string path = fmt::format("model.merges[{}]", i);
    const json& m = merges[i];
    std::string left, right;
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      auto space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        c.error(path, fmt::format("expected \"left right\", got \"{}\"", s));
      }
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      c.error(path, "expected \"left right\" or [\"left\", \"right\"]");
    }
    bpe->add_merge(left, right, static_cast<std::int32_t>(i), fmt::format("{}: field '{}'", source, path));
  }
  parts.model = std::move(bpe);

  parts.normalizer = parse_normalizer(c, root.value("normalizer", json()), "normalizer");
  parts.pre_tokenizer = parse_pre_tokenizer(c, root.value("pre_tokenizer", json()), "pre_tokenizer");
  parts.decoder = parse_decoder(c, root.value("decoder", json()), "decoder", false);
  parse_post_processor(c, root.value("post_processor", json()), "post_processor", {}, parts);
  for (auto id : parts.prefix_ids) {
    if (id >= total) c.error("post_processor", fmt::format("token id {} is past the vocabulary ({} tokens)", id, total));
  }
  for (auto id : parts.suffix_ids) {
    if (id >= total) c.error("post_processor", fmt::format("token id {} is past the vocabulary ({} tokens)", id, total));
  }
  parts.kind = "hf-bpe";
  assign_types(parts, options.byte_fallback, unk_id);

  // Special ids: tokenizer_config.json names them; otherwise the template's first token is BOS.
  std::int32_t bos = parts.prefix_ids.empty() ? -1 : parts.prefix_ids.front();
  std::int32_t eos = -1, pad = -1;
  bool add_bos = !parts.prefix_ids.empty();
  auto prefix_ids = parts.prefix_ids;
  auto tokenizer = std::make_unique<BpeTokenizer>(std::move(parts));
  if (!config_json_text.empty()) {
    json config = json::parse(config_json_text.begin(), config_json_text.end(), nullptr, false);
    if (config.is_object()) {
      auto lookup = [&](const char* key) -> std::int32_t {
        if (!config.contains(key)) return -1;
        auto id = tokenizer->token_id(token_name(config[key]));
        return id ? *id : -1;
      };
      if (auto id = lookup("bos_token"); id >= 0) bos = id;
      eos = lookup("eos_token");
      pad = lookup("pad_token");
      if (auto id = lookup("unk_token"); id >= 0) unk_id = id;
    }
  }
  tokenizer->set_special_ids(bos, eos, pad, unk_id);
  tokenizer->set_add_bos(add_bos && bos >= 0 && prefix_ids.front() == bos);
  return tokenizer;
}

std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::string& path) {
  std::string text = read_file_text(path, "tokenizer.json");
  std::string config;
  auto config_path = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(config_path)) config = read_file_text(config_path.string(), "tokenizer_config.json");
  return parse_hf_tokenizer_json(text, path, config);
}

std::unique_ptr<Tokenizer> load_gpt2_encoder_files(const std::string& encoder_json_path,
                                                   const std::string& vocab_bpe_path) {
  // Assemble the equivalent tokenizer.json: GPT-2 is byte-level BPE with <|endoftext|> special.
  std::string encoder_text = read_file_text(encoder_json_path, "GPT-2 encoder.json");
  json encoder = json::parse(encoder_text, nullptr, false);
  if (encoder.is_discarded() || !encoder.is_object()) {
    fail("{}: not a JSON object of piece → id (truncated or corrupt?)", encoder_json_path);
  }
  std::ifstream merges_in(vocab_bpe_path, std::ios::binary);
  if (!merges_in) fail("cannot open GPT-2 vocab.bpe '{}': {}", vocab_bpe_path, std::strerror(errno));
  json merges = json::array();
  std::string line;
  std::size_t line_number = 0;
  while (std::getline(merges_in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (line_number == 1 && line.starts_with("#version"))) continue;
    merges.push_back(line);
  }
  json root = {
      {"model", {{"type", "BPE"}, {"vocab", encoder}, {"merges", merges}}},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"normalizer", nullptr},
      {"post_processor", nullptr},
  };
  json added = json::array();
  if (encoder.contains("<|endoftext|>")) {
    added.push_back({{"id", encoder["<|endoftext|>"]}, {"content", "<|endoftext|>"}, {"special", true},
                     {"normalized", false}});
  }
  root["added_tokens"] = added;
  auto tokenizer = parse_hf_tokenizer_json(root.dump(), encoder_json_path + " + " + vocab_bpe_path);
  auto eot = tokenizer->token_id("<|endoftext|>");
  std::int32_t id = eot ? *eot : -1;
  tokenizer->set_special_ids(id, id, -1, -1);
  return tokenizer;
}

}  // namespace eaq::tokenizer
