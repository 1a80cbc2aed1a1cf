// load_model: format detection, tiny HF safetensors directories (single and sharded) with missing,
// misshapen and unknown tensors, the real GGUF models, stories260K, and the engine fixtures.
#include "model/model_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../io/safetensors_test_writer.h"
#include "core/error.h"
#include "io/gguf_file.h"
#include "model/tensor_table.h"

namespace eaq::model {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using eaq::testing::patterned_entry;
using eaq::testing::safetensors_bytes;
using eaq::testing::SafetensorsEntry;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an eaq::Error";
  return "";
}

const char* kTinyLlamaConfig = R"({"model_type": "llama", "hidden_size": 16, "intermediate_size": 24,
  "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 2, "vocab_size": 32,
  "max_position_embeddings": 64, "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2})";

// The tensors transformers' LlamaForCausalLM saves for kTinyLlamaConfig, written by hand (not from
// eaq's table) so that the table itself is under test.
std::vector<SafetensorsEntry> tiny_llama_tensors(const std::string& dtype = "F32") {
  std::vector<SafetensorsEntry> e = {patterned_entry("model.embed_tokens.weight", dtype, {32, 16}),
                                     patterned_entry("model.norm.weight", dtype, {16}),
                                     patterned_entry("lm_head.weight", dtype, {32, 16})};
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    e.push_back(patterned_entry(p + "input_layernorm.weight", dtype, {16}));
    e.push_back(patterned_entry(p + "self_attn.q_proj.weight", dtype, {16, 16}));
    e.push_back(patterned_entry(p + "self_attn.k_proj.weight", dtype, {8, 16}));
    e.push_back(patterned_entry(p + "self_attn.v_proj.weight", dtype, {8, 16}));
    e.push_back(patterned_entry(p + "self_attn.o_proj.weight", dtype, {16, 16}));
    e.push_back(patterned_entry(p + "post_attention_layernorm.weight", dtype, {16}));
    e.push_back(patterned_entry(p + "mlp.gate_proj.weight", dtype, {24, 16}));
    e.push_back(patterned_entry(p + "mlp.up_proj.weight", dtype, {24, 16}));
    e.push_back(patterned_entry(p + "mlp.down_proj.weight", dtype, {16, 24}));
  }
  return e;
}

class TinyHfModel : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = eaq::testing::fresh_test_dir("loader"); }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& config, const std::vector<SafetensorsEntry>& tensors) {
    std::ofstream(dir_ / "config.json") << config;
    eaq::testing::write_bytes(dir_ / "model.safetensors", safetensors_bytes(tensors));
  }
  std::string dir() const { return dir_.string(); }
  fs::path dir_;
};

TEST_F(TinyHfModel, LoadsUnderCanonicalNames) {
  write(kTinyLlamaConfig, tiny_llama_tensors("BF16"));
  std::ofstream(dir_ / "tokenizer.json") << "{}";
  std::ofstream(dir_ / "tokenizer_config.json") << R"({"chat_template": "{{ '<|im_start|>' }}"})";
  EXPECT_EQ(detect_model_format(dir()), ModelFormat::kSafetensors);
  auto m = load_model(dir());
  EXPECT_EQ(m->format(), ModelFormat::kSafetensors);
  EXPECT_EQ(m->config().n_layers, 2);
  EXPECT_EQ(m->tensors().size(), 3u + 2 * 9);
  const auto& q = m->layer_tensor("blk.{i}.attn_q.weight", 1);
  EXPECT_EQ(q.source_name, "model.layers.1.self_attn.q_proj.weight");
  EXPECT_EQ(q.dtype, DType::BF16);
  EXPECT_EQ(q.shape, (std::vector<std::int64_t>{16, 16}));
  EXPECT_EQ(m->tensor("output.weight").source_name, "lm_head.weight");
  EXPECT_EQ(m->tensor("blk.0.ffn_gate.weight").source_name, "model.layers.0.mlp.gate_proj.weight");
  EXPECT_EQ(m->tensor("blk.0.ffn_norm.weight").source_name, "model.layers.0.post_attention_layernorm.weight");
  EXPECT_EQ(m->find_tensor("blk.0.attn_q.bias"), nullptr);
  EXPECT_THROW(m->tensor("blk.9.attn_q.weight"), Error);
  const std::int64_t expected_params = 2 * 32 * 16 + 16 + 2 * (16 + 256 + 128 + 128 + 256 + 16 + 3 * 24 * 16);
  EXPECT_EQ(m->n_params(), expected_params);
  EXPECT_EQ(m->weight_bytes(), static_cast<std::uint64_t>(expected_params) * 2);
  EXPECT_EQ(m->file_bytes(), fs::file_size(dir_ / "model.safetensors"));
  EXPECT_EQ(m->tokenizer_source().kind, TokenizerSourceKind::kTokenizerJson);
  ASSERT_TRUE(m->chat_template().has_value());
  EXPECT_EQ(*m->chat_template(), "{{ '<|im_start|>' }}");
  // Data points at the tensor's bytes in the file.
  auto bytes = patterned_entry("model.norm.weight", "BF16", {16}).bytes;
  EXPECT_EQ(std::memcmp(m->tensor("output_norm.weight").data, bytes.data(), bytes.size()), 0);
}

