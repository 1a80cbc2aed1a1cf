// lm-eval's request encoding on the embedded SmolLM2 tokenizer, and rstrip's whitespace set.
#include <gtest/gtest.h>

#include <filesystem>

#include "eval/eval_runner.h"
#include "eval/request_encoding.h"
#include "tokenizer/tokenizer_factory.h"

namespace eaq::eval {
namespace {

TEST(RstripLength, PythonWhitespace) {
  EXPECT_EQ(rstrip_length("abc \t\n"), 3u);
  EXPECT_EQ(rstrip_length("abc\xC2\xA0"), 3u);      // U+00A0
  EXPECT_EQ(rstrip_length("abc\xE3\x80\x80"), 3u);  // U+3000
  EXPECT_EQ(rstrip_length("abc\xC3\xA9"), 5u);      // é is not whitespace
  EXPECT_EQ(rstrip_length("   "), 0u);
  EXPECT_EQ(rstrip_length("\x80"), 1u);  // a stray continuation byte is kept
}

TEST(SummarizeMetric, SampleStdOverSqrtN) {
  const auto s = summarize_metric("acc", {1, 0, 1, 1});
  EXPECT_DOUBLE_EQ(s.mean, 0.75);
  EXPECT_NEAR(s.stderr_of_mean, 0.25, 1e-12);  // std(ddof=1) = 0.5, / sqrt(4)
  EXPECT_EQ(summarize_metric("acc", {1}).stderr_of_mean, 0.0);
}

// Ids from HF tokenizers on the same GGUF (AutoTokenizer.from_pretrained(models/, gguf_file=...)):
// "Question: hi\nAnswer: yes" → 17872 42 15876 198 21350 42 9805, no BOS added.
TEST(EncodeLoglikelihoodRequest, TrailingSpaceMovesToTheContinuation) {
  const std::string model = std::string(EAQ_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "no embedded model at " << model << " (scripts/fetch_models.sh)";
  auto tok = tokenizer::load_tokenizer_for_model(model);
  const std::vector<std::int32_t> context = {17872, 42, 15876, 198, 21350, 42};
  for (const char* ctx : {"Question: hi\nAnswer:", "Question: hi\nAnswer: "}) {
    const std::string cont = std::string(ctx).ends_with(" ") ? "yes" : " yes";
    const auto r = encode_loglikelihood_request(*tok, ctx, {cont, cont + " no"});
    EXPECT_EQ(r.context_ids, context) << ctx;
    ASSERT_EQ(r.continuation_ids.size(), 2u);
    EXPECT_EQ(r.continuation_ids[0], (std::vector<std::int32_t>{9805})) << ctx;
    EXPECT_EQ(r.continuation_ids[1].front(), 9805);
  }
}

}  // namespace
}  // namespace eaq::eval
