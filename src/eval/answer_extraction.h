// Answer extraction and equivalence for the generation tasks, ported line for line from
// lm-evaluation-harness so that eaq's gsm8k and math500 numbers mean what lm-eval's do:
//   - GSM8K: lm_eval/tasks/gsm8k/gsm8k-cot.yaml (task gsm8k_cot, version 3.0): filters
//     "strict-match" (regex `The answer is (\-?[0-9\.\,]+).`, first match) and "flexible-extract"
//     (regex `(-?[$0-9.,]{2,})|(-?[0-9]+)`, last match), both falling back to "[invalid]"
//     (lm_eval/filters/extraction.py RegexFilter); metric exact_match with ignore_case and
//     regexes_to_ignore [",", "\$", "(?s).*#### ", "\.$"] (lm_eval/api/metrics.py
//     exact_match_hf_evaluate).
//   - MATH: lm_eval/tasks/hendrycks_math/utils.py (last_boxed_only_string, remove_boxed,
//     extract_answer, is_equiv + strip_string — Hendrycks et al.'s MATH normalisation, string
//     equality after it) and lm_eval/tasks/minerva_math/utils.py (get_unnormalized_answer,
//     normalize_final_answer — Lewkowycz et al. 2022, appendix D). lm-eval's minerva is_equiv
//     compares with sympy; eaq has no CAS, so its minerva metric is string equality after
//     normalize_final_answer (a lower bound of lm-eval's).
// Where Python would raise inside strip_string (an assert, int() of a non-number, an index past
// the end), hendrycks_strip_string returns nullopt and hendrycks_is_equiv falls back to raw string
// equality, as lm-eval's `except Exception: return str1 == str2` does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eaq::eval {

// --- GSM8K (lm-eval gsm8k_cot) ------------------------------------------------------------------

inline constexpr std::string_view kInvalidAnswer = "[invalid]";  // RegexFilter's fallback

// doc_to_target: answer.split('####')[-1].strip().
std::string gsm8k_reference_answer(std::string_view answer_field);
// The "strict-match" filter; "[invalid]" when the pattern does not match.
std::string gsm8k_strict_match(std::string_view generation);
// The "flexible-extract" filter; "[invalid]" when nothing matches.
std::string gsm8k_flexible_extract(std::string_view generation);
// exact_match's normalisation: regexes_to_ignore removed in order, then lower-cased.
std::string gsm8k_normalize_for_exact_match(std::string_view text);
bool gsm8k_exact_match(std::string_view extracted, std::string_view reference);

// --- MATH (lm-eval hendrycks_math / minerva_math) ----------------------------------------------

// The last "\boxed{...}" (braces balanced) or "\boxed ..." (up to '$') or "\fbox{...}".
std::optional<std::string> last_boxed_only_string(std::string_view text);
// "\boxed{x}" -> "x", "\boxed x" -> "x"; nullopt where lm-eval's asserts would fail.
std::optional<std::string> remove_boxed(std::string_view boxed);
// The reference answer of a MATH solution: remove_boxed(last_boxed_only_string(solution)).
std::optional<std::string> math_reference_answer(std::string_view solution);
// hendrycks_math's extract_answer: last \boxed{}, else the first \[...\], else the text between
// the first and last '$', else the whole output.
std::string hendrycks_extract_answer(std::string_view output);
// Hendrycks' strip_string; nullopt where Python raises.
std::optional<std::string> hendrycks_strip_string(std::string_view text);
bool hendrycks_is_equiv(std::string_view a, std::string_view b);

inline constexpr std::string_view kInvalidMinervaAnswer = "[invalidanswer]";
// "Final Answer: The final answer is X. I hope it is correct." -> "X" (stripped), else
// "[invalidanswer]".
std::string minerva_unnormalized_answer(std::string_view generation);
std::string minerva_normalize_final_answer(std::string_view answer);

// eaq's math500 verdicts (docs/sandbox.md § generation tasks): the candidate is the Minerva
// "Final Answer" when present (its $...$ removed by extract_answer), else extract_answer of the
// whole generation; exact_match = hendrycks_is_equiv(candidate, reference).
struct MathVerdict {
  std::string candidate;           // what was compared (before strip_string)
  bool exact_match = false;        // Hendrycks is_equiv
  bool minerva_match = false;      // normalize_final_answer string equality
};
MathVerdict score_math_answer(std::string_view generation, std::string_view reference_answer);

}  // namespace eaq::eval
