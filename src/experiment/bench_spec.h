// BenchSpec: what `eaq bench` measures — a model, the precisions to compare, the workload of one
// repetition (prefill of n_prompt tokens, then n_gen greedy decode steps), repetitions, the device
// and threads, the idle baseline and cool-down, the quality check against a reference precision,
// and the grid figures for carbon and cost. validate() turns bad input into eaq::Error before any
// model is loaded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "energy/carbon.h"
#include "runtime/engine.h"

namespace eaq::experiment {

enum class DeviceKind { kCpu, kCuda };

struct Device {
  DeviceKind kind = DeviceKind::kCpu;
  int index = 0;  // cuda:N
  std::string name() const;  // "cpu", "cuda:0"
};

// "cpu", "cuda", "cuda:N"; eaq::Error for anything else.
Device parse_device(std::string_view text);

struct QualitySettings {
  bool enabled = true;
  std::string reference = "f32";  // the precision quality is measured against
  std::string text;               // the text scored (bench's CLI: the project's own docs)
  std::int64_t chunk_tokens = 128;
  std::int64_t max_chunks = 2;
};

struct BenchSpec {
  std::string model_path;
  std::vector<std::string> precisions;
  std::int64_t n_prompt = 512;
  std::int64_t n_gen = 128;
  int repetitions = 5;
  Device device;
  int n_threads = 0;  // 0 = ThreadPool::default_threads()
  // Prompt tokens are this text's first n_prompt tokens (repeated when it is shorter).
  std::string prompt_text;
  double idle_s = 2.0;      // idle baseline measured once before the first precision (0: none)
  double cooldown_s = 1.0;  // pause between precisions so one's heat does not bias the next
  std::int64_t warmup_decode_steps = 8;  // after one untimed prefill of n_prompt tokens
  QualitySettings quality;
  carbon::CarbonOptions carbon;
  // Where the measured machine bandwidth is cached (empty: $EAQ_CACHE_DIR, else
  // $XDG_CACHE_HOME/eaq, else ~/.cache/eaq).
  std::string cache_dir;
};

// Every precision `device` runs, in the order tables print them: on the CPU every scheme of
// quant/scheme_registry.h; on a GPU the schemes whose matrices its kernels compute in their own
// format (not f32, q4_1, int4 zero-point, int8-dyn: those would go up as f16). Throws eaq::Error
// for a device this eaq cannot run on (built without CUDA).
std::vector<std::string> supported_precisions(const Device& device);

// Checks the spec: a model file or directory that exists, n_prompt >= 1, n_gen >= 1,
// repetitions >= 1, precisions known for the device, threads >= 0, prompt + generation within
// the context it asks for. Throws eaq::Error naming the flag.
void validate(const BenchSpec& spec);

// The engine configuration of one precision: f32/f16/bf16 as a weight dtype, "native" and the
// schemes as a precision plan, "plan:FILE.yaml" as a plan file.
runtime::EngineConfig engine_config_for(const BenchSpec& spec, const std::string& precision);

std::vector<std::string> split_list(std::string_view comma_separated);

}  // namespace eaq::experiment
