// The terminal report of `eaq bench`: a header saying what was run where, one markdown row per
// precision (mean ± 95% CI), and notes saying where each figure comes from.
#pragma once

#include <string>
#include <vector>

#include "experiment/bench_runner.h"
#include "experiment/bench_summary.h"

namespace eaq::experiment {

std::string bench_markdown(const BenchSpec& spec, const BenchResult& result,
                           const std::vector<PrecisionSummary>& summaries);

}  // namespace eaq::experiment
