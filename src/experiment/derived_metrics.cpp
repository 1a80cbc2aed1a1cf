// EOR, TWEOR, EDP.
#include "experiment/derived_metrics.h"

#include <limits>

namespace eaq::experiment {

double joules_to_wh(double energy_j) { return energy_j / kJoulesPerWh; }

double energy_to_outcome_ratio(double quality, double energy_wh) {
  if (!(energy_wh > 0)) return std::numeric_limits<double>::quiet_NaN();
  return quality / energy_wh;
}

double time_weighted_energy_to_outcome_ratio(double quality, double energy_wh, double time_s) {
  if (!(energy_wh > 0) || !(time_s > 0)) return std::numeric_limits<double>::quiet_NaN();
  return quality / (energy_wh * time_s);
}

double energy_delay_product_j_s(double energy_j, double time_s) { return energy_j * time_s; }

}  // namespace eaq::experiment
