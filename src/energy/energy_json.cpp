// JSON forms of energy results.
#include "energy/energy_json.h"

#include <cmath>

namespace eaq::energy {

namespace {

nlohmann::json number_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

template <typename T>
nlohmann::json optional_or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

double counter_vs_sampled_percent(const EnergyReading& reading) {
  if (!std::isfinite(reading.sampled_energy_j) || reading.energy_j == 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return 100.0 * (reading.sampled_energy_j - reading.energy_j) / reading.energy_j;
}

nlohmann::json to_json(const EnergyReading& reading) {
  return {{"domain", reading.domain},
          {"source", std::string(to_string(reading.source))},
          {"in_total", reading.in_total},
          {"duration_s", reading.duration_s},
          {"energy_j", reading.energy_j},
          {"idle_power_w", reading.idle_power_w},
          {"idle_energy_j", reading.idle_energy_j},
          {"net_energy_j", reading.net_energy_j},
          {"mean_power_w", reading.mean_power_w},
          {"sampled_energy_j", number_or_null(reading.sampled_energy_j)},
          {"sampled_vs_counter_percent", number_or_null(counter_vs_sampled_percent(reading))}};
}

nlohmann::json to_json(const WindowResult& result) {
  nlohmann::json readings = nlohmann::json::array();
  for (const auto& reading : result.readings) readings.push_back(to_json(reading));
  return {{"name", result.name},
          {"depth", result.depth},
          {"duration_s", result.duration_s},
          {"repetitions", result.repetitions},
          {"counter_updates", result.counter_updates},
          {"has_idle_baseline", result.has_idle_baseline},
          {"energy_j", result.total_energy_j()},
          {"idle_energy_j", result.total_idle_energy_j()},
          {"net_energy_j", result.total_net_energy_j()},
          {"mean_power_w", result.duration_s > 0 ? result.total_energy_j() / result.duration_s : 0.0},
          {"readings", readings},
          {"warnings", result.warnings}};
}

nlohmann::json to_json(const IdleBaseline& baseline) {
  if (baseline.duration_s <= 0) return nullptr;
  nlohmann::json powers = nlohmann::json::array();
  double total_w = 0;
  for (const auto& power : baseline.powers) {
    powers.push_back({{"domain", power.domain},
                      {"source", std::string(to_string(power.source))},
                      {"power_w", power.power_w}});
    total_w += power.power_w;
  }
  return {{"duration_s", baseline.duration_s}, {"powers", powers}, {"total_power_w", total_w}};
}

nlohmann::json to_json(const MeterDecision& decision) {
  return {{"meter", decision.meter}, {"used", decision.used}, {"reason", decision.reason}};
}

nlohmann::json to_json(const GpuInfo& gpu) {
  return {{"index", gpu.index},
          {"name", gpu.name},
          {"energy_counter", gpu.energy_counter},
          {"source", std::string(to_string(gpu.source))},
          {"power_limit_w", optional_or_null(gpu.power_limit_w)},
          {"power_w", optional_or_null(gpu.power_w)},
          {"sm_clock_mhz", optional_or_null(gpu.sm_clock_mhz)},
          {"memory_clock_mhz", optional_or_null(gpu.memory_clock_mhz)},
          {"temperature_c", optional_or_null(gpu.temperature_c)},
          {"memory_total_bytes", optional_or_null(gpu.memory_total_bytes)},
          {"memory_used_bytes", optional_or_null(gpu.memory_used_bytes)}};
}

nlohmann::json to_json(const carbon::Footprint& footprint) {
  return {{"energy_kwh", footprint.energy_kwh},
          {"facility_energy_kwh", footprint.facility_energy_kwh},
          {"pue", footprint.pue},
          {"intensity_g_per_kwh", footprint.intensity.g_per_kwh},
          {"intensity_basis", footprint.intensity.basis},
          {"intensity_source", footprint.intensity.source},
          {"intensity_year", footprint.intensity.year},
          {"grams_co2e", footprint.grams_co2e},
          {"cost", footprint.cost},
          {"currency", footprint.currency},
          {"price_per_kwh", footprint.price_per_kwh},
          {"price_assumed", footprint.price_assumed}};
}

}  // namespace eaq::energy
