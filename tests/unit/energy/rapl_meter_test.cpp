// RaplMeter on fake powercap trees: zones, wraparound, permission denied, missing zones; and the
// MeterSet fallback when neither NVML nor RAPL exists.
#include "energy/rapl_meter.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "energy/energy_window.h"
#include "energy/meter_set.h"

namespace eaq::energy {
namespace {

namespace fs = std::filesystem;

class FakePowercap {
 public:
  FakePowercap() {
    char pattern[] = "/tmp/eaq_powercap_XXXXXX";
    root_ = mkdtemp(pattern);
    chmod(root_.c_str(), 0755);
  }
  ~FakePowercap() { fs::remove_all(root_); }

  // A zone directory with the files the kernel provides.
  void zone(const std::string& entry, const std::string& name, unsigned long long energy_uj,
            unsigned long long max_uj = 262143328850ULL, bool with_energy = true) {
    const fs::path dir = fs::path(root_) / entry;
    fs::create_directories(dir);
    chmod(dir.c_str(), 0755);
    write(dir / "name", name);
    if (max_uj > 0) write(dir / "max_energy_range_uj", std::to_string(max_uj));
    if (with_energy) set_energy(entry, energy_uj);
  }
  void set_energy(const std::string& entry, unsigned long long energy_uj) {
    write(fs::path(root_) / entry / "energy_uj", std::to_string(energy_uj));
  }
  const std::string& root() const { return root_; }

