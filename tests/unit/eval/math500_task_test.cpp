// math500 task: both layouts (prm800k and the shared copy), the Minerva prompt, and the dataset's
// own worked solutions scored against their boxed answers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "eval/task_registry.h"

namespace eaq::eval {
namespace {

const std::filesystem::path kDatasets = std::filesystem::path(EAQ_SHARED_DIR) / "datasets";

std::unique_ptr<GenerationTask> make_math500(const TaskOptions& options) {
  auto task = find_task("math500").make(options);
  return std::unique_ptr<GenerationTask>(dynamic_cast<GenerationTask*>(task.release()));
}

TEST(Math500TaskTest, SharedCopyPromptAndReferenceAnswers) {
  TaskOptions options;
  options.data_dir = kDatasets;
  auto task = make_math500(options);
  ASSERT_EQ(task->items().size(), 500u);
  const GenerationItem& item = task->items()[0];
  EXPECT_EQ(item.prompt.rfind("Problem:\nFind the domain of the expression", 0), 0u);
  EXPECT_NE(item.prompt.find("I hope it is correct.\n\nProblem:\nConvert the point $(0,3)$"), std::string::npos);
  EXPECT_EQ(item.prompt.substr(item.prompt.size() - 11), "\n\nSolution:");
  EXPECT_EQ(item.target, "\\left( 3, \\frac{\\pi}{2} \\right)");
  EXPECT_EQ(item.stop_sequences, std::vector<std::string>{"Problem:"});
}

TEST(Math500TaskTest, TheDatasetsOwnSolutionsScoreAsCorrect) {
  // Each worked solution, given as the generation, must be judged equal to its own boxed answer
  // (the extraction and normalisation agree with themselves on real data).
  TaskOptions options;
  options.data_dir = kDatasets;
  auto task = make_math500(options);
  std::ifstream in(kDatasets / "math500" / "test.jsonl");
  std::string line;
  std::size_t index = 0, correct = 0;
  while (std::getline(in, line) && index < task->items().size()) {
    auto row = nlohmann::json::parse(line);
    if (task->score(task->items()[index], row["answer"].get<std::string>()).correct) ++correct;
    ++index;
  }
  EXPECT_EQ(index, 500u);
  EXPECT_EQ(correct, 500u);
}

TEST(Math500TaskTest, Prm800kLayout) {
  auto dir = std::filesystem::temp_directory_path() / "eaq-math500-prm";
  std::filesystem::create_directories(dir / "math500");
  std::ofstream(dir / "math500" / "test.jsonl")
      << R"({"problem": "What is 1/2 as a decimal?", "solution": "It is $\\boxed{0.5}$.", "answer": "0.5", "subject": "Prealgebra", "level": 1, "unique_id": "test/prealgebra/1.json"})" "\n"
      << R"({"problem": "p", "solution": "no box", "answer": "7", "unique_id": "u2"})" "\n"
      << R"({"question": 3})" "\n";
  TaskOptions options;
  options.data_dir = dir;
  try {
    make_math500(options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("test.jsonl:3"), std::string::npos) << e.what();
  }
  options.skip_bad = true;
  auto task = make_math500(options);
  ASSERT_EQ(task->items().size(), 2u);
  EXPECT_EQ(task->items()[0].id, "test/prealgebra/1.json");
  EXPECT_EQ(task->items()[1].target, "7");  // prm800k's answer field where no \boxed{}
  EXPECT_TRUE(task->score(task->items()[0], " So $\\frac{1}{2}$.\nFinal Answer: The final answer is $\\frac12$. I hope it is correct.").correct);
  EXPECT_EQ(task->skipped_rows(), 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eaq::eval
