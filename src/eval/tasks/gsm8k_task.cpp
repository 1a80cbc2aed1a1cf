// gsm8k as lm-eval's lm_eval/tasks/gsm8k/gsm8k-cot.yaml (task gsm8k_cot, version 3.0):
// doc_to_text "Q: {question}\nA:", the 8 fixed exemplars (sampler first_n) joined with "\n\n",
// target delimiter " ", until ["Q:", "</s>", "<|im_end|>"], max_gen_toks 256 (lm-eval's default).
#include "eval/tasks/gsm8k_task.h"

#include <fmt/format.h>

#include "core/error.h"
#include "eval/answer_extraction.h"
#include "eval/dataset_readers.h"

namespace eaq::eval {
namespace {

struct Exemplar {
  const char* question;
  const char* target;
};

// The YAML's fewshot_config.samples, with its line folding resolved (folded lines joined by one
// space).
constexpr Exemplar kExemplars[] = {
    {"There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are "
     "done, there will be 21 trees. How many trees did the grove workers plant today?",
     "There are 15 trees originally. Then there were 21 trees after some more were planted. So there must "
     "have been 21 - 15 = 6. The answer is 6."},
    {"If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?",
     "There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. The answer is 5."},
    {"Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in "
     "total?",
     "Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. After eating "
     "35, they had 74 - 35 = 39. The answer is 39."},
    {"Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many lollipops "
     "did Jason give to Denny?",
     "Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = "
     "8. The answer is 8."},
    {"Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he "
     "have now?",
     "Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. 5 + 4 "
     "= 9. The answer is 9."},
    {"There were nine computers in the server room. Five more computers were installed each day, from "
     "monday to thursday. How many computers are now in the server room?",
     "There were originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 "
     "computers were added. 9 + 20 is 29. The answer is 29."},
    {"Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. How many "
     "golf balls did he have at the end of wednesday?",
     "Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 "
     "more, he had 35 - 2 = 33 golf balls. The answer is 33."},
    {"Olivia has $23. She bought five bagels for $3 each. How much money does she have left?",
     "Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 "
     "dollars left. 23 - 15 is 8. The answer is 8."},
};
constexpr std::int64_t kExemplarCount = sizeof(kExemplars) / sizeof(kExemplars[0]);

class Gsm8kTask final : public GenerationTask {
 public:
  explicit Gsm8kTask(const TaskOptions& options) {
    const std::int64_t shots = options.num_fewshot < 0 ? kExemplarCount : options.num_fewshot;
    if (shots > kExemplarCount) {
      fail("gsm8k: --num-fewshot {} exceeds the {} chain-of-thought exemplars of lm-eval's gsm8k_cot", shots,
           kExemplarCount);
    }
    std::string fewshot;
    for (std::int64_t i = 0; i < shots; ++i) {
      fewshot += fmt::format("Q: {}\nA: {}\n\n", kExemplars[i].question, kExemplars[i].target);
    }
    const auto path = find_data_file(options.data_dir / "gsm8k", {"test.jsonl", "grade_school_math/data/test.jsonl"},
                                     "gsm8k");
    source_files_.push_back(path);
    BadRowPolicy policy(options.skip_bad);
    for (const JsonRecord& record : read_jsonl(path, policy)) {
      if (options.limit >= 0 && static_cast<std::int64_t>(items_.size()) >= options.limit) break;
      const auto& row = record.value;
      if (!row.is_object() || !row.contains("question") || !row["question"].is_string() ||
          !row.contains("answer") || !row["answer"].is_string()) {
        policy.reject(path, record.line, "expected an object with string fields 'question' and 'answer'");
        continue;
      }
      const std::string answer = row["answer"].get<std::string>();
      if (answer.find("####") == std::string::npos) {
        policy.reject(path, record.line, "'answer' has no '#### <final answer>' line");
        continue;
      }
      GenerationItem item;
      item.id = std::to_string(items_.size());
      item.prompt = fewshot + fmt::format("Q: {}\nA:", row["question"].get<std::string>());
      item.stop_sequences = {"Q:", "</s>", "<|im_end|>"};
      item.max_new_tokens = 256;
      item.target = gsm8k_reference_answer(answer);
      item.doc_index = items_.size();
      items_.push_back(std::move(item));
    }
    skipped_rows_ = policy.skipped();
  }

  std::string name() const override { return "gsm8k"; }
  std::vector<std::string> metric_names() const override {
    return {"exact_match,strict-match", "exact_match,flexible-extract"};
  }
  const std::vector<GenerationItem>& items() const override { return items_; }

  ItemVerdict score(const GenerationItem& item, std::string_view generation) const override {
    const std::string strict = gsm8k_strict_match(generation);
    const std::string flexible = gsm8k_flexible_extract(generation);
    const bool strict_ok = gsm8k_exact_match(strict, item.target);
    const bool flexible_ok = gsm8k_exact_match(flexible, item.target);
    ItemVerdict verdict;
    verdict.correct = strict_ok;
    verdict.metrics = {{"exact_match,strict-match", strict_ok ? 1.0 : 0.0},
                       {"exact_match,flexible-extract", flexible_ok ? 1.0 : 0.0}};
    verdict.details = {{"strict_match", strict}, {"flexible_extract", flexible}, {"reference", item.target}};
    return verdict;
  }

 private:
  std::vector<GenerationItem> items_;
};

}  // namespace

std::vector<TaskEntry> gsm8k_task_entries() {
  return {{"gsm8k", TaskKind::kGeneration,
           "GSM8K test (1319), lm-eval gsm8k_cot: 8-shot chain of thought, exact match (strict/flexible)",
           [](const TaskOptions& o) { return std::make_unique<Gsm8kTask>(o); }}};
}

}  // namespace eaq::eval
