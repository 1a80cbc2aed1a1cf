// The CPU engine against HF transformers (PyTorch fp32, eager): logits at every position of a
// 64-token prompt and 32 greedy tokens, for tiny random-init models of each architecture that
// keep the real quirks. Fixtures: tests/golden/engine (tools/make_engine_fixtures.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/decoder_builder.h"
#include "model/model_loader.h"
#include "runtime/session.h"
#include "runtime/sampler.h"

namespace eaq {
namespace {

const std::string kFixtures = std::string(EAQ_SOURCE_DIR) + "/tests/golden/engine/";

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  return nlohmann::json::parse(in);
}

std::vector<float> read_f32(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  EXPECT_TRUE(in) << path;
  auto bytes = static_cast<std::size_t>(in.tellg());
  std::vector<float> v(bytes / 4);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(bytes));
  return v;
}

struct LoadedLm {
  std::shared_ptr<model::LoadedModel> file;
  std::unique_ptr<model::DecoderLm> lm;
};

LoadedLm load(const std::string& dir, int threads, std::optional<DType> weights = std::nullopt) {
  LoadedLm out;
  out.file = model::load_model(dir);
  auto file = out.file;
  auto views = std::make_shared<std::map<std::string, model::TensorView, std::less<>>>();
  for (const auto& t : file->tensors()) views->emplace(t.name, model::TensorView{t.dtype, t.shape, t.data});
  model::EngineOptions options;
  options.n_threads = threads;
  options.weight_dtype = weights;
  out.lm = model::build_decoder_lm(
      file->config(),
      [views](std::string_view name) -> const model::TensorView* {
        auto it = views->find(name);
        return it == views->end() ? nullptr : &it->second;
      },
      file, options);
  return out;
}

class EngineGolden : public ::testing::TestWithParam<std::string> {};

// Compares prompt logits and greedy decoding of `model_path` with the fixture in `dir`.
void expect_matches_fixture(const std::string& model_path, const std::string& dir) {
  auto prompt = read_json(dir + "/prompt_ids.json").get<std::vector<std::int32_t>>();
  auto greedy = read_json(dir + "/greedy_ids.json");
  auto expected_ids = greedy["ids"].get<std::vector<std::int32_t>>();
  auto gaps = greedy["top2_logit_gap"].get<std::vector<double>>();
  auto expected_prompt_logits = read_f32(dir + "/prompt_logits.bin");
  auto expected_greedy_logits = read_f32(dir + "/greedy_logits.bin");

  for (int threads : {1, 2}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    auto loaded = load(model_path, threads);
    const std::int64_t vocab = loaded.lm->vocab_size();
    ASSERT_EQ(expected_prompt_logits.size(), prompt.size() * vocab);

    runtime::Session session(*loaded.lm, runtime::SessionOptions{128, 1, DType::F32});
    const auto& logits = session.prefill_all_logits(prompt);
    double max_diff = 0;
    for (std::size_t i = 0; i < logits.size(); ++i) {
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(logits[i] - expected_prompt_logits[i])));
    }
    EXPECT_LT(max_diff, 1e-3) << "max |Δlogit| over " << prompt.size() << " positions";

    // Greedy decoding, one token at a time after the prompt.
    std::vector<float> last(logits.end() - vocab, logits.end());
    double greedy_max_diff = 0;
    for (std::size_t step = 0; step < expected_ids.size(); ++step) {
      for (std::int64_t j = 0; j < vocab; ++j) {
        greedy_max_diff = std::max(greedy_max_diff,
                                   static_cast<double>(std::fabs(last[j] - expected_greedy_logits[step * vocab + j])));
      }
      std::int32_t next = runtime::argmax(last);
      ASSERT_EQ(next, expected_ids[step]) << "greedy token " << step << " (reference top-2 gap " << gaps[step] << ")";
      auto l = session.decode(next);
      last.assign(l.begin(), l.end());
    }
    EXPECT_LT(greedy_max_diff, 1e-3) << "max |Δlogit| over the greedy steps";
    std::printf("[golden] %s threads=%d: prompt max |dlogit| %.3g, greedy-step max |dlogit| %.3g, %zu greedy tokens identical\n",
                dir.c_str() + kFixtures.size(), threads, max_diff, greedy_max_diff, expected_ids.size());
  }
}

TEST_P(EngineGolden, PromptLogitsAndGreedyTokensMatchTransformers) {
  expect_matches_fixture(kFixtures + GetParam(), kFixtures + GetParam());
}

// stories260K: the real llama2.c checkpoint (Meta's interleaved rope layout) against transformers
// running the same weights converted to LlamaForCausalLM; prompt "Once upon a time" as run.c
// encodes it, 64 greedy tokens.
TEST(EngineGoldenStories260K, MatchesTransformersOnConvertedWeights) {
  const std::string model = std::string(EAQ_SHARED_DIR) + "/models/stories260K/stories260K.bin";
  if (!std::ifstream(model)) GTEST_SKIP() << model << " is missing (../shared/models/stories260K)";
  expect_matches_fixture(model, kFixtures + "stories260K");
}

