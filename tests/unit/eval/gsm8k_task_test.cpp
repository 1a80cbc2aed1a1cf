// gsm8k task: items from the shared GSM8K test file, lm-eval gsm8k_cot prompt layout, scoring of
// the dataset's own reference answers, malformed rows.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "eval/task_registry.h"

namespace eaq::eval {
namespace {

const std::filesystem::path kDatasets = std::filesystem::path(EAQ_SHARED_DIR) / "datasets";

std::unique_ptr<GenerationTask> make_gsm8k(const TaskOptions& options) {
  auto task = find_task("gsm8k").make(options);
  return std::unique_ptr<GenerationTask>(dynamic_cast<GenerationTask*>(task.release()));
}

TEST(Gsm8kTaskTest, PromptIsEightShotChainOfThoughtAsLmEval) {
  TaskOptions options;
  options.data_dir = kDatasets;
  auto task = make_gsm8k(options);
  ASSERT_EQ(task->items().size(), 1319u);
  const GenerationItem& item = task->items()[0];
  EXPECT_EQ(item.prompt.rfind("Q: There are 15 trees in the grove.", 0), 0u);
  EXPECT_NE(item.prompt.find("The answer is 8.\n\nQ: Janet\u2019s ducks lay 16 eggs per day."), std::string::npos);
  EXPECT_EQ(item.prompt.substr(item.prompt.size() - 4), "?\nA:");
  std::size_t questions = 0;
  for (std::size_t at = item.prompt.find("Q: "); at != std::string::npos; at = item.prompt.find("Q: ", at + 1)) ++questions;
  EXPECT_EQ(questions, 9u);
  EXPECT_EQ(item.target, "18");
  EXPECT_EQ(item.stop_sequences, (std::vector<std::string>{"Q:", "</s>", "<|im_end|>"}));
}

TEST(Gsm8kTaskTest, ScoresStrictAndFlexible) {
  TaskOptions options;
  options.data_dir = kDatasets;
  options.limit = 3;
  auto task = make_gsm8k(options);
  ASSERT_EQ(task->items().size(), 3u);
  const GenerationItem& item = task->items()[0];
  ItemVerdict v = task->score(item, " She sells 16 - 3 - 4 = 9 eggs for $2 each, 9 * 2 = $18. The answer is 18.\n\n");
  EXPECT_TRUE(v.correct);
  EXPECT_EQ(v.metrics[0].value, 1.0);
  EXPECT_EQ(v.metrics[1].value, 1.0);
  v = task->score(item, " 9 * 2 = 18 dollars");  // no "The answer is": strict fails, flexible finds 18
  EXPECT_FALSE(v.correct);
  EXPECT_EQ(v.metrics[1].value, 1.0);
  EXPECT_EQ(v.details["strict_match"], "[invalid]");
}

TEST(Gsm8kTaskTest, MalformedRowsNameFileAndLine) {
  auto dir = std::filesystem::temp_directory_path() / "eaq-gsm8k-bad";
  std::filesystem::create_directories(dir / "gsm8k");
  std::ofstream(dir / "gsm8k" / "test.jsonl") << R"({"question": "q", "answer": "a\n#### 1"})" "\n"
                                              << R"({"question": "q2", "answer": "no marker"})" "\n";
  TaskOptions options;
  options.data_dir = dir;
  try {
    make_gsm8k(options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("test.jsonl:2"), std::string::npos) << e.what();
  }
  options.skip_bad = true;
  auto task = make_gsm8k(options);
  EXPECT_EQ(task->items().size(), 1u);
  EXPECT_EQ(task->skipped_rows(), 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eaq::eval
