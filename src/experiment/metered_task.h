// An accuracy task run inside an energy window: where eval, runtime and energy meet for `eaq eval`
// (the join lives in experiment, the one module that joins them; the CLI only parses and prints).
#pragma once

#include <optional>

#include "energy/energy_window.h"
#include "energy/meter_set.h"
#include "eval/eval_runner.h"
#include "experiment/phase_energy.h"
#include "runtime/engine.h"

namespace eaq::experiment {

struct MeteredTaskResult {
  eval::TaskResult result;
  std::optional<PhaseEnergy> energy;           // absent when no meter is usable
  std::optional<energy::WindowResult> window;  // the whole window, for reports that keep it
};

// Runs the task; with meters, inside one energy window named after the task (idle subtracted when
// `idle` holds a baseline).
MeteredTaskResult run_task_metered(runtime::Engine& engine, const eval::Task& task, const eval::RunCallbacks& callbacks,
                                   energy::MeterSet& meters, const energy::IdleBaseline& idle);

}  // namespace eaq::experiment
