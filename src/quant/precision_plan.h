// PrecisionPlan: which dtype each weight matrix gets. Built from a scheme's defaults (its
// embedding / lm_head dtype, e.g. 8-bit for the 4-bit schemes, and its matrix dtype), from a
// YAML file of tensor-name patterns, or as "native" (the file's own formats computed directly).
//
// YAML plan file:
//   default: int4-g32            # optional: a scheme for tensors no rule matches
//   rules:                       # first match wins; patterns are globs (* ?) on GGUF names
//     - {match: "blk.*.ffn_down.weight", scheme: int8}
//     - {match: "output.weight", scheme: q8_0}
//     - {match: "blk.0.*", scheme: keep}   # keep = as stored
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"

namespace eaq::quant {

struct PlanRule {
  std::string pattern;  // glob on the canonical (GGUF) tensor name
  std::string scheme;   // a scheme name (quant/scheme_registry.h), a dtype name, or "keep"
};

class PrecisionPlan {
 public:
  // The defaults of one scheme: token_embd/output get its embedding dtype, the rest its matrix dtype.
  static PrecisionPlan for_scheme(std::string_view scheme);
  // The stored formats where a CPU kernel computes them directly, else f32.
  static PrecisionPlan native();
  static PrecisionPlan from_yaml_file(const std::string& path);
  static PrecisionPlan from_yaml_text(const std::string& text, const std::string& where);

  // The dtype the matrix `name` (stored as `stored`, rows of `cols`) gets. Throws eaq::Error when
  // the chosen format cannot hold rows of `cols` and has no smaller-group sibling that can.
  DType dtype_for(std::string_view name, DType stored, std::int64_t cols) const;
  std::string describe() const;  // "int4-g32" or "plan.yaml (3 rules, default int8)"
  std::string to_yaml() const;

  std::vector<PlanRule> rules;
  std::string default_scheme;  // empty = keep tensors no rule matches as stored (f32 if no kernel)
  std::string source;          // for describe()
};

// The dtype a scheme / dtype name / "keep" means for a tensor (embedding or not); throws for
// an unknown name, listing the schemes.
DType resolve_scheme_name(std::string_view scheme, bool is_embedding, DType stored);
bool is_embedding_tensor(std::string_view name);

}  // namespace eaq::quant