 private:
  static void write(const fs::path& path, const std::string& text) {
    std::ofstream(path) << text << "\n";
    chmod(path.c_str(), 0644);
  }
  std::string root_;
};

std::vector<double> energies_now(RaplMeter& meter) {
  std::vector<double> out;
  const PendingEnergies pending = meter.energy_at(now_s());  // get() refers into it
  for (const auto& e : pending.get()) out.push_back(e.energy_j);
  return out;
}

TEST(RaplMeter, ZonesBecomeDomains) {
  FakePowercap tree;
  tree.zone("intel-rapl:0", "package-0", 1000000);
  tree.zone("intel-rapl:0:0", "core", 500000);
  tree.zone("intel-rapl:0:1", "dram", 200000);
  tree.zone("intel-rapl:1", "package-1", 0);
  tree.zone("intel-rapl-mmio:0", "package-0", 999);  // the same package again: must be ignored
  RaplMeter meter({tree.root(), 10.0});
  ASSERT_EQ(meter.domains().size(), 4u);
  EXPECT_EQ(meter.domains()[0].domain, "cpu-package:0");
  EXPECT_TRUE(meter.domains()[0].in_total);
  EXPECT_EQ(meter.domains()[1].domain, "cpu-core:0");
  EXPECT_FALSE(meter.domains()[1].in_total);  // inside the package
  EXPECT_EQ(meter.domains()[2].domain, "dram:0");
  EXPECT_TRUE(meter.domains()[2].in_total);
  EXPECT_EQ(meter.domains()[3].domain, "cpu-package:1");
  EXPECT_EQ(meter.domains()[0].source, Source::counter);

  const auto before = energies_now(meter);
  tree.set_energy("intel-rapl:0", 3500000);  // +2.5 J
  tree.set_energy("intel-rapl:0:0", 1500000);  // +1 J
  tree.set_energy("intel-rapl:0:1", 450000);  // +0.25 J
  const auto after = energies_now(meter);
  EXPECT_NEAR(after[0] - before[0], 2.5, 1e-9);
  EXPECT_NEAR(after[1] - before[1], 1.0, 1e-9);
  EXPECT_NEAR(after[2] - before[2], 0.25, 1e-9);
  EXPECT_NEAR(after[3] - before[3], 0.0, 1e-9);
}

TEST(RaplMeter, WindowTotalsSkipNestedZones) {
  FakePowercap tree;
  tree.zone("intel-rapl:0", "package-0", 0);
  tree.zone("intel-rapl:0:0", "core", 0);
  MeterSet set;
  set.add(std::make_unique<RaplMeter>(RaplOptions{tree.root(), 10.0}), "fake tree");
  EnergyWindow window(set, "w");
  tree.set_energy("intel-rapl:0", 4000000);
  tree.set_energy("intel-rapl:0:0", 3000000);
  const WindowResult result = window.end();
  EXPECT_NEAR(result.find("cpu-package:0")->energy_j, 4.0, 1e-9);
  EXPECT_NEAR(result.find("cpu-core:0")->energy_j, 3.0, 1e-9);
  EXPECT_NEAR(result.total_energy_j(), 4.0, 1e-9);  // core is inside the package
}

TEST(RaplMeter, Wraparound) {
  FakePowercap tree;
  tree.zone("intel-rapl:0", "package-0", 900000, /*max_uj=*/1000000);
  RaplMeter meter({tree.root(), 10.0});
  const auto before = energies_now(meter);
  tree.set_energy("intel-rapl:0", 100000);  // ran past 1 J and restarted: +0.2 J
  const auto after = energies_now(meter);
  EXPECT_NEAR(after[0] - before[0], 0.2, 1e-9);
  tree.set_energy("intel-rapl:0", 600000);  // +0.5 J more
  EXPECT_NEAR(energies_now(meter)[0] - before[0], 0.7, 1e-9);
}

TEST(RaplMeter, MissingTreeOrZones) {
  try {
    RaplMeter meter({"/nonexistent/powercap", 1.0});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no RAPL"), std::string::npos) << e.what();
  }
  FakePowercap empty;
  EXPECT_THROW(RaplMeter({empty.root(), 1.0}), Error);

  FakePowercap partial;
  partial.zone("intel-rapl:0", "package-0", 0);
  partial.zone("intel-rapl:0:0", "core", 0, 1000, /*with_energy=*/false);  // no energy_uj
  RaplMeter meter({partial.root(), 10.0});
  EXPECT_EQ(meter.domains().size(), 1u);
  ASSERT_EQ(meter.notes().size(), 1u);
  EXPECT_NE(meter.notes()[0].find("no energy_uj"), std::string::npos);
}

// Linux makes energy_uj root-only since 5.10; the error must say how to grant access.
TEST(RaplMeter, PermissionDeniedSaysHowToGrantAccess) {
  FakePowercap tree;
  tree.zone("intel-rapl:0", "package-0", 12345);
  const std::string file = tree.root() + "/intel-rapl:0/energy_uj";
  chmod(file.c_str(), 0400);
  auto message_of_failure = [&]() -> std::string {
    try {
      RaplMeter meter({tree.root(), 10.0});
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  if (geteuid() != 0) {
    const std::string message = message_of_failure();
    EXPECT_NE(message.find("permission denied"), std::string::npos) << message;
    EXPECT_NE(message.find("chmod"), std::string::npos) << message;
    return;
  }
  // Root reads anything: check as an unprivileged user in a child process.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    const std::string message = message_of_failure();
    const bool ok = message.find("permission denied") != std::string::npos &&
                    message.find("chmod") != std::string::npos;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 3) GTEST_SKIP() << "cannot drop privileges here";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the permission message lacks the advice";
}

TEST(MeterSet, FallsBackToTheCpuEstimateAndSaysWhy) {
  MeterOptions options;
  options.nvml.library_path = "/nonexistent/libnvidia-ml.so.1";
  options.rapl.powercap_root = "/nonexistent/powercap";
  MeterSet set = MeterSet::detect(options);
  ASSERT_EQ(set.meters().size(), 1u);
  EXPECT_EQ(set.meters()[0]->name(), "cpu-estimate");
  ASSERT_EQ(set.decisions().size(), 3u);
  EXPECT_EQ(set.decisions()[0].meter, "nvml");
  EXPECT_FALSE(set.decisions()[0].used);
  EXPECT_NE(set.decisions()[0].reason.find("cannot load"), std::string::npos);
  EXPECT_EQ(set.decisions()[1].meter, "rapl");
  EXPECT_FALSE(set.decisions()[1].used);
  EXPECT_EQ(set.decisions()[2].meter, "cpu-estimate");
  EXPECT_TRUE(set.decisions()[2].used);
  EXPECT_NE(set.decisions()[2].reason.find("RAPL unavailable"), std::string::npos);
  for (const auto& domain : set.meters()[0]->domains()) EXPECT_EQ(domain.source, Source::estimated);
}

}  // namespace
}  // namespace eaq::energy