TEST_F(TinyHfModel, TiedModelIgnoresLmHeadAndAcceptsItsAbsence) {
  std::string tied = kTinyLlamaConfig;
  tied.replace(tied.find("\"tie_word_embeddings\": false"), 28, "\"tie_word_embeddings\": true ");
  write(tied, tiny_llama_tensors());
  auto m = load_model(dir());
  EXPECT_TRUE(m->config().tied_embeddings);
  EXPECT_EQ(m->find_tensor("output.weight"), nullptr);
  auto tensors = tiny_llama_tensors();
  tensors.erase(tensors.begin() + 2);  // lm_head
  write(tied, tensors);
  EXPECT_EQ(load_model(dir())->find_tensor("output.weight"), nullptr);
}

TEST_F(TinyHfModel, MissingTensorIsAnError) {
  auto tensors = tiny_llama_tensors();
  tensors.erase(tensors.begin() + 5);  // layer 0 k_proj
  write(kTinyLlamaConfig, tensors);
  auto e = error_of([&] { load_model(dir()); });
  EXPECT_THAT(e, HasSubstr("model.layers.0.self_attn.k_proj.weight"));
  EXPECT_THAT(e, HasSubstr("lacks"));
}

TEST_F(TinyHfModel, WrongShapeIsAnError) {
  auto tensors = tiny_llama_tensors();
  tensors[5] = patterned_entry("model.layers.0.self_attn.k_proj.weight", "F32", {16, 16});
  write(kTinyLlamaConfig, tensors);
  auto e = error_of([&] { load_model(dir()); });
  EXPECT_THAT(e, HasSubstr("model.layers.0.self_attn.k_proj.weight"));
  EXPECT_THAT(e, HasSubstr("[16, 16]"));
  EXPECT_THAT(e, HasSubstr("[8, 16]"));
}

TEST_F(TinyHfModel, UnknownTensorAndIntegerDtypeAreErrors) {
  auto tensors = tiny_llama_tensors();
  tensors.push_back(patterned_entry("model.layers.0.mlp.extra.weight", "F32", {4}));
  write(kTinyLlamaConfig, tensors);
  EXPECT_THAT(error_of([&] { load_model(dir()); }), HasSubstr("model.layers.0.mlp.extra.weight"));
  tensors.pop_back();
  tensors.push_back(patterned_entry("model.layers.0.self_attn.rotary_emb.inv_freq", "F32", {2}));
  write(kTinyLlamaConfig, tensors);
  EXPECT_NO_THROW(load_model(dir()));  // an old transformers buffer, recomputed at run time
  tensors = tiny_llama_tensors();
  tensors[1] = patterned_entry("model.norm.weight", "I32", {16});
  write(kTinyLlamaConfig, tensors);
  EXPECT_THAT(error_of([&] { load_model(dir()); }), HasSubstr("i32"));
}

