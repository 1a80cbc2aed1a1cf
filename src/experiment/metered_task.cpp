// One eval task inside one energy window.
#include "experiment/metered_task.h"

namespace eaq::experiment {

MeteredTaskResult run_task_metered(runtime::Engine& engine, const eval::Task& task, const eval::RunCallbacks& callbacks,
                                   energy::MeterSet& meters, const energy::IdleBaseline& idle) {
  MeteredTaskResult out;
  std::optional<energy::EnergyWindow> window;
  if (!meters.empty()) window.emplace(meters, task.name(), energy::DeviceSync{}, idle);
  out.result = eval::run_task(engine, task, callbacks);
  if (window) {
    out.window = window->end();
    const auto e = phase_energy(*out.window);
    if (!e.domains.empty()) out.energy = e;
  }
  return out;
}

}  // namespace eaq::experiment
