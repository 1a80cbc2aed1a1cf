// PrecisionPlan: scheme defaults, YAML plans (yaml-cpp) and the per-tensor resolution.
#include "quant/precision_plan.h"

#include <fnmatch.h>
#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "kernels/ops.h"
#include "quant/scheme_registry.h"

namespace eaq::quant {

namespace {

// A stored dtype the CPU computes with directly, else f32.
DType computable_as_stored(DType stored) {
  if (kernels::cpu_has_fast_path(kernels::Op::kMatmul, stored)) return stored;
  return DType::F32;
}

}  // namespace

bool is_embedding_tensor(std::string_view name) { return name == "token_embd.weight" || name == "output.weight"; }

DType resolve_scheme_name(std::string_view scheme, bool is_embedding, DType stored) {
  if (scheme == "keep" || scheme == "native") return computable_as_stored(stored);
  if (const Scheme* s = find_scheme(scheme)) return is_embedding ? s->embedding_dtype : s->matrix_dtype;
  if (auto d = dtype_from_name(scheme); d && can_quantize_to(*d)) return *d;
  fail("unknown precision scheme '{}': use one of {}, native, or keep", scheme, scheme_names());
}

PrecisionPlan PrecisionPlan::for_scheme(std::string_view scheme) {
  if (scheme != "native" && find_scheme(scheme) == nullptr) {
    fail("unknown precision scheme '{}': use one of {}, or native", scheme, scheme_names());
  }
  PrecisionPlan plan;
  plan.default_scheme = std::string(scheme);
  plan.source = std::string(scheme);
  return plan;
}

PrecisionPlan PrecisionPlan::native() { return for_scheme("native"); }

PrecisionPlan PrecisionPlan::from_yaml_text(const std::string& text, const std::string& where) {
  PrecisionPlan plan;
  plan.source = where;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail("precision plan {}: not valid YAML ({}); see docs for the format", where, e.what());
  }
  if (!root.IsMap()) fail("precision plan {}: expected a mapping with 'rules' and optionally 'default'", where);
  try {
    for (const auto& entry : root) {
      const std::string key = entry.first.as<std::string>();
      if (key == "default") {
        plan.default_scheme = entry.second.as<std::string>();
        resolve_scheme_name(plan.default_scheme, false, DType::F32);  // validates the name
      } else if (key == "rules") {
        if (!entry.second.IsSequence()) fail("precision plan {}: 'rules' must be a list", where);
        std::size_t index = 0;
        for (const auto& rule : entry.second) {
          if (!rule.IsMap() || !rule["match"] || !rule["scheme"]) {
            fail("precision plan {}: rule {} needs 'match' (a tensor-name glob) and 'scheme'", where, index);
          }
          PlanRule r{rule["match"].as<std::string>(), rule["scheme"].as<std::string>()};
          resolve_scheme_name(r.scheme, false, DType::F32);
          plan.rules.push_back(std::move(r));
          ++index;
        }
      } else {
        fail("precision plan {}: unknown key '{}' (expected 'default' and 'rules')", where, key);
      }
    }
  } catch (const YAML::Exception& e) {
    fail("precision plan {}: {}", where, e.what());
  }
  return plan;
}

PrecisionPlan PrecisionPlan::from_yaml_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot open the precision plan '{}'", path);
  std::stringstream text;
  text << in.rdbuf();
  return from_yaml_text(text.str(), path);
}

DType PrecisionPlan::dtype_for(std::string_view name, DType stored, std::int64_t cols) const {
  const std::string name_str(name);
  const bool embedding = is_embedding_tensor(name);
  DType wanted = computable_as_stored(stored);
  bool matched = false;
  for (const auto& rule : rules) {
    if (fnmatch(rule.pattern.c_str(), name_str.c_str(), 0) == 0) {
      wanted = resolve_scheme_name(rule.scheme, false, stored);
      matched = true;
      break;
    }
  }
  if (!matched && !default_scheme.empty()) wanted = resolve_scheme_name(default_scheme, embedding, stored);
  if (auto fitted = fit_block_size(wanted, cols)) return *fitted;
  fail("tensor '{}' has rows of {} weights, which {} cannot hold (block size {}); give it another "
       "scheme in a plan file (--plan)", name, cols, dtype_name(wanted), traits(wanted).block_size);
}

std::string PrecisionPlan::describe() const {
  if (rules.empty()) return default_scheme.empty() ? "as stored" : default_scheme;
  return fmt::format("{} ({} rules, default {})", source, rules.size(), default_scheme.empty() ? "keep" : default_scheme);
}

std::string PrecisionPlan::to_yaml() const {
  YAML::Emitter out;
  out << YAML::BeginMap;
  if (!default_scheme.empty()) out << YAML::Key << "default" << YAML::Value << default_scheme;
  out << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
  for (const auto& r : rules) {
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "match" << YAML::Value << r.pattern << YAML::Key << "scheme"
        << YAML::Value << r.scheme << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace eaq::quant
