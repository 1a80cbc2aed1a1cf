// Window result → PhaseEnergy.
#include "experiment/phase_energy.h"

namespace eaq::experiment {

PhaseEnergy phase_energy(const energy::WindowResult& window) {
  PhaseEnergy e;
  e.duration_s = window.duration_s;
  e.has_idle_baseline = window.has_idle_baseline;
  e.counter_updates = window.counter_updates;
  e.warnings = window.warnings;
  for (const auto& r : window.readings) {
    if (!r.in_total) continue;
    const std::string source(energy::to_string(r.source));
    if (e.source.find(source) == std::string::npos) e.source += (e.source.empty() ? "" : "+") + source;
    e.domains += (e.domains.empty() ? "" : ",") + r.domain;
  }
  e.energy_j = window.total_energy_j();
  e.idle_energy_j = window.total_idle_energy_j();
  e.net_energy_j = window.has_idle_baseline ? window.total_net_energy_j() : e.energy_j;
  return e;
}

}  // namespace eaq::experiment
