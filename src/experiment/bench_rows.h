// The result rows of `eaq bench` (docs/results_schema.md is generated from these schemas):
//   bench_measurements  one row per repetition of one precision, written as soon as it is measured
//   bench_summaries     one row per precision: mean ± 95% CI over its repetitions, quality and the
//                       derived figures
// Both start with the same provenance columns. Every column says whether it is measured, derived
// or provenance, with its unit and source.
#pragma once

#include "experiment/bench_runner.h"
#include "experiment/bench_summary.h"
#include "report/result_schema.h"

namespace eaq::experiment {

inline constexpr int kResultsSchemaVersion = 1;

const report::Schema& measurement_schema();
const report::Schema& summary_schema();

report::Row measurement_row(const BenchSpec& spec, const BenchContext& context, const PrecisionRun& run,
                            const RepetitionMeasurement& measurement);
report::Row summary_row(const BenchSpec& spec, const BenchContext& context, const PrecisionRun& run,
                        const PrecisionSummary& summary);

// docs/results_schema.md's tables: one markdown table per schema.
std::string schema_markdown();

}  // namespace eaq::experiment
