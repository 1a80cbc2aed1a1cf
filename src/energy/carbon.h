// Carbon and cost of an energy figure: grid carbon intensity (gCO2e/kWh) by country or cloud
// region from a table of published figures (carbon_intensity_table.cpp: source and year per row),
// a world-average default, the data centre's PUE and an electricity price.
//
//   carbon::CarbonOptions options;          // world average, PUE 1.0, default price
//   options.country = "FR";                 // or region = "europe-west9", or intensity_g_per_kwh
//   double g = carbon::grams_co2e(energy_j, options);
//   carbon::Footprint f = carbon::footprint(energy_j, options);  // with sources, for reports
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace eaq::carbon {

struct IntensityEntry {
  std::string_view kind;   // "world", "country", "region"
  std::string_view key;    // ISO 3166 alpha-2 for countries, provider's id for regions
  std::string_view key3;   // ISO 3166 alpha-3 (countries), empty otherwise
  std::string_view name;
  double g_per_kwh;        // lifecycle gCO2e per kWh generated (location-based for regions)
  std::string_view source;
  int year;                // the year the figure describes
};

std::span<const IntensityEntry> intensity_table();
const IntensityEntry& world_average();
// Case-insensitive: alpha-2, alpha-3 or English name. Null when not in the table.
const IntensityEntry* find_country(std::string_view country);
const IntensityEntry* find_region(std::string_view region);

// An assumed price, not a published average: set CarbonOptions::price_per_kwh for your tariff.
inline constexpr double kDefaultPricePerKwh = 0.15;

struct CarbonOptions {
  std::string country;                        // empty: not given
  std::string region;                         // cloud region id, e.g. us-central1
  std::optional<double> intensity_g_per_kwh;  // overrides country and region
  double pue = 1.0;                           // power usage effectiveness of the facility
  double price_per_kwh = kDefaultPricePerKwh;
  bool price_given = false;                   // false: the price is eaq's assumption
  std::string currency = "USD";
};

struct Intensity {
  double g_per_kwh = 0;
  std::string basis;   // "world average", "country FR (France)", "region us-central1", "given"
  std::string source;  // publication
  int year = 0;        // 0 when given by the user
};

// Priority: an explicit intensity, then region, then country, then the world average. Throws
// eaq::Error for an unknown country or region (the message lists how to give a value instead) or
// for invalid PUE/price/intensity.
Intensity resolve_intensity(const CarbonOptions& options);

double grams_co2e(double energy_j, const CarbonOptions& options);
double cost(double energy_j, const CarbonOptions& options);

struct Footprint {
  double energy_kwh = 0;           // at the meters
  double facility_energy_kwh = 0;  // x PUE
  double grams_co2e = 0;
  double cost = 0;
  std::string currency;
  double pue = 1.0;
  double price_per_kwh = 0;
  bool price_assumed = true;
  Intensity intensity;
};

Footprint footprint(double energy_j, const CarbonOptions& options);

}  // namespace eaq::carbon
