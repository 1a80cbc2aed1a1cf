// Dataset readers and tasks on small hand-written files: csv quoting as Python's csv module, bad
// rows → eaq::Error naming file and line or counted with skip_bad, lm-eval's prompts per task.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "eval/dataset_readers.h"
#include "eval/task_registry.h"
#include "eval/tasks/hellaswag_task.h"
#include "eval/tasks/truthfulqa_task.h"

namespace eaq::eval {
namespace {

namespace fs = std::filesystem;

class DatasetDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("eaq_eval_test_{}_{}", ::getpid(),
                                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& rel, const std::string& text) {
    const auto path = dir_ / rel;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  TaskOptions options(bool skip_bad = false) {
    TaskOptions o;
    o.data_dir = dir_;
    o.skip_bad = skip_bad;
    return o;
  }
  const LoglikelihoodTask& ll(const std::unique_ptr<Task>& task) { return dynamic_cast<const LoglikelihoodTask&>(*task); }
  fs::path dir_;
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST_F(DatasetDir, CsvQuotingAsPythonCsv) {
  const auto path = write("a.csv", "a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",x,\n\n last ,\"\",y");
  const auto records = read_csv(path);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"multi\nline", "x", ""}));
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[2].fields, (std::vector<std::string>{" last ", "", "y"}));
  EXPECT_EQ(records[2].line, 5);
}

TEST_F(DatasetDir, CsvUnterminatedQuoteNamesTheLine) {
  const auto path = write("a.csv", "x,y\n\"never closed,z\nmore\n");
  const auto message = error_of([&] { read_csv(path); });
  EXPECT_NE(message.find("a.csv:2"), std::string::npos) << message;
  EXPECT_NE(message.find("unterminated"), std::string::npos) << message;
}

TEST_F(DatasetDir, MissingDataSaysWhereItLooked) {
  const auto message = error_of([&] { find_task("arc_easy").make(options()); });
  EXPECT_NE(message.find("ARC-Easy-Test.jsonl"), std::string::npos) << message;
  EXPECT_NE(message.find("eaq data pull"), std::string::npos) << message;
}

TEST_F(DatasetDir, UnknownTaskListsKnownOnes) {
  const auto message = error_of([&] { parse_task_list("arc_easy,nonsense"); });
  EXPECT_NE(message.find("nonsense"), std::string::npos);
  EXPECT_NE(message.find("hellaswag"), std::string::npos);
  EXPECT_EQ(parse_task_list("arc_easy, sst2,arc_easy").size(), 2u);
}

TEST_F(DatasetDir, ArcPromptAndDigitLabels) {
  write("arc/ARC-Easy-Test.jsonl",
        R"({"id":"q1","question":{"stem":"Which is a gas?","choices":[{"text":"ice","label":"1"},{"text":"steam","label":"2"}]},"answerKey":"2"})"
        "\n"
        R"({"id":"q2","question":{"stem":"Pick B","choices":[{"text":"a","label":"A"},{"text":"b","label":"B"}]},"answerKey":"B"})"
        "\n");
  auto task = find_task("arc_easy").make(options());
  const auto& items = ll(task).items();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].context, "Question: Which is a gas?\nAnswer:");
  EXPECT_EQ(items[0].choices, (std::vector<std::string>{"ice", "steam"}));
  EXPECT_EQ(items[0].gold, 1);
  EXPECT_EQ(items[0].target_delimiter, " ");
  EXPECT_EQ(items[1].gold, 1);
}

TEST_F(DatasetDir, BadJsonlRowFailsWithLineOrIsSkipped) {
  write("arc/ARC-Easy-Test.jsonl",
        R"({"id":"q1","question":{"stem":"s","choices":[{"text":"a","label":"A"}]},"answerKey":"A"})"
        "\n{not json\n"
        R"({"id":"q3","question":{"stem":"s","choices":[{"text":"a","label":"A"}]},"answerKey":"C"})"
        "\n");
  const auto message = error_of([&] { find_task("arc_easy").make(options()); });
  EXPECT_NE(message.find("ARC-Easy-Test.jsonl:2"), std::string::npos) << message;
  EXPECT_NE(message.find("--skip-bad"), std::string::npos) << message;
  auto task = find_task("arc_easy").make(options(true));
  EXPECT_EQ(ll(task).items().size(), 1u);
  EXPECT_EQ(task->skipped_rows(), 2);  // the bad JSON line and the answerKey that is no label
}