TEST_F(TinyHfModel, MisalignedTensorsAreCopiedAligned) {
  // A 6-byte buffer first leaves every later tensor 2 bytes off a 4-byte boundary.
  auto tensors = tiny_llama_tensors();
  tensors.insert(tensors.begin(), patterned_entry("model.layers.0.self_attn.rotary_emb.inv_freq", "F16", {3}));
  write(kTinyLlamaConfig, tensors);
  auto m = load_model(dir());
  EXPECT_GT(m->copied_bytes(), 0u);
  for (const auto& t : m->tensors()) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data) % 4, 0u) << t.name;
  }
  auto expected = patterned_entry("model.layers.1.mlp.down_proj.weight", "F32", {16, 24}).bytes;
  const auto& down = m->tensor("blk.1.ffn_down.weight");
  ASSERT_EQ(down.n_bytes, expected.size());
  EXPECT_EQ(std::memcmp(down.data, expected.data(), expected.size()), 0);
  write(kTinyLlamaConfig, tiny_llama_tensors());
  EXPECT_EQ(load_model(dir())->copied_bytes(), 0u);  // aligned files are never copied
}

TEST_F(TinyHfModel, Qwen2NeedsQkvBiases) {
  std::string qwen = kTinyLlamaConfig;
  qwen.replace(qwen.find("\"llama\""), 7, "\"qwen2\"");
  write(qwen, tiny_llama_tensors());
  EXPECT_THAT(error_of([&] { load_model(dir()); }), HasSubstr("model.layers.0.self_attn.q_proj.bias"));
  auto tensors = tiny_llama_tensors();
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".self_attn.";
    tensors.push_back(patterned_entry(p + "q_proj.bias", "F32", {16}));
    tensors.push_back(patterned_entry(p + "k_proj.bias", "F32", {8}));
    tensors.push_back(patterned_entry(p + "v_proj.bias", "F32", {8}));
  }
  write(qwen, tensors);
  auto m = load_model(dir());
  EXPECT_EQ(m->config().architecture, Architecture::kQwen2);
  EXPECT_EQ(m->tensor("blk.1.attn_k.bias").shape, (std::vector<std::int64_t>{8}));
}

TEST_F(TinyHfModel, ShardedDirectory) {
  std::ofstream(dir_ / "config.json") << kTinyLlamaConfig;
  auto tensors = tiny_llama_tensors();
  std::vector<SafetensorsEntry> first(tensors.begin(), tensors.begin() + 10), second(tensors.begin() + 10, tensors.end());
  eaq::testing::write_bytes(dir_ / "model-00001-of-00002.safetensors", safetensors_bytes(first));
  eaq::testing::write_bytes(dir_ / "model-00002-of-00002.safetensors", safetensors_bytes(second));
  nlohmann::json index;
  for (const auto& t : first) index["weight_map"][t.name] = "model-00001-of-00002.safetensors";
  for (const auto& t : second) index["weight_map"][t.name] = "model-00002-of-00002.safetensors";
  std::ofstream(dir_ / "model.safetensors.index.json") << index.dump();
  auto m = load_model(dir());
  EXPECT_EQ(m->tensors().size(), 21u);
  EXPECT_EQ(m->files().size(), 3u);  // two shards + config.json
  EXPECT_EQ(m->file_bytes(), fs::file_size(dir_ / "model-00001-of-00002.safetensors") +
                                 fs::file_size(dir_ / "model-00002-of-00002.safetensors"));
  // The index path itself also loads.
  EXPECT_EQ(load_model((dir_ / "model.safetensors.index.json").string())->tensors().size(), 21u);
}

TEST_F(TinyHfModel, DirectoryWithoutConfigAndUnknownFiles) {
  EXPECT_THAT(error_of([&] { load_model(dir()); }), HasSubstr("without config.json"));
  eaq::testing::write_bytes(dir_ / "junk.bin", std::vector<std::uint8_t>(100, 0x41));
  EXPECT_THAT(error_of([&] { load_model((dir_ / "junk.bin").string()); }), HasSubstr("cannot tell the format"));
  EXPECT_THAT(error_of([&] { load_model((dir_ / "absent.gguf").string()); }), HasSubstr("does not exist"));
  eaq::testing::write_bytes(dir_ / "bad.gguf", {'G', 'G', 'U', 'F', 3, 0, 0});
  EXPECT_THAT(error_of([&] { load_model((dir_ / "bad.gguf").string()); }), HasSubstr("bad.gguf"));
}

