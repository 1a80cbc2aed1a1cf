// Figures derived from measured ones (docs/bench.md defines each):
//   EOR   = quality / E_Wh             energy-to-outcome ratio, per request
//   TWEOR = quality / (E_Wh x t_s)     time-weighted EOR
//   EDP   = E_J x t_s                  energy-delay product, J·s
// where a request is one repetition (prefill of n_prompt tokens + n_gen decode steps), E its gross
// energy (what the meters saw: idle draw included, so never ~0 or negative where idle dominates
// and the net figure is within noise of 0; the net J/token columns show the work's own cost) and t
// its wall time; quality is top-1 agreement with the reference precision, in [0, 1].
#pragma once

namespace eaq::experiment {

inline constexpr double kJoulesPerWh = 3600.0;

double joules_to_wh(double energy_j);
// NaN when energy_wh <= 0 (a ratio over no energy is not a figure).
double energy_to_outcome_ratio(double quality, double energy_wh);
double time_weighted_energy_to_outcome_ratio(double quality, double energy_wh, double time_s);
double energy_delay_product_j_s(double energy_j, double time_s);

}  // namespace eaq::experiment
