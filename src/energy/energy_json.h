// JSON forms of energy results (nlohmann::json), shared by `eaq meter`, `eaq hw` and the
// benchmark/experiment reports so every tool writes the same field names.
#pragma once

#include <nlohmann/json.hpp>

#include "energy/carbon.h"
#include "energy/energy_window.h"
#include "energy/meter_set.h"
#include "energy/nvml_meter.h"

namespace eaq::energy {

nlohmann::json to_json(const EnergyReading& reading);
nlohmann::json to_json(const WindowResult& result);
nlohmann::json to_json(const IdleBaseline& baseline);
nlohmann::json to_json(const MeterDecision& decision);
nlohmann::json to_json(const GpuInfo& gpu);
nlohmann::json to_json(const carbon::Footprint& footprint);

// (sampled - counter) / counter in percent, NaN when there is no sampled figure.
double counter_vs_sampled_percent(const EnergyReading& reading);

}  // namespace eaq::energy
