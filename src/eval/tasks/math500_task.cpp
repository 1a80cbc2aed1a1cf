// math500 with lm-eval's minerva_math prompt (lm_eval/tasks/minerva_math/utils.py doc_to_text:
// the 4 Minerva exemplars, then "Problem:\n{problem}\n\nSolution:"), until "Problem:",
// max_gen_toks 256 (lm-eval's default). Reads openai/prm800k's math_splits/test.jsonl (problem,
// solution, answer) and the shared copy's layout (question, answer = the worked solution).
#include "eval/tasks/math500_task.h"

#include <fmt/format.h>

#include "core/error.h"
#include "eval/answer_extraction.h"
#include "eval/dataset_readers.h"

namespace eaq::eval {
namespace {

// Verbatim from lm-eval's minerva_math/utils.py (PROMPT), which took it from Lewkowycz et al.
constexpr const char* kMinervaPrompt = R"(Problem:
Find the domain of the expression  $\frac{\sqrt{x-2}}{\sqrt{5-x}}$.}

Solution:
The expressions inside each square root must be non-negative. Therefore, $x-2 \ge 0$, so $x\ge2$, and $5 - x \ge 0$, so $x \le 5$. Also, the denominator cannot be equal to zero, so $5-x>0$, which gives $x<5$. Therefore, the domain of the expression is $\boxed{[2,5)}$.
Final Answer: The final answer is $[2,5)$. I hope it is correct.

Problem:
If $\det \mathbf{A} = 2$ and $\det \mathbf{B} = 12,$ then find $\det (\mathbf{A} \mathbf{B}).$

Solution:
We have that $\det (\mathbf{A} \mathbf{B}) = (\det \mathbf{A})(\det \mathbf{B}) = (2)(12) = \boxed{24}.$
Final Answer: The final answer is $24$. I hope it is correct.

Problem:
Terrell usually lifts two 20-pound weights 12 times. If he uses two 15-pound weights instead, how many times must Terrell lift them in order to lift the same total weight?

Solution:
If Terrell lifts two 20-pound weights 12 times, he lifts a total of $2\cdot 12\cdot20=480$ pounds of weight.  If he lifts two 15-pound weights instead for $n$ times, he will lift a total of $2\cdot15\cdot n=30n$ pounds of weight.  Equating this to 480 pounds, we can solve for $n$:
\begin{align*}
30n&=480\\
\Rightarrow\qquad n&=480/30=\boxed{16}
\end{align*}
Final Answer: The final answer is $16$. I hope it is correct.

Problem:
If the system of equations

\begin{align*}
6x-4y&=a,\\
6y-9x &=b.
\end{align*}has a solution $(x, y)$ where $x$ and $y$ are both nonzero,
find $\frac{a}{b},$ assuming $b$ is nonzero.

Solution:
If we multiply the first equation by $-\frac{3}{2}$, we obtain

$$6y-9x=-\frac{3}{2}a.$$Since we also know that $6y-9x=b$, we have

$$-\frac{3}{2}a=b\Rightarrow\frac{a}{b}=\boxed{-\frac{2}{3}}.$$
Final Answer: The final answer is $-\frac{2}{3}$. I hope it is correct.)";

std::optional<std::string> string_field(const nlohmann::ordered_json& row, const char* name) {
  if (!row.contains(name) || !row[name].is_string()) return std::nullopt;
  return row[name].get<std::string>();
}

class Math500Task final : public GenerationTask {
 public:
  explicit Math500Task(const TaskOptions& options) {
    if (options.num_fewshot >= 0 && options.num_fewshot != 4) {
      fail("math500: the Minerva prompt has 4 fixed exemplars; --num-fewshot {} is not supported", options.num_fewshot);
    }
    const auto path = find_data_file(options.data_dir / "math500", {"test.jsonl", "math_splits/test.jsonl"}, "math500");
    source_files_.push_back(path);
    BadRowPolicy policy(options.skip_bad);
    for (const JsonRecord& record : read_jsonl(path, policy)) {
      if (options.limit >= 0 && static_cast<std::int64_t>(items_.size()) >= options.limit) break;
      const auto& row = record.value;
      if (!row.is_object()) {
        policy.reject(path, record.line, "expected a JSON object");
        continue;
      }
      // prm800k: problem + solution (+ answer); the shared copy: question + answer (= solution).
      auto problem = string_field(row, "problem");
      auto solution = string_field(row, "solution");
      if (!problem) {
        problem = string_field(row, "question");
        solution = string_field(row, "answer");
      }
      if (!problem || !solution) {
        policy.reject(path, record.line,
                      "expected string fields 'problem' and 'solution' (prm800k) or 'question' and 'answer'");
        continue;
      }
      // lm-eval's process_docs: the reference is the last \boxed{} of the solution; prm800k's
      // 'answer' field where a solution has none.
      auto reference = math_reference_answer(*solution);
      if (!reference && row.contains("solution")) reference = string_field(row, "answer");
      if (!reference) {
        policy.reject(path, record.line, "the solution has no \\boxed{...} final answer");
        continue;
      }
      GenerationItem item;
      item.id = row.contains("unique_id") && row["unique_id"].is_string() ? row["unique_id"].get<std::string>()
                                                                          : std::to_string(items_.size());
      item.prompt = fmt::format("{}\n\nProblem:\n{}\n\nSolution:", kMinervaPrompt, *problem);
      item.stop_sequences = {"Problem:"};
      item.max_new_tokens = 256;
      item.target = *reference;
      item.doc_index = items_.size();
      items_.push_back(std::move(item));
    }
    skipped_rows_ = policy.skipped();
  }

  std::string name() const override { return "math500"; }
  std::vector<std::string> metric_names() const override { return {"exact_match", "minerva_match"}; }
  const std::vector<GenerationItem>& items() const override { return items_; }

  ItemVerdict score(const GenerationItem& item, std::string_view generation) const override {
    const MathVerdict math = score_math_answer(generation, item.target);
    ItemVerdict verdict;
    verdict.correct = math.exact_match;
    verdict.metrics = {{"exact_match", math.exact_match ? 1.0 : 0.0}, {"minerva_match", math.minerva_match ? 1.0 : 0.0}};
    verdict.details = {{"candidate", math.candidate}, {"reference", item.target}};
    return verdict;
  }

 private:
  std::vector<GenerationItem> items_;
};

}  // namespace

std::vector<TaskEntry> math500_task_entries() {
  return {{"math500", TaskKind::kGeneration,
           "MATH-500 (500), lm-eval minerva_math 4-shot prompt, Hendrycks is_equiv on the final answer",
           [](const TaskOptions& o) { return std::make_unique<Math500Task>(o); }}};
}

}  // namespace eaq::eval
