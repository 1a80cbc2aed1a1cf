// Carbon and cost: lookups in the intensity table and the arithmetic.
#include "energy/carbon.h"

#include <cctype>
#include <cmath>

#include "core/error.h"

namespace eaq::carbon {

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

void validate(const CarbonOptions& options) {
  if (!(options.pue >= 1.0 && options.pue <= 5.0)) {
    fail("PUE {} is out of range: a facility's power usage effectiveness is >= 1 (1.0 = the "
         "device alone; typical data centres 1.1-1.6)", options.pue);
  }
  if (!(options.price_per_kwh >= 0) || !std::isfinite(options.price_per_kwh)) {
    fail("electricity price {} per kWh is invalid: give a non-negative number", options.price_per_kwh);
  }
  if (options.intensity_g_per_kwh &&
      !(*options.intensity_g_per_kwh >= 0 && *options.intensity_g_per_kwh <= 2000)) {
    fail("carbon intensity {} gCO2e/kWh is out of range [0, 2000]", *options.intensity_g_per_kwh);
  }
}

constexpr double kJoulesPerKwh = 3.6e6;

}  // namespace

const IntensityEntry& world_average() {
  for (const auto& entry : intensity_table()) {
    if (entry.kind == "world") return entry;
  }
  throw InternalError("the carbon intensity table has no world average");
}

const IntensityEntry* find_country(std::string_view country) {
  for (const auto& entry : intensity_table()) {
    if (entry.kind != "country") continue;
    if (equals_ignoring_case(entry.key, country) || equals_ignoring_case(entry.key3, country) ||
        equals_ignoring_case(entry.name, country)) {
      return &entry;
    }
  }
  return nullptr;
}

const IntensityEntry* find_region(std::string_view region) {
  for (const auto& entry : intensity_table()) {
    if (entry.kind == "region" && equals_ignoring_case(entry.key, region)) return &entry;
  }
  return nullptr;
}

Intensity resolve_intensity(const CarbonOptions& options) {
  validate(options);
  if (options.intensity_g_per_kwh) {
    return {*options.intensity_g_per_kwh, "given", "user", 0};
  }
  auto from = [](const IntensityEntry& entry, std::string basis) {
    return Intensity{entry.g_per_kwh, std::move(basis), std::string(entry.source), entry.year};
  };
  if (!options.region.empty()) {
    const IntensityEntry* entry = find_region(options.region);
    if (entry == nullptr) {
      fail("cloud region '{}' is not in eaq's carbon intensity table (docs/energy.md lists it); "
           "give --carbon-intensity G (gCO2e/kWh) or --country instead", options.region);
    }
    return from(*entry, fmt::format("region {} ({})", entry->key, entry->name));
  }
  if (!options.country.empty()) {
    const IntensityEntry* entry = find_country(options.country);
    if (entry == nullptr) {
      fail("country '{}' is not in eaq's carbon intensity table (docs/energy.md lists it); give "
           "--carbon-intensity G (gCO2e/kWh) from your grid operator instead", options.country);
    }
    return from(*entry, fmt::format("country {} ({})", entry->key, entry->name));
  }
  return from(world_average(), "world average");
}

double grams_co2e(double energy_j, const CarbonOptions& options) {
  return energy_j / kJoulesPerKwh * options.pue * resolve_intensity(options).g_per_kwh;
}

double cost(double energy_j, const CarbonOptions& options) {
  validate(options);
  return energy_j / kJoulesPerKwh * options.pue * options.price_per_kwh;
}

Footprint footprint(double energy_j, const CarbonOptions& options) {
  Footprint f;
  f.intensity = resolve_intensity(options);
  f.energy_kwh = energy_j / kJoulesPerKwh;
  f.facility_energy_kwh = f.energy_kwh * options.pue;
  f.grams_co2e = f.facility_energy_kwh * f.intensity.g_per_kwh;
  f.cost = f.facility_energy_kwh * options.price_per_kwh;
  f.currency = options.currency;
  f.pue = options.pue;
  f.price_per_kwh = options.price_per_kwh;
  f.price_assumed = !options.price_given;
  return f;
}

}  // namespace eaq::carbon
