// mbpp task: the test split (ids 11-510), the 3-shot prompt as lm-eval's mbpp task, code block
// extraction, and pass@1 in the sandbox: the dataset's own reference code passes, wrong or
// hostile code fails.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "eval/task_registry.h"
#include "eval/tasks/mbpp_task.h"

namespace eaq::eval {
namespace {

const std::filesystem::path kDatasets = std::filesystem::path(EAQ_SHARED_DIR) / "datasets";

std::unique_ptr<GenerationTask> make_mbpp(std::int64_t limit) {
  TaskOptions options;
  options.data_dir = kDatasets;
  options.limit = limit;
  auto task = find_task("mbpp").make(options);
  return std::unique_ptr<GenerationTask>(dynamic_cast<GenerationTask*>(task.release()));
}

TEST(MbppTaskTest, TestSplitAndPrompt) {
  auto task = make_mbpp(-1);
  ASSERT_EQ(task->items().size(), 500u);
  EXPECT_EQ(task->items().front().id, "11");
  EXPECT_EQ(task->items().back().id, "510");
  const std::string& prompt = task->items()[0].prompt;
  EXPECT_EQ(prompt.rfind("You are an expert Python programmer, and here is your task: Write a function to find the "
                         "similar elements from the given two tuple lists. Your code should pass these tests:\n\n"
                         "assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)\n", 0),
            0u);
  EXPECT_NE(prompt.find("  return (res) \n[DONE]\n\nYou are an expert Python programmer, and here is your task: Write a python function to identify non-prime numbers."),
            std::string::npos);
  EXPECT_NE(prompt.find("[DONE]\n\nYou are an expert Python programmer, and here is your task: Write a python function to remove first and last occurrence of a given character from the string."),
            std::string::npos);
  EXPECT_EQ(prompt.substr(prompt.size() - 8), "[BEGIN]\n");
  EXPECT_EQ(task->items()[0].stop_sequences, std::vector<std::string>{"[DONE]"});
}

TEST(MbppTaskTest, ReferenceCodePassesAndWrongCodeFails) {
  if (geteuid() != 0) GTEST_SKIP() << "the sandbox's full confinement needs root";
  auto task = make_mbpp(12);
  // The reference solutions of tasks 11-22, as generations: all pass their asserts.
  const char* remove_occ =
      "def remove_Occ(s,ch): \r\n    for i in range(len(s)): \r\n        if (s[i] == ch): \r\n            s = s[0 : i] + s[i + 1:] \r\n            break\r\n    for i in range(len(s) - 1,-1,-1):  \r\n        if (s[i] == ch): \r\n            s = s[0 : i] + s[i + 1:] \r\n            break\r\n    return s ";
  ItemVerdict v = task->score(task->items()[0], remove_occ);
  EXPECT_TRUE(v.correct) << v.details.dump();
  EXPECT_EQ(v.details["sandbox"]["verdict"], "passed");
  // lm-eval's extract_code_blocks prepends "```" (its instruct variant's prefix): code up to a
  // closing fence is kept, prose after it dropped...
  v = task->score(task->items()[0], std::string("\n") + remove_occ + "\n```\nSome prose after.");
  EXPECT_TRUE(v.correct) << v.details.dump();
  // ...and a generation that opens its own fence yields an empty block (lm-eval's Python gives
  // "from __future__ import annotations\n" for it too), so it fails.
  v = task->score(task->items()[0], std::string("```python\n") + remove_occ + "\n```\n");
  EXPECT_FALSE(v.correct);
  EXPECT_EQ(v.details["program"].get<std::string>().rfind("from __future__ import annotations\n\nassert", 0), 0u);
  v = task->score(task->items()[0], "def remove_Occ(s, ch):\n    return s\n");
  EXPECT_FALSE(v.correct);
  EXPECT_EQ(v.details["sandbox"]["verdict"], "failed");
  v = task->score(task->items()[0], "import os\nos.system('touch /tmp/eaq_mbpp_escape')\nwhile True: pass\n");
  EXPECT_FALSE(v.correct);
  EXPECT_FALSE(std::filesystem::exists("/tmp/eaq_mbpp_escape"));
}

TEST(MbppTaskTest, TestProgramJoinsCodeSetupAndAsserts) {
  EXPECT_EQ(mbpp_test_program("def f(): return 1", "", {"assert f() == 1", "assert f()", "assert 1"}),
            "def f(): return 1\nassert f() == 1\nassert f()\nassert 1");
  EXPECT_EQ(mbpp_test_program("c", "s = 1", {"a", "b", "d"}), "c\ns = 1\na\nb\nd");
}

}  // namespace
}  // namespace eaq::eval
