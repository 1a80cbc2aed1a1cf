// PhaseEnergy: the energy of one phase of work (a bench's prefill or decode, an eval task) read
// from its energy window: gross, idle and net over the domains that count toward totals, with the
// source and domains that say how it was obtained.
#pragma once

#include <string>
#include <vector>

#include "energy/energy_window.h"

namespace eaq::experiment {

struct PhaseEnergy {
  double duration_s = 0;
  double energy_j = 0;      // gross, over the domains that count toward totals
  double idle_energy_j = 0;
  double net_energy_j = 0;  // gross - idle (= gross when there is no idle baseline)
  bool has_idle_baseline = false;
  std::string source;       // counter | sampled | estimated, '+'-joined when meters differ
  std::string domains;      // "cpu,dram", "cpu-package:0,dram:0", "gpu:0"
  double counter_updates = 0;  // duration / counter update period (0: continuous meters)
  std::vector<std::string> warnings;
};

PhaseEnergy phase_energy(const energy::WindowResult& window);

}  // namespace eaq::experiment