TEST_F(DatasetDir, MmluBothLayoutsAndFewShotPrompt) {
  // Our copy: header + index answers; hendrycks' layout: no header, letter answers.
  write("mmlu/dev/anatomy_dev.csv", "question,choice0,choice1,choice2,choice3,answer\n Dev q? ,a,b,c,d,2\n");
  write("mmlu/test/anatomy_test.csv", "\"Test, q\",w,x,y,z,D\nSecond,1,2,3,4,0\n");
  TaskOptions o = options();
  o.num_fewshot = 1;
  auto task = find_task("mmlu_anatomy").make(o);
  const auto& items = ll(task).items();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].context,
            "The following are multiple choice questions (with answers) about anatomy.\n\n"
            "Dev q?\nA. a\nB. b\nC. c\nD. d\nAnswer: C\n\n"
            "Test, q\nA. w\nB. x\nC. y\nD. z\nAnswer:");
  EXPECT_EQ(items[0].choices, (std::vector<std::string>{"A", "B", "C", "D"}));
  EXPECT_EQ(items[0].gold, 3);
  EXPECT_EQ(items[1].gold, 0);
  EXPECT_EQ(items[1].id, "anatomy/1");
}

TEST_F(DatasetDir, MmluBadAnswerNamesFileAndLine) {
  write("mmlu/test/anatomy_test.csv", "q,a,b,c,d,A\nq2,a,b,c,d,E\n");
  TaskOptions o = options();
  o.num_fewshot = 0;
  const auto message = error_of([&] { find_task("mmlu_anatomy").make(o); });
  EXPECT_NE(message.find("anatomy_test.csv:2"), std::string::npos) << message;
  EXPECT_NE(message.find("'E'"), std::string::npos) << message;
}

TEST_F(DatasetDir, HellaswagTextLayoutAndCanonicalJsonl) {
  write("hellaswag/hellaswag_val_full.txt",
        "Label: A man [title] sits.  he\n2\nend0\n [x]end1\nend2\nend3\n");
  auto task = find_task("hellaswag").make(options());
  const auto& items = ll(task).items();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].context, "Label: A man. sits. he");
  EXPECT_EQ(items[0].choices[1], "end1");
  EXPECT_EQ(items[0].gold, 2);
  // The canonical jsonl: lm-eval's ctx_a + " " + ctx_b.capitalize().
  write("hellaswag/hellaswag_val.jsonl",
        R"({"ind":7,"activity_label":"Act","ctx_a":"A man sits.","ctx_b":"he STANDS","endings":["a","b","c","d"],"label":3})"
        "\n");
  auto canonical = find_task("hellaswag").make(options());
  EXPECT_EQ(ll(canonical).items()[0].context, "Act: A man sits. He stands");
  EXPECT_EQ(ll(canonical).items()[0].id, "7");
}

TEST_F(DatasetDir, HellaswagTruncatedTextLayout) {
  write("hellaswag/hellaswag_val_full.txt", "ctx\n1\na\nb\nc\nd\nctx2\n9\n");
  const auto message = error_of([&] { find_task("hellaswag").make(options()); });
  EXPECT_NE(message.find("hellaswag_val_full.txt:7"), std::string::npos) << message;
  auto task = find_task("hellaswag").make(options(true));
  EXPECT_EQ(ll(task).items().size(), 1u);
  EXPECT_EQ(task->skipped_rows(), 1);
}