const std::string kSmolGguf = std::string(EAQ_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
const std::string kGemmaGguf = std::string(EAQ_SOURCE_DIR) + "/models/gemma-3-270m-q4_k_m.gguf";
const std::string kStories = std::string(EAQ_SHARED_DIR) + "/models/stories260K/stories260K.bin";

TEST(LoadModel, RealSmolLm2Gguf) {
  if (!fs::exists(kSmolGguf)) GTEST_SKIP() << kSmolGguf << " not found (run scripts/setup.sh)";
  auto m = load_model(kSmolGguf);
  EXPECT_EQ(m->format(), ModelFormat::kGguf);
  ASSERT_NE(m->gguf(), nullptr);
  EXPECT_EQ(m->tensors().size(), m->gguf()->tensors().size());  // every tensor claimed (272)
  EXPECT_EQ(m->tensors().size(), 2u + 30 * 9);
  EXPECT_EQ(m->find_tensor("output.weight"), nullptr);
  EXPECT_EQ(m->tensor("token_embd.weight").dtype, DType::Q8_0);
  EXPECT_EQ(m->tensor("blk.0.attn_k.weight").shape, (std::vector<std::int64_t>{192, 576}));
  EXPECT_EQ(m->tokenizer_source().kind, TokenizerSourceKind::kGguf);
  ASSERT_TRUE(m->chat_template().has_value());
  EXPECT_THAT(*m->chat_template(), HasSubstr("<|im_start|>"));
  EXPECT_EQ(m->file_bytes(), fs::file_size(kSmolGguf));
}

TEST(LoadModel, RealGemma3Gguf) {
  if (!fs::exists(kGemmaGguf)) GTEST_SKIP() << kGemmaGguf << " not found (run scripts/setup.sh)";
  auto m = load_model(kGemmaGguf);
  EXPECT_EQ(m->config().architecture, Architecture::kGemma3);
  EXPECT_EQ(m->tensors().size(), m->gguf()->tensors().size());
  EXPECT_EQ(m->tensor("blk.3.attn_q_norm.weight").shape, (std::vector<std::int64_t>{256}));
  EXPECT_EQ(m->tensor("blk.3.attn_q.weight").shape, (std::vector<std::int64_t>{1024, 640}));
  EXPECT_EQ(m->tensor("blk.17.post_ffw_norm.weight").source_name, "blk.17.post_ffw_norm.weight");
  EXPECT_FALSE(m->chat_template().has_value());
}

TEST(LoadModel, Stories260K) {
  if (!fs::exists(kStories)) GTEST_SKIP() << kStories << " not found";
  EXPECT_EQ(detect_model_format(kStories), ModelFormat::kLlama2c);
  auto m = load_model(kStories);
  const auto& c = m->config();
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(m->tensors().size(), 2u + 5 * 9);
  const auto& wk = m->layer_tensor("blk.{i}.attn_k.weight", 4);
  EXPECT_EQ(wk.source_name, "wk[4]");
  EXPECT_EQ(wk.shape, (std::vector<std::int64_t>{32, 64}));
  EXPECT_EQ(wk.dtype, DType::F32);
  EXPECT_EQ(m->tensor("blk.2.ffn_gate.weight").source_name, "w1[2]");
  EXPECT_EQ(m->tensor("blk.2.ffn_up.weight").source_name, "w3[2]");
  // 4 bytes per float; layers tile the stacked array.
  EXPECT_EQ(m->layer_tensor("blk.{i}.attn_k.weight", 1).data - m->layer_tensor("blk.{i}.attn_k.weight", 0).data,
            32 * 64 * 4);
  EXPECT_EQ(m->tokenizer_source().kind, TokenizerSourceKind::kLlama2cBin);
  EXPECT_THAT(m->tokenizer_source().path, HasSubstr("tok512.bin"));
  EXPECT_EQ(m->n_params(), 512 * 64 + 64 + 5 * (64 * 2 + 64 * 64 * 2 + 32 * 64 * 2 + 172 * 64 * 3));
}

TEST(LoadModel, EngineGoldenFixtures) {
  const fs::path root = fs::path(EAQ_SOURCE_DIR) / "tests/golden/engine";
  if (!fs::exists(root)) GTEST_SKIP() << "no engine fixtures";
  int n = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (!fs::exists(entry.path() / "model.safetensors")) continue;
    SCOPED_TRACE(entry.path().string());
    auto m = load_model(entry.path().string());
    EXPECT_EQ(m->format(), ModelFormat::kSafetensors);
    EXPECT_GT(m->n_params(), 0);
    ++n;
  }
  EXPECT_GT(n, 0);
}

}  // namespace
}  // namespace eaq::model
