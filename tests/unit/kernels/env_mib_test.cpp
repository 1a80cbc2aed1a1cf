// env_mib: unset is nullopt; a whole number in range is taken; anything else is an error naming
// the variable, the value and the range.
#include "kernels/cuda/env_mib.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/error.h"

namespace eaq::kernels::cuda {
namespace {

constexpr const char* kName = "EAQ_TEST_ENV_MIB";

TEST(EnvMib, UnsetIsNulloptAndAWholeNumberInRangeIsTaken) {
  unsetenv(kName);
  EXPECT_FALSE(env_mib(kName, 64, "off").has_value());
  setenv(kName, "32", 1);
  EXPECT_EQ(env_mib(kName, 64, "off"), 32);
  setenv(kName, "64", 1);
  EXPECT_EQ(env_mib(kName, 64, "off"), 64);
  unsetenv(kName);
}

TEST(EnvMib, OtherValuesAreErrorsNamingThem) {
  for (const char* bad : {"0", "65", "-1", "3.5", "32MiB", ""}) {
    setenv(kName, bad, 1);
    try {
      env_mib(kName, 64, "the default, 8");
      FAIL() << "no error for '" << bad << "'";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(std::string(kName) + "='" + bad + "'"), std::string::npos) << what;
      EXPECT_NE(what.find("from 1 to 64"), std::string::npos) << what;
      EXPECT_NE(what.find("the default, 8"), std::string::npos) << what;
    }
  }
  unsetenv(kName);
}

}  // namespace
}  // namespace eaq::kernels::cuda
