// Result rows: every row matches its schema, and docs/results_schema.md is the schema as built.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "experiment/bench_rows.h"
#include "experiment/machine_bandwidth.h"
#include "experiment/provenance.h"
#include "eval/data_pull.h"

namespace eaq::experiment {
namespace {

TEST(BenchRows, RowsMatchTheirSchemas) {
  BenchSpec spec;
  spec.n_prompt = 4;
  spec.n_gen = 2;
  BenchContext context;
  context.run_id = "run";
  PrecisionRun run;
  run.precision = "f32";
  RepetitionMeasurement m;
  m.repetition = 1;
  m.prefill_s = 0.1;
  m.ttft_s = 0.1;
  m.decode_s = 0.2;
  m.token_latencies_s = {0.1, 0.1};  // no energy: energy columns are null
  run.repetitions.push_back(m);
  const auto row = measurement_row(spec, context, run, m);
  EXPECT_EQ(row.size(), measurement_schema().columns.size());
  EXPECT_TRUE(report::is_null(row[measurement_schema().index_of("decode_energy_j")]));
  EXPECT_EQ(std::get<double>(row[measurement_schema().index_of("decode_tokens_per_s")]), 10.0);
  const auto summary = summary_row(spec, context, run, summarize(spec, context, run));
  EXPECT_EQ(summary.size(), summary_schema().columns.size());
  EXPECT_TRUE(report::is_null(summary[summary_schema().index_of("eor")]));  // no quality, no energy
}

TEST(BenchRows, DocsDescribeTheSchemaAsBuilt) {
  std::ifstream in(EAQ_SOURCE_DIR "/docs/results_schema.md");
  ASSERT_TRUE(in) << "docs/results_schema.md is missing";
  std::stringstream doc;
  doc << in.rdbuf();
  EXPECT_NE(doc.str().find(schema_markdown()), std::string::npos)
      << "docs/results_schema.md is out of date: paste the output of `eaq bench --print-schema` into it";
}

TEST(Provenance, ModelHashIsCachedByPathSizeAndMtime) {
  const auto dir = std::filesystem::temp_directory_path() / ("eaq_provenance_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "model.bin";
  std::ofstream(file) << "abc";
  // sha256("abc") (FIPS 180-2 test vector)
  const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  EXPECT_EQ(model_sha256(file.string(), (dir / "cache").string()), abc);
  EXPECT_TRUE(std::filesystem::exists(dir / "cache" / "model-sha256.json"));
  EXPECT_EQ(model_sha256(file.string(), (dir / "cache").string()), abc);  // from the cache
  std::ofstream(file) << "abcd";  // a changed file (size differs) is hashed again
  EXPECT_EQ(model_sha256(file.string(), (dir / "cache").string()), eval::sha256_hex("abcd"));
  std::filesystem::remove_all(dir);
}

TEST(MachineBandwidth, KeyIsFileNameSafe) {
  EXPECT_EQ(machine_key("ci-vm.local", "Intel(R) Xeon(R) CPU @ 2.20GHz"), "ci-vm-local-intel-r-xeon-r-cpu-2-20ghz");
}

}  // namespace
}  // namespace eaq::experiment
