// PowerTrace: trapezoid integration against hand-computed areas.
#include "energy/power_trace.h"

#include <gtest/gtest.h>

namespace eaq::energy {
namespace {

TEST(PowerTrace, ConstantPower) {
  PowerTrace trace;
  for (int i = 0; i <= 10; ++i) trace.add(i * 0.1, 100.0);
  EXPECT_NEAR(trace.energy_between(0.0, 1.0), 100.0, 1e-9);
  EXPECT_NEAR(trace.energy_between(0.25, 0.75), 50.0, 1e-9);
  EXPECT_NEAR(*trace.mean_power_w(0.0, 1.0), 100.0, 1e-9);
}

TEST(PowerTrace, RampIsExactForTrapezoid) {
  PowerTrace trace;
  trace.add(0.0, 0.0);
  trace.add(1.0, 100.0);
  EXPECT_NEAR(trace.energy_to(1.0), 50.0, 1e-12);
  // Inside the segment power is interpolated: area under 100 t from 0 to 0.5 = 12.5.
  EXPECT_NEAR(trace.energy_to(0.5), 12.5, 1e-12);
  // Past the last sample the last power is held.
  EXPECT_NEAR(trace.energy_to(1.5), 100.0, 1e-12);
}

TEST(PowerTrace, StepIntegratesBothSides) {
  PowerTrace trace;
  trace.add(0.0, 50.0);
  trace.add(1.0, 50.0);
  trace.add(1.001, 300.0);
  trace.add(2.0, 300.0);
  EXPECT_NEAR(trace.energy_to(2.0), 50.0 + 0.001 * 175.0 + 0.999 * 300.0, 1e-9);
  EXPECT_EQ(trace.latest_power_w(), 300.0);
  trace.add(2.0, 10.0);  // not after the last sample: ignored
  EXPECT_EQ(trace.size(), 4u);
}

TEST(PowerTrace, BoundedSize) {
  PowerTrace trace(4);
  for (int i = 0; i < 10; ++i) trace.add(i, 10.0);
  EXPECT_EQ(trace.size(), 4u);
  EXPECT_NEAR(trace.energy_between(6.0, 9.0), 30.0, 1e-9);
  EXPECT_FALSE(trace.mean_power_w(0.0, 9.0).has_value());  // the start was dropped
}

}  // namespace
}  // namespace eaq::energy
