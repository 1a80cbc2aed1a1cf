// env_switch: unset or empty gives the default; "1" and "0" switch; anything else is an error
// naming the variable, the value and the default.
#include "kernels/cuda/env_switch.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/error.h"

namespace eaq::kernels::cuda {
namespace {

constexpr const char* kName = "EAQ_TEST_ENV_SWITCH";

TEST(EnvSwitch, UnsetOrEmptyIsTheDefaultAndZeroOrOneSwitch) {
  unsetenv(kName);
  EXPECT_TRUE(env_switch(kName, true, "1"));
  EXPECT_FALSE(env_switch(kName, false, "0"));
  setenv(kName, "", 1);
  EXPECT_TRUE(env_switch(kName, true, "1"));
  EXPECT_FALSE(env_switch(kName, false, "0"));
  setenv(kName, "0", 1);
  EXPECT_FALSE(env_switch(kName, true, "1"));
  setenv(kName, "1", 1);
  EXPECT_TRUE(env_switch(kName, false, "0"));
  unsetenv(kName);
}

TEST(EnvSwitch, OtherValuesAreErrorsNamingThem) {
  for (const char* bad : {"2", "on", "true", " 1", "01"}) {
    setenv(kName, bad, 1);
    try {
      env_switch(kName, true, "1: the test's default");
      FAIL() << "no error for '" << bad << "'";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(std::string(kName) + "='" + bad + "' is not 0 or 1"), std::string::npos) << what;
      EXPECT_NE(what.find("1: the test's default"), std::string::npos) << what;
    }
  }
  unsetenv(kName);
}

}  // namespace
}  // namespace eaq::kernels::cuda
