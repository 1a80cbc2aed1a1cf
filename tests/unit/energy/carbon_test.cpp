// Carbon and cost arithmetic against hand-computed values, and the table's provenance.
#include "energy/carbon.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace eaq::carbon {
namespace {

constexpr double kOneKwhJ = 3.6e6;

TEST(Carbon, WorldAverageByDefault) {
  CarbonOptions options;
  const Intensity intensity = resolve_intensity(options);
  EXPECT_EQ(intensity.basis, "world average");
  EXPECT_DOUBLE_EQ(intensity.g_per_kwh, 481);
  EXPECT_EQ(intensity.year, 2023);
  EXPECT_DOUBLE_EQ(grams_co2e(kOneKwhJ, options), 481);
  EXPECT_DOUBLE_EQ(grams_co2e(kOneKwhJ / 2, options), 240.5);
}

TEST(Carbon, CountryRegionAndOverridePriority) {
  CarbonOptions options;
  options.country = "fr";
  EXPECT_DOUBLE_EQ(grams_co2e(kOneKwhJ, options), 56);
  options.pue = 1.5;
  EXPECT_DOUBLE_EQ(grams_co2e(kOneKwhJ, options), 84);  // 1 kWh x 1.5 x 56
  options.region = "europe-west9";                       // region beats country
  EXPECT_NEAR(grams_co2e(kOneKwhJ, options), 1.5 * 16.30, 1e-9);
  options.intensity_g_per_kwh = 100;                     // an explicit value beats both
  EXPECT_DOUBLE_EQ(grams_co2e(kOneKwhJ, options), 150);
  EXPECT_EQ(resolve_intensity(options).basis, "given");
}

TEST(Carbon, CountryLookupByCodeOrName) {
  ASSERT_NE(find_country("FRA"), nullptr);
  EXPECT_EQ(find_country("france"), find_country("FR"));
  EXPECT_EQ(find_country("Germany")->g_per_kwh, 381);
  EXPECT_EQ(find_country("Atlantis"), nullptr);
  EXPECT_EQ(find_region("US-CENTRAL1")->year, 2024);
}

TEST(Carbon, CostAndFootprint) {
  CarbonOptions options;
  options.price_per_kwh = 0.2;
  options.price_given = true;
  options.pue = 1.2;
  EXPECT_NEAR(cost(kOneKwhJ, options), 0.24, 1e-12);
  const Footprint f = footprint(2 * kOneKwhJ, options);
  EXPECT_DOUBLE_EQ(f.energy_kwh, 2.0);
  EXPECT_DOUBLE_EQ(f.facility_energy_kwh, 2.4);
  EXPECT_NEAR(f.grams_co2e, 2.4 * 481, 1e-9);
  EXPECT_NEAR(f.cost, 0.48, 1e-12);
  EXPECT_FALSE(f.price_assumed);
  EXPECT_TRUE(footprint(1, CarbonOptions{}).price_assumed);
}

TEST(Carbon, BadInputsSayWhatToDo) {
  CarbonOptions options;
  options.country = "Atlantis";
  try {
    resolve_intensity(options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--carbon-intensity"), std::string::npos);
  }
  CarbonOptions low_pue;
  low_pue.pue = 0.9;
  EXPECT_THROW(grams_co2e(1, low_pue), Error);
  CarbonOptions bad_price;
  bad_price.price_per_kwh = -1;
  EXPECT_THROW(cost(1, bad_price), Error);
  CarbonOptions bad_region;
  bad_region.region = "mars-north1";
  EXPECT_THROW(resolve_intensity(bad_region), Error);
}

TEST(Carbon, EveryFigureHasSourceAndYear) {
  int worlds = 0;
  for (const auto& entry : intensity_table()) {
    EXPECT_FALSE(entry.source.empty()) << entry.key;
    EXPECT_GE(entry.year, 2020) << entry.key;
    EXPECT_LE(entry.year, 2025) << entry.key;
    EXPECT_GE(entry.g_per_kwh, 0) << entry.key;
    EXPECT_LE(entry.g_per_kwh, 1200) << entry.key;
    worlds += entry.kind == "world";
  }
  EXPECT_EQ(worlds, 1);
}

}  // namespace
}  // namespace eaq::carbon