TEST(HellaswagPreprocess, AsLmEval) {
  EXPECT_EQ(hellaswag_preprocess("  a [title] b [step] c  d "), "a. b c d");
  EXPECT_EQ(hellaswag_preprocess("x [a [b] y"), "x y");
  EXPECT_EQ(hellaswag_preprocess("open [ only"), "open [ only");
  EXPECT_EQ(hellaswag_preprocess("three   spaces"), "three  spaces");  // one pass, as str.replace
}

TEST_F(DatasetDir, TruthfulqaChoicesFromCsv) {
  write("truthfulqa/TruthfulQA.csv",
        "Type,Category,Question,Best Answer,Correct Answers,Incorrect Answers,Source\n"
        "Adversarial,Misc,Why?,Because,Because; It is so.; ,No; Never,src\n");
  auto mc1 = find_task("truthfulqa_mc1").make(options());
  const auto& item = ll(mc1).items().at(0);
  EXPECT_EQ(item.choices, (std::vector<std::string>{"Because.", "No.", "Never."}));
  EXPECT_EQ(item.gold, 0);
  EXPECT_TRUE(item.context.ends_with("A: The 1992 Olympics were held in Barcelona, Spain.\n\nQ: Why?\nA:"));
  EXPECT_TRUE(item.context.starts_with("Q: What is human life expectancy in the United States?\n"));
  auto mc2 = find_task("truthfulqa_mc2").make(options());
  const auto& item2 = ll(mc2).items().at(0);
  EXPECT_EQ(item2.choices, (std::vector<std::string>{"Because.", "It is so.", "No.", "Never."}));
  EXPECT_EQ(item2.labels, (std::vector<int>{1, 1, 0, 0}));
  // mc2's metric: probability mass on the true answers.
  std::vector<runtime::ContinuationScore> scores(4);
  scores[0].log_likelihood = std::log(0.1);
  scores[1].log_likelihood = std::log(0.2);
  scores[2].log_likelihood = std::log(0.3);
  scores[3].log_likelihood = std::log(0.4);
  const auto verdict = dynamic_cast<const LoglikelihoodTask&>(*mc2).score(item2, scores);
  EXPECT_NEAR(verdict.metrics.at(0).value, 0.3, 1e-12);
  EXPECT_FALSE(verdict.correct);
  EXPECT_EQ(verdict.predicted, 3);
}

TEST_F(DatasetDir, Sst2BothHeadersAndBadLabel) {
  write("sst2/dev.tsv", "sentence\tlabel\ngood film . \t1\nbad\t0\n");
  auto task = find_task("sst2").make(options());
  const auto& items = ll(task).items();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].context, "good film . \nQuestion: Is this sentence positive or negative?\nAnswer:");
  EXPECT_EQ(items[0].choices, (std::vector<std::string>{"negative", "positive"}));
  EXPECT_EQ(items[0].gold, 1);
  write("sst2/dev.tsv", "text\tlabel\nfine\t2\n");
  const auto message = error_of([&] { find_task("sst2").make(options()); });
  EXPECT_NE(message.find("dev.tsv:2"), std::string::npos) << message;
}

TEST_F(DatasetDir, LimitKeepsTheFirstItems) {
  write("sst2/dev.tsv", "sentence\tlabel\na\t1\nb\t0\nc\t1\n");
  TaskOptions o = options();
  o.limit = 2;
  auto task = find_task("sst2").make(o);
  EXPECT_EQ(ll(task).items().size(), 2u);
}

TEST(MultipleChoiceScore, AccNormDividesByCodePoints) {
  LoglikelihoodItem item;
  item.choices = {"ab", "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"};  // 2 and 4 code points (2 and 8 bytes)
  item.gold = 1;
  std::vector<runtime::ContinuationScore> scores(2);
  scores[0].log_likelihood = -3;  // -1.5 per char
  scores[1].log_likelihood = -5;  // -1.25 per char (-0.625 per byte)
  const auto verdict = score_multiple_choice(item, scores);
  EXPECT_EQ(verdict.predicted, 0);
  EXPECT_EQ(verdict.metrics.at(0).value, 0.0);
  EXPECT_EQ(verdict.metrics.at(1).value, 1.0);
}

}  // namespace
}  // namespace eaq::eval
