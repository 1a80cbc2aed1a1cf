// Column tables: each column is defined once, with its description and how its value is read, so
// a schema and its rows cannot drift apart.
#include "experiment/bench_rows.h"

#include <fmt/format.h>

#include <functional>

#include "report/markdown_table.h"

namespace eaq::experiment {

namespace {

using report::Column;
using report::ColumnType;
using report::Value;
using report::real;

struct RowInput {
  const BenchSpec& spec;
  const BenchContext& context;
  const PrecisionRun& run;
  const RepetitionMeasurement* measurement = nullptr;  // measurement rows
  const RepetitionFigures* figures = nullptr;          // measurement rows
  const PrecisionSummary* summary = nullptr;           // summary rows
};

struct ColumnDef {
  Column column;
  std::function<Value(const RowInput&)> get;
};

Value text(const std::string& s) { return s; }
Value integer(std::int64_t n) { return n; }
Value optional_real(const std::optional<double>& d) { return d ? real(*d) : Value{}; }

std::string used_meters(const BenchContext& c) {
  std::string out;
  for (const auto& d : c.meter_decisions) {
    if (d.used) out += (out.empty() ? "" : ",") + d.meter;
  }
  return out.empty() ? "none" : out;
}

void add_provenance(std::vector<ColumnDef>& defs) {
  auto add = [&](std::string name, ColumnType type, std::string description, std::function<Value(const RowInput&)> get) {
    defs.push_back({Column{std::move(name), type, std::move(description)}, std::move(get)});
  };
  add("schema_version", ColumnType::kInteger, "provenance: version of this schema",
      [](const RowInput&) { return integer(kResultsSchemaVersion); });
  add("run_id", ColumnType::kText, "provenance: one id per `eaq bench` run (start time, host, pid)",
      [](const RowInput& in) { return text(in.context.run_id); });
  add("started_at", ColumnType::kText, "provenance: UTC start of the run, ISO 8601",
      [](const RowInput& in) { return text(in.context.provenance.started_at); });
  add("git_sha", ColumnType::kText, "provenance: eaq's git commit", [](const RowInput& in) { return text(in.context.provenance.git_sha); });
  add("eaq_version", ColumnType::kText, "provenance", [](const RowInput& in) { return text(in.context.provenance.eaq_version); });
  add("hostname", ColumnType::kText, "provenance", [](const RowInput& in) { return text(in.context.provenance.hostname); });
  add("cpu_model", ColumnType::kText, "provenance: /proc/cpuinfo model name", [](const RowInput& in) { return text(in.context.provenance.cpu_model); });
  add("logical_cpus", ColumnType::kInteger, "provenance: CPUs the OS shows",
      [](const RowInput& in) { return integer(in.context.provenance.logical_cpus); });
  add("gpu_name", ColumnType::kText, "provenance: NVML device names (empty: no GPU used)",
      [](const RowInput& in) { return text(in.context.provenance.gpu_name); });
  add("gpu_driver", ColumnType::kText, "provenance: NVIDIA driver version (empty: no GPU used)",
      [](const RowInput& in) { return text(in.context.provenance.gpu_driver); });
  add("gpu_power_limit_w", ColumnType::kReal, "provenance: enforced power limit of the first GPU, W (NVML)",
      [](const RowInput& in) { return optional_real(in.context.provenance.gpu_power_limit_w); });
  add("device", ColumnType::kText, "provenance: cpu or cuda:N", [](const RowInput& in) { return text(in.spec.device.name()); });
  add("threads", ColumnType::kInteger, "provenance: CPU threads of the engine", [](const RowInput& in) { return integer(in.context.n_threads); });
  add("model_path", ColumnType::kText, "provenance: absolute path", [](const RowInput& in) { return text(in.context.provenance.model_path); });
  add("model_sha256", ColumnType::kText, "provenance: sha256 of the model file (directory: of its files' hashes)",
      [](const RowInput& in) { return text(in.context.provenance.model_sha256); });
  add("precision", ColumnType::kText, "provenance: the precision asked for (--precision)",
      [](const RowInput& in) { return text(in.run.precision); });
  add("precision_plan", ColumnType::kText, "provenance: the engine's stored → computed formats",
      [](const RowInput& in) { return text(in.run.weights_description); });
  add("n_prompt", ColumnType::kInteger, "setting: prompt tokens per request (-p)", [](const RowInput& in) { return integer(in.spec.n_prompt); });
  add("n_gen", ColumnType::kInteger, "setting: decode steps per request (-n)", [](const RowInput& in) { return integer(in.spec.n_gen); });
  add("repetitions", ColumnType::kInteger, "setting: repetitions asked for (-r)", [](const RowInput& in) { return integer(in.spec.repetitions); });
  add("energy_meters", ColumnType::kText, "provenance: meters used (nvml, rapl, cpu-estimate)",
      [](const RowInput& in) { return text(used_meters(in.context)); });
  add("idle_baseline_s", ColumnType::kReal, "setting: seconds of idle power measured before the run (0: none, net = gross)",
      [](const RowInput& in) { return real(in.context.idle.duration_s); });
}

template <typename Get>
ColumnDef column(std::string name, ColumnType type, std::string description, Get get) {
  return ColumnDef{Column{std::move(name), type, std::move(description)}, std::function<Value(const RowInput&)>(get)};
}

const std::vector<ColumnDef>& measurement_columns() {
  static const std::vector<ColumnDef> defs = [] {
    std::vector<ColumnDef> d;
    add_provenance(d);
    auto m = [](const RowInput& in) -> const RepetitionMeasurement& { return *in.measurement; };
    auto f = [](const RowInput& in) -> const RepetitionFigures& { return *in.figures; };
    auto pe = [](const RowInput& in) { return in.measurement->prefill_energy; };
    auto de = [](const RowInput& in) { return in.measurement->decode_energy; };
    d.push_back(column("repetition", ColumnType::kInteger, "setting: 1-based repetition", [=](const RowInput& in) { return integer(m(in).repetition); }));
    d.push_back(column("measured_at", ColumnType::kText, "provenance: UTC end of this repetition", [=](const RowInput& in) { return text(m(in).measured_at); }));
    d.push_back(column("prefill_s", ColumnType::kReal, "measured: prefill wall time, s (steady clock)", [=](const RowInput& in) { return real(m(in).prefill_s); }));
    d.push_back(column("ttft_s", ColumnType::kReal, "measured: time to first token (prefill + argmax), s", [=](const RowInput& in) { return real(m(in).ttft_s); }));
    d.push_back(column("decode_s", ColumnType::kReal, "measured: wall time of the n_gen decode steps, s", [=](const RowInput& in) { return real(m(in).decode_s); }));
    d.push_back(column("prefill_tokens_per_s", ColumnType::kReal, "derived: n_prompt / prefill_s", [=](const RowInput& in) { return real(f(in).prefill_tokens_per_s); }));
    d.push_back(column("decode_tokens_per_s", ColumnType::kReal, "derived: n_gen / decode_s", [=](const RowInput& in) { return real(f(in).decode_tokens_per_s); }));
    d.push_back(column("itl_p50_s", ColumnType::kReal, "derived: median inter-token latency (decode step + argmax) of this repetition, s", [=](const RowInput& in) { return real(f(in).itl_p50_s); }));
    d.push_back(column("itl_p90_s", ColumnType::kReal, "derived: 90th percentile inter-token latency, s", [=](const RowInput& in) { return real(f(in).itl_p90_s); }));
    d.push_back(column("itl_p99_s", ColumnType::kReal, "derived: 99th percentile inter-token latency, s", [=](const RowInput& in) { return real(f(in).itl_p99_s); }));
    d.push_back(column("prefill_energy_j", ColumnType::kReal, "measured: gross energy of the prefill window, J (energy_source)", [=](const RowInput& in) { return pe(in) ? real(pe(in)->energy_j) : Value{}; }));
    d.push_back(column("prefill_net_energy_j", ColumnType::kReal, "measured: prefill energy minus idle power x duration, J", [=](const RowInput& in) { return pe(in) ? real(pe(in)->net_energy_j) : Value{}; }));
    d.push_back(column("decode_energy_j", ColumnType::kReal, "measured: gross energy of the decode window, J (energy_source)", [=](const RowInput& in) { return de(in) ? real(de(in)->energy_j) : Value{}; }));
    d.push_back(column("decode_net_energy_j", ColumnType::kReal, "measured: decode energy minus idle power x duration, J", [=](const RowInput& in) { return de(in) ? real(de(in)->net_energy_j) : Value{}; }));
    d.push_back(column("prefill_j_per_token", ColumnType::kReal, "derived: prefill_energy_j / n_prompt", [=](const RowInput& in) { return real(f(in).prefill_j_per_token); }));
    d.push_back(column("prefill_net_j_per_token", ColumnType::kReal, "derived: prefill_net_energy_j / n_prompt", [=](const RowInput& in) { return real(f(in).prefill_net_j_per_token); }));
    d.push_back(column("decode_j_per_token", ColumnType::kReal, "derived: decode_energy_j / n_gen", [=](const RowInput& in) { return real(f(in).decode_j_per_token); }));
    d.push_back(column("decode_net_j_per_token", ColumnType::kReal, "derived: decode_net_energy_j / n_gen", [=](const RowInput& in) { return real(f(in).decode_net_j_per_token); }));
    d.push_back(column("mean_power_w", ColumnType::kReal, "derived: gross (prefill + decode) energy / window time, W", [=](const RowInput& in) { return real(f(in).mean_power_w); }));
    d.push_back(column("energy_source", ColumnType::kText, "provenance: counter | sampled | estimated ('+'-joined when meters differ)", [=](const RowInput& in) { return de(in) ? text(de(in)->source) : Value{}; }));
    d.push_back(column("energy_domains", ColumnType::kText, "provenance: the domains summed (cpu,dram; cpu-package:0,dram:0; gpu:0)", [=](const RowInput& in) { return de(in) ? text(de(in)->domains) : Value{}; }));
    d.push_back(column("prefill_counter_updates", ColumnType::kReal, "measured: prefill window / counter update period (0: continuous meter)", [=](const RowInput& in) { return pe(in) ? real(pe(in)->counter_updates) : Value{}; }));
    d.push_back(column("energy_warnings", ColumnType::kText, "provenance: the energy windows' warnings (e.g. shorter than the counter's update period)",
                       [=](const RowInput& in) {
                         std::string w;
                         for (const auto& e : {pe(in), de(in)}) {
                           if (!e) continue;
                           for (const auto& s : e->warnings) w += (w.empty() ? "" : "; ") + s;
                         }
                         return text(w);
                       }));
    return d;
  }();
  return defs;
}

const std::vector<ColumnDef>& summary_columns() {
  static const std::vector<ColumnDef> defs = [] {
    std::vector<ColumnDef> d;
    add_provenance(d);
    auto s = [](const RowInput& in) -> const PrecisionSummary& { return *in.summary; };
    auto est = [&d, s](const std::string& name, const std::string& what, Estimate PrecisionSummary::*field) {
      d.push_back(column(name, ColumnType::kReal, what + ": mean over repetitions",
                         [=](const RowInput& in) { return real((s(in).*field).mean); }));
      d.push_back(column(name + "_ci95", ColumnType::kReal, "half-width of the 95% CI of " + name + " (Student t, n-1 dof; null for 1 repetition)",
                         [=](const RowInput& in) { return real((s(in).*field).ci95_half_width); }));
    };
    d.push_back(column("completed_repetitions", ColumnType::kInteger, "measured: repetitions that finished (< repetitions when interrupted)",
                       [=](const RowInput& in) { return integer(static_cast<std::int64_t>(s(in).n_repetitions)); }));
    d.push_back(column("complete", ColumnType::kInteger, "1 when every repetition and the quality check ran", [](const RowInput& in) { return integer(in.run.complete ? 1 : 0); }));
    d.push_back(column("load_s", ColumnType::kReal, "measured: engine load (read, convert, quantize), s", [](const RowInput& in) { return real(in.run.load_s); }));
    est("prefill_tokens_per_s", "derived from measured prefill time", &PrecisionSummary::prefill_tokens_per_s);
    est("decode_tokens_per_s", "derived from measured decode time", &PrecisionSummary::decode_tokens_per_s);
    est("ttft_s", "measured time to first token, s", &PrecisionSummary::ttft_s);
    d.push_back(column("itl_p50_s", ColumnType::kReal, "derived: median of every decode step's latency over all repetitions, s", [=](const RowInput& in) { return real(s(in).itl_p50_s); }));
    d.push_back(column("itl_p90_s", ColumnType::kReal, "derived: 90th percentile, pooled, s", [=](const RowInput& in) { return real(s(in).itl_p90_s); }));
    d.push_back(column("itl_p99_s", ColumnType::kReal, "derived: 99th percentile, pooled, s", [=](const RowInput& in) { return real(s(in).itl_p99_s); }));
    est("prefill_j_per_token", "derived from measured gross prefill energy, J/token", &PrecisionSummary::prefill_j_per_token);
    est("prefill_net_j_per_token", "derived from measured net prefill energy, J/token", &PrecisionSummary::prefill_net_j_per_token);
    est("decode_j_per_token", "derived from measured gross decode energy, J/token", &PrecisionSummary::decode_j_per_token);
    est("decode_net_j_per_token", "derived from measured net decode energy, J/token", &PrecisionSummary::decode_net_j_per_token);
    est("mean_power_w", "derived: gross energy / window time, W", &PrecisionSummary::mean_power_w);
    est("request_energy_j", "derived: gross prefill + decode energy of one request, J", &PrecisionSummary::request_energy_j);
    est("edp_j_s", "derived: energy-delay product, gross request J x request s", &PrecisionSummary::edp_j_s);
    d.push_back(column("energy_source", ColumnType::kText, "provenance: counter | sampled | estimated", [=](const RowInput& in) { return s(in).has_energy ? text(s(in).energy_source) : Value{}; }));
    d.push_back(column("energy_domains", ColumnType::kText, "provenance: the domains summed", [=](const RowInput& in) { return s(in).has_energy ? text(s(in).energy_domains) : Value{}; }));
    d.push_back(column("quality_reference", ColumnType::kText, "setting: the precision quality is measured against", [](const RowInput& in) { return in.spec.quality.enabled ? text(in.spec.quality.reference) : Value{}; }));
    d.push_back(column("quality_positions", ColumnType::kInteger, "setting: token positions scored", [](const RowInput& in) { return in.run.quality ? integer(in.run.quality->n_positions) : Value{}; }));
    d.push_back(column("top1_agreement", ColumnType::kReal, "measured: fraction of positions whose argmax equals the reference's — the 'quality' of EOR/TWEOR", [](const RowInput& in) { return in.run.quality ? real(in.run.quality->top1_agreement) : Value{}; }));
    d.push_back(column("mean_kl_divergence", ColumnType::kReal, "measured: mean KL(P_ref || P), nats", [](const RowInput& in) { return in.run.quality ? real(in.run.quality->mean_kl_divergence) : Value{}; }));
    d.push_back(column("perplexity", ColumnType::kReal, "measured: perplexity of the scored text", [](const RowInput& in) { return in.run.quality ? real(in.run.quality->perplexity) : Value{}; }));
    d.push_back(column("delta_perplexity", ColumnType::kReal, "measured: perplexity - the reference's", [](const RowInput& in) { return in.run.quality ? real(in.run.quality->delta_perplexity) : Value{}; }));
    est("eor", "derived: top1_agreement / gross request Wh", &PrecisionSummary::eor);
    est("tweor", "derived: top1_agreement / (gross request Wh x request s)", &PrecisionSummary::tweor);
    d.push_back(column("gco2e_per_1m_decode_tokens", ColumnType::kReal, "derived: decode_j_per_token x 1e6 x PUE x grid intensity (energy/carbon.h)",
                       [=](const RowInput& in) { return s(in).has_energy ? real(s(in).footprint_per_1m_decode_tokens.grams_co2e) : Value{}; }));
    d.push_back(column("cost_per_1m_decode_tokens", ColumnType::kReal, "derived: decode_j_per_token x 1e6 x PUE x price per kWh",
                       [=](const RowInput& in) { return s(in).has_energy ? real(s(in).footprint_per_1m_decode_tokens.cost) : Value{}; }));
    d.push_back(column("cost_currency", ColumnType::kText, "setting", [=](const RowInput& in) { return s(in).has_energy ? text(s(in).footprint_per_1m_decode_tokens.currency) : Value{}; }));
    d.push_back(column("carbon_intensity_g_per_kwh", ColumnType::kReal, "setting: grid intensity used",
                       [=](const RowInput& in) { return s(in).has_energy ? real(s(in).footprint_per_1m_decode_tokens.intensity.g_per_kwh) : Value{}; }));
    d.push_back(column("carbon_basis", ColumnType::kText, "provenance: where the intensity comes from (world average, country, region, given) and its publication",
                       [=](const RowInput& in) {
                         if (!s(in).has_energy) return Value{};
                         const auto& i = s(in).footprint_per_1m_decode_tokens.intensity;
                         return text(i.year ? fmt::format("{} ({}, {})", i.basis, i.source, i.year) : i.basis);
                       }));
    d.push_back(column("price_assumed", ColumnType::kInteger, "1: the price per kWh is eaq's assumption, not given", [=](const RowInput& in) { return s(in).has_energy ? integer(s(in).footprint_per_1m_decode_tokens.price_assumed ? 1 : 0) : Value{}; }));
    d.push_back(column("weights_bytes", ColumnType::kInteger, "computed: bytes of the tensors the engine computes with", [](const RowInput& in) { return integer(static_cast<std::int64_t>(in.run.weights_bytes)); }));
    d.push_back(column("kv_cache_bytes", ColumnType::kInteger, "allocated: the session's KV cache", [](const RowInput& in) { return integer(static_cast<std::int64_t>(in.run.kv_cache_bytes)); }));
    d.push_back(column("workspace_bytes", ColumnType::kInteger, "measured: heap growth over the warm-up (activations, logits; mallinfo2; 0 where unavailable)", [](const RowInput& in) { return integer(static_cast<std::int64_t>(in.run.workspace_bytes)); }));
    d.push_back(column("peak_rss_bytes", ColumnType::kInteger, "measured: peak resident set (VmHWM) from load to the end of the repetitions",
                       [](const RowInput& in) { return in.run.peak_rss_bytes ? integer(static_cast<std::int64_t>(*in.run.peak_rss_bytes)) : Value{}; }));
    d.push_back(column("decode_bytes_per_token", ColumnType::kReal, "computed: bytes one decode step reads (weights + KV cache at n_prompt + n_gen/2)", [](const RowInput& in) { return real(in.run.decode_bytes_per_token); }));
    d.push_back(column("decode_bandwidth_bytes_per_s", ColumnType::kReal, "derived: decode_bytes_per_token x decode_tokens_per_s", [=](const RowInput& in) { return real(s(in).decode_bandwidth_bytes_per_s); }));
    d.push_back(column("machine_bandwidth_bytes_per_s", ColumnType::kReal, "measured: STREAM triad of this machine and thread count (cached per machine); on a GPU a device-to-device copy (read + written bytes), measured each run",
                       [](const RowInput& in) { return in.context.bandwidth ? real(in.context.bandwidth->bytes_per_s) : Value{}; }));
    d.push_back(column("machine_bandwidth_method", ColumnType::kText, "provenance: how the machine bandwidth was measured",
                       [](const RowInput& in) { return in.context.bandwidth ? text(in.context.bandwidth->method) : Value{}; }));
    d.push_back(column("machine_bandwidth_measured_at", ColumnType::kText, "provenance: when the machine bandwidth was measured (UTC)",
                       [](const RowInput& in) { return in.context.bandwidth ? text(in.context.bandwidth->measured_at) : Value{}; }));
    d.push_back(column("bandwidth_utilisation", ColumnType::kReal, "derived: decode_bandwidth_bytes_per_s / machine_bandwidth_bytes_per_s", [=](const RowInput& in) { return real(s(in).bandwidth_utilisation); }));
    return d;
  }();
  return defs;
}

report::Schema schema_of(const std::string& name, const std::vector<ColumnDef>& defs) {
  report::Schema schema{name, {}};
  for (const auto& d : defs) schema.columns.push_back(d.column);
  return schema;
}

report::Row row_of(const std::vector<ColumnDef>& defs, const RowInput& in) {
  report::Row row;
  row.reserve(defs.size());
  for (const auto& d : defs) row.push_back(d.get(in));
  return row;
}

}  // namespace

const report::Schema& measurement_schema() {
  static const report::Schema schema = schema_of("bench_measurements", measurement_columns());
  return schema;
}

const report::Schema& summary_schema() {
  static const report::Schema schema = schema_of("bench_summaries", summary_columns());
  return schema;
}

report::Row measurement_row(const BenchSpec& spec, const BenchContext& context, const PrecisionRun& run,
                            const RepetitionMeasurement& measurement) {
  const auto quality = run.quality ? std::optional<double>(run.quality->top1_agreement) : std::nullopt;
  const auto figures = repetition_figures(spec, measurement, quality);
  auto row = row_of(measurement_columns(), RowInput{spec, context, run, &measurement, &figures, nullptr});
  report::check_row(measurement_schema(), row);
  return row;
}

report::Row summary_row(const BenchSpec& spec, const BenchContext& context, const PrecisionRun& run,
                        const PrecisionSummary& summary) {
  auto row = row_of(summary_columns(), RowInput{spec, context, run, nullptr, nullptr, &summary});
  report::check_row(summary_schema(), row);
  return row;
}

std::string schema_markdown() {
  std::string out;
  for (const auto* schema : {&measurement_schema(), &summary_schema()}) {
    out += fmt::format("### `{}`\n\n", schema->name);
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : schema->columns) rows.push_back({"`" + c.name + "`", std::string(report::sql_type(c.type)), c.description});
    out += report::markdown_table({{"column", report::Align::kLeft}, {"type", report::Align::kLeft}, {"what", report::Align::kLeft}}, rows);
    out += "\n";
  }
  return out;
}

}  // namespace eaq::experiment
