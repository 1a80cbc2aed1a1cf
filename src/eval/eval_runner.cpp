// run_task: a task's items through the engine, with lm-eval's encoding and aggregation.
#include "eval/eval_runner.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "core/error.h"
#include "eval/request_encoding.h"
#include "runtime/generation.h"

namespace eaq::eval {

namespace {

using Clock = std::chrono::steady_clock;

// Keeps the last tokens of the context so that context + the longest continuation fit, as lm-eval
// left-truncates (context + continuation)[-(max_length + 1):]. Returns how many were dropped.
std::int64_t fit_context(EncodedRequest& request, std::int64_t context_size) {
  std::int64_t longest = 0;
  for (const auto& c : request.continuation_ids) longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(c.size()));
  const std::int64_t room = context_size - longest;
  if (room < 1) {
    fail("a continuation of {} tokens does not fit a context of {} tokens; raise --ctx", longest, context_size);
  }
  const auto n = static_cast<std::int64_t>(request.context_ids.size());
  if (n <= room) return 0;
  request.context_ids.erase(request.context_ids.begin(), request.context_ids.begin() + (n - room));
  return n - room;
}

// True (and the result marked interrupted) once the caller asked the run to stop.
bool stopped(const RunCallbacks& callbacks, TaskResult& result) {
  if (callbacks.stop == nullptr || !callbacks.stop->load()) return false;
  result.interrupted = true;
  return true;
}

struct MetricColumns {
  std::vector<std::string> names;
  std::vector<std::vector<double>> values;
  void add(const std::string& task, const ItemVerdict& verdict) {
    if (verdict.metrics.size() != names.size()) {
      throw InternalError(fmt::format("task {} returned {} metric values, it declares {}", task,
                                      verdict.metrics.size(), names.size()));
    }
    for (std::size_t m = 0; m < names.size(); ++m) values[m].push_back(verdict.metrics[m].value);
  }
};

nlohmann::json metrics_json(const ItemVerdict& verdict) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& m : verdict.metrics) out[m.name] = m.value;
  return out;
}

void run_loglikelihood(runtime::Engine& engine, const LoglikelihoodTask& task, const RunCallbacks& callbacks,
                       TaskResult& result, MetricColumns& columns) {
  const auto& items = task.items();
  const auto total = static_cast<std::int64_t>(items.size());
  for (std::int64_t i = 0; i < total; ++i) {
    if (stopped(callbacks, result)) return;
    const auto& item = items[static_cast<std::size_t>(i)];
    std::vector<std::string> continuations;
    continuations.reserve(item.choices.size());
    for (const auto& choice : item.choices) continuations.push_back(item.target_delimiter + choice);
    auto request = encode_loglikelihood_request(*engine.tokenizer, item.context, continuations);
    const std::int64_t truncated = fit_context(request, engine.session->context_size());
    result.truncated_items += truncated > 0 ? 1 : 0;
    const auto scores = engine.session->score(request.context_ids, request.continuation_ids);
    ItemVerdict verdict = task.score(item, scores);
    columns.add(task.name(), verdict);
    ++result.n_items;
    result.n_correct += verdict.correct ? 1 : 0;
    result.prompt_tokens += static_cast<std::int64_t>(request.context_ids.size());
    for (const auto& s : scores) result.scored_tokens += s.n_tokens;
    if (callbacks.on_item) {
      nlohmann::json lls = nlohmann::json::array(), greedy = nlohmann::json::array();
      for (const auto& s : scores) {
        lls.push_back(s.log_likelihood);
        greedy.push_back(s.is_greedy);
      }
      nlohmann::json record = {{"task", task.name()}, {"id", item.id}, {"context", item.context},
                               {"choices", item.choices}, {"target_delimiter", item.target_delimiter},
                               {"log_likelihoods", lls}, {"is_greedy", greedy},
                               {"predicted", verdict.predicted}, {"gold", item.gold},
                               {"verdict", verdict.correct ? "correct" : "wrong"},
                               {"metrics", metrics_json(verdict)}, {"context_tokens", request.context_ids.size()}};
      if (!item.labels.empty()) record["labels"] = item.labels;
      if (truncated > 0) record["truncated_tokens"] = truncated;
      if (!verdict.details.empty()) record["details"] = verdict.details;
      callbacks.on_item(record);
    }
    if (callbacks.on_progress) callbacks.on_progress(i + 1, total);
  }
}