TEST_P(EngineGolden, F16KvCacheAndBf16WeightsStayClose) {
  const std::string dir = kFixtures + GetParam();
  auto prompt = read_json(dir + "/prompt_ids.json").get<std::vector<std::int32_t>>();
  auto expected = read_f32(dir + "/prompt_logits.bin");
  auto loaded = load(dir, 2, DType::BF16);
  runtime::Session session(*loaded.lm, runtime::SessionOptions{128, 1, DType::F16});
  const auto& logits = session.prefill_all_logits(prompt);
  // Reduced precision: not exact, but the argmax must mostly agree with the fp32 reference.
  const std::int64_t vocab = loaded.lm->vocab_size();
  int agree = 0;
  for (std::size_t p = 0; p < prompt.size(); ++p) {
    std::span<const float> row(logits.data() + p * vocab, vocab), ref(expected.data() + p * vocab, vocab);
    agree += runtime::argmax(row) == runtime::argmax(ref);
  }
  EXPECT_GE(agree, static_cast<int>(prompt.size() * 0.9)) << agree << " of " << prompt.size();
}

TEST_P(EngineGolden, BatchedScoringEqualsSequentialScoring) {
  const std::string dir = kFixtures + GetParam();
  auto prompt = read_json(dir + "/prompt_ids.json").get<std::vector<std::int32_t>>();
  std::vector<std::int32_t> context(prompt.begin(), prompt.begin() + 40);
  std::vector<std::vector<std::int32_t>> continuations = {
      {prompt.begin() + 40, prompt.begin() + 48}, {prompt.begin() + 50, prompt.begin() + 53}, {prompt[60]}};
  auto loaded = load(dir, 2);
  runtime::Session batched(*loaded.lm, runtime::SessionOptions{128, 3, DType::F32});
  auto scores = batched.score(context, continuations);
  for (std::size_t i = 0; i < continuations.size(); ++i) {
    // The same continuation run alone after the context, one sequence.
    runtime::Session alone(*loaded.lm, runtime::SessionOptions{128, 1, DType::F32});
    std::vector<std::int32_t> whole = context;
    whole.insert(whole.end(), continuations[i].begin(), continuations[i].end());
    const auto& logits = alone.prefill_all_logits(whole);
    const std::int64_t vocab = loaded.lm->vocab_size();
    double ll = 0;
    for (std::size_t j = 0; j < continuations[i].size(); ++j) {
      std::span<const float> row(logits.data() + (context.size() - 1 + j) * vocab, vocab);
      ll += runtime::log_softmax_at(row, continuations[i][j]);
    }
    EXPECT_NEAR(scores[i].log_likelihood, ll, 1e-3) << "continuation " << i;
  }
}

// score() keeps the keys and values of the context's leading tokens that the previous call's context
// shares (a task's few-shot prefix): the scores equal those of a fresh session, and only the tokens
// that differ run.
TEST_P(EngineGolden, ScoringReusesTheSharedContextPrefix) {
  const std::string dir = kFixtures + GetParam();
  auto prompt = read_json(dir + "/prompt_ids.json").get<std::vector<std::int32_t>>();
  const std::vector<std::int32_t> first(prompt.begin(), prompt.begin() + 40);
  std::vector<std::int32_t> second(prompt.begin(), prompt.begin() + 30);  // shares 30 tokens, then differs
  second.insert(second.end(), prompt.begin() + 45, prompt.begin() + 55);
  std::vector<std::int32_t> longer = second;  // extends `second`
  longer.insert(longer.end(), prompt.begin() + 56, prompt.begin() + 60);
  const std::vector<std::vector<std::int32_t>> continuations = {
      {prompt.begin() + 40, prompt.begin() + 44}, {prompt[61]}, {prompt.begin() + 62, prompt.begin() + 64}};
  auto loaded = load(dir, 2);
  runtime::Session reusing(*loaded.lm, runtime::SessionOptions{128, 2, DType::F32});
  auto expect_fresh_scores = [&](const std::vector<std::int32_t>& context, const char* what) {
    const auto scores = reusing.score(context, continuations);
    runtime::Session fresh(*loaded.lm, runtime::SessionOptions{128, 2, DType::F32});
    const auto expected = fresh.score(context, continuations);
    EXPECT_EQ(fresh.reused_context_tokens(), 0);
    for (std::size_t i = 0; i < continuations.size(); ++i) {
      EXPECT_NEAR(scores[i].log_likelihood, expected[i].log_likelihood, 1e-4) << what << ", continuation " << i;
      EXPECT_EQ(scores[i].is_greedy, expected[i].is_greedy) << what << ", continuation " << i;
    }
  };
  expect_fresh_scores(first, "first context");
  EXPECT_EQ(reusing.reused_context_tokens(), 0);
  expect_fresh_scores(second, "second context (30 shared tokens)");
  EXPECT_EQ(reusing.reused_context_tokens(), 30);
  expect_fresh_scores(longer, "a context extending the previous one");
  EXPECT_EQ(reusing.reused_context_tokens(), 30 + static_cast<std::int64_t>(second.size()));
  expect_fresh_scores(longer, "the same context again (all but its last token reused)");
  EXPECT_EQ(reusing.reused_context_tokens(), 30 + static_cast<std::int64_t>(second.size() + longer.size()) - 1);
  // Anything else run in slot 0 forgets the scored context.
  reusing.reset();
  reusing.prefill(std::span(prompt.data(), 8));
  const std::int64_t before = reusing.reused_context_tokens();
  expect_fresh_scores(first, "after a prefill");
  EXPECT_EQ(reusing.reused_context_tokens(), before);
}

INSTANTIATE_TEST_SUITE_P(Architectures, EngineGolden,
                         ::testing::Values("llama_gqa", "llama_linear_rope", "llama3_rope", "qwen2_bias",
                                           "gemma3_sliding"));

}  // namespace
}  // namespace eaq