void run_generation(runtime::Engine& engine, const GenerationTask& task, const RunCallbacks& callbacks,
                    TaskResult& result, MetricColumns& columns) {
  const auto& items = task.items();
  const auto total = static_cast<std::int64_t>(items.size());
  for (std::int64_t i = 0; i < total; ++i) {
    if (stopped(callbacks, result)) return;
    const auto& item = items[static_cast<std::size_t>(i)];
    auto prompt = encode_generation_prompt(*engine.tokenizer, item.prompt);
    // lm-eval keeps the prompt's last (max_length - max_gen_toks) tokens.
    const std::int64_t room = engine.session->context_size() - item.max_new_tokens;
    if (room < 1) fail("task {}: max_new_tokens {} does not fit a context of {}; raise --ctx", task.name(), item.max_new_tokens, engine.session->context_size());
    std::int64_t truncated = 0;
    if (static_cast<std::int64_t>(prompt.size()) > room) {
      truncated = static_cast<std::int64_t>(prompt.size()) - room;
      prompt.erase(prompt.begin(), prompt.begin() + truncated);
      ++result.truncated_items;
    }
    runtime::GenerationOptions options;
    options.max_new_tokens = item.max_new_tokens;
    options.stop_tokens = engine.stop_token_ids();
    options.stop_strings = item.stop_sequences;
    tokenizer::StreamingDecoder decoder(*engine.tokenizer, /*skip_special_tokens=*/true);
    engine.session->reset();
    auto generation = runtime::generate(
        *engine.session, prompt, options, [&decoder](std::int32_t id) { return decoder.feed(id); },
        [](std::string_view) {});
    ItemVerdict verdict = task.score(item, generation.text);
    columns.add(task.name(), verdict);
    ++result.n_items;
    result.n_correct += verdict.correct ? 1 : 0;
    result.prompt_tokens += static_cast<std::int64_t>(prompt.size());
    result.scored_tokens += static_cast<std::int64_t>(generation.tokens.size());
    if (callbacks.on_item) {
      nlohmann::json record = {{"task", task.name()}, {"id", item.id}, {"prompt", item.prompt},
                               {"generation", generation.text}, {"stop_reason", generation.stop_reason},
                               {"generated_tokens", generation.tokens.size()}, {"target", item.target},
                               {"verdict", verdict.correct ? "correct" : "wrong"},
                               {"metrics", metrics_json(verdict)}, {"prompt_tokens", prompt.size()}};
      if (truncated > 0) record["truncated_tokens"] = truncated;
      if (!verdict.details.empty()) record["details"] = verdict.details;
      callbacks.on_item(record);
    }
    if (callbacks.on_progress) callbacks.on_progress(i + 1, total);
  }
}

}  // namespace

MetricSummary summarize_metric(std::string name, const std::vector<double>& values) {
  MetricSummary summary;
  summary.name = std::move(name);
  const auto n = static_cast<double>(values.size());
  if (values.empty()) return summary;
  double sum = 0;
  for (double v : values) sum += v;
  summary.mean = sum / n;
  if (values.size() >= 2) {
    double squares = 0;
    for (double v : values) squares += (v - summary.mean) * (v - summary.mean);
    summary.stderr_of_mean = std::sqrt(squares / (n - 1)) / std::sqrt(n);
  }
  return summary;
}

TaskResult run_task(runtime::Engine& engine, const Task& task, const RunCallbacks& callbacks) {
  TaskResult result;
  result.task = task.name();
  result.kind = task.kind();
  result.skipped_rows = task.skipped_rows();
  MetricColumns columns;
  columns.names = task.metric_names();
  columns.values.resize(columns.names.size());
  const auto start = Clock::now();
  if (const auto* ll = dynamic_cast<const LoglikelihoodTask*>(&task)) {
    result.n_task_items = static_cast<std::int64_t>(ll->items().size());
    run_loglikelihood(engine, *ll, callbacks, result, columns);
  } else if (const auto* gen = dynamic_cast<const GenerationTask*>(&task)) {
    result.n_task_items = static_cast<std::int64_t>(gen->items().size());
    run_generation(engine, *gen, callbacks, result, columns);
  } else {
    throw InternalError(fmt::format("task {} is neither a LoglikelihoodTask nor a GenerationTask", task.name()));
  }
  result.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  for (std::size_t m = 0; m < columns.names.size(); ++m) {
    result.metrics.push_back(summarize_metric(columns.names[m], columns.values[m]));
  }
  return result;
}

}  // namespace eaq::eval
