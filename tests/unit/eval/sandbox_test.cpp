// PythonSandbox: hostile generated code is contained, killed or denied, scored as a failure, and
// the host is untouched (files, network, processes); normal code passes; the report says which
// protections were in force.
#include "eval/sandbox.h"

#include "core/error.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace eaq::eval {
namespace {

constexpr uid_t kSandboxUid = 65534;

SandboxOptions test_options() {
  SandboxOptions options;
  options.limits.cpu_time_s = 3;
  options.limits.wall_time_s = 6;
  options.limits.max_processes = 24;
  return options;
}

// Processes (tasks counted as processes) whose real uid is the sandbox's, from /proc.
int count_sandbox_processes() {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream status(entry.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Uid:", 0) == 0) {
        if (std::stoul(line.substr(4)) == kSandboxUid) ++count;
        break;
      }
    }
  }
  return count;
}

bool fully_confined(const SandboxResult& result) {
  const SandboxProtections& p = result.protections;
  return p.pid_namespace && p.network_namespace && p.mount_namespace && p.read_only_root &&
         p.unprivileged_user && p.seccomp && p.rlimits;
}

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the full sandbox needs root (namespaces, uid drop); CI runs as root";
  }
  PythonSandbox sandbox_{test_options()};
};

TEST_F(SandboxTest, CorrectCodePassesWithEveryProtection) {
  SandboxResult result = sandbox_.run(
      "def add(a, b):\n    return a + b\nassert add(2, 3) == 5\nprint('ok')\n");
  EXPECT_TRUE(result.passed()) << result.stderr_tail;
  EXPECT_EQ(result.verdict(), "passed");
  EXPECT_EQ(result.stdout_tail, "ok\n");
  EXPECT_TRUE(fully_confined(result)) << result.protections.to_json().dump();
  EXPECT_TRUE(result.protections.private_proc);
  EXPECT_TRUE(result.protections.degraded.empty()) << result.protections.to_json().dump();
  EXPECT_LT(result.wall_time_s, 5.0);
}

TEST_F(SandboxTest, FailingAssertIsAFailure) {
  SandboxResult result = sandbox_.run("assert 1 + 1 == 3, 'arithmetic'\n");
  EXPECT_FALSE(result.passed());
  EXPECT_TRUE(result.exited);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.verdict(), "failed");
  EXPECT_NE(result.stderr_tail.find("AssertionError: arithmetic"), std::string::npos) << result.stderr_tail;
}

TEST_F(SandboxTest, WritesOutsideTheWorkDirAreDeniedAndTheHostIsUntouched) {
  const std::filesystem::path marker = "/tmp/eaq_escape_marker_" + std::to_string(getpid());
  const std::filesystem::path home_marker = "/root/eaq_escape_marker_" + std::to_string(getpid());
  std::filesystem::remove(marker);
  const std::string program =
      "import os\n"
      "for path in ['" + marker.string() + "', '" + home_marker.string() + "', '/etc/eaq_escape']:\n"
      "    try:\n"
      "        open(path, 'w').write('escaped')\n"
      "        print('WROTE', path)\n"
      "    except OSError as e:\n"
      "        print('denied', path, e.errno)\n"
      "open('inside.txt', 'w').write('fine')\n"  // its own dir stays writable
      "assert open('inside.txt').read() == 'fine'\n"
      "open('" + marker.string() + "', 'w')\n";  // and finally fail on the escape
  SandboxResult result = sandbox_.run(program);
  EXPECT_FALSE(result.passed());
  EXPECT_EQ(result.stdout_tail.find("WROTE"), std::string::npos) << result.stdout_tail;
  EXPECT_NE(result.stderr_tail.find("Read-only file system"), std::string::npos) << result.stderr_tail;
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_FALSE(std::filesystem::exists(home_marker));
  EXPECT_FALSE(std::filesystem::exists("/etc/eaq_escape"));
}

TEST_F(SandboxTest, SecretsAreNotReadableAndTheEnvironmentIsMinimal) {
  setenv("EAQ_SANDBOX_TEST_SECRET", "hunter2", 1);
  SandboxResult result = sandbox_.run(
      "import os\n"
      "print(sorted(os.environ))\n"
      "print(os.getuid(), os.getpid())\n"
      "open('/etc/shadow').read()\n");
  unsetenv("EAQ_SANDBOX_TEST_SECRET");
  EXPECT_FALSE(result.passed());
  EXPECT_NE(result.stderr_tail.find("PermissionError"), std::string::npos) << result.stderr_tail;
  EXPECT_EQ(result.stdout_tail.find("EAQ_SANDBOX_TEST_SECRET"), std::string::npos);
  EXPECT_NE(result.stdout_tail.find("65534 1\n"), std::string::npos)  // nobody, init of its namespace
      << result.stdout_tail;
}

TEST_F(SandboxTest, TheWorkDirIsPrivateAndRemovedAfterwards) {
  SandboxResult result = sandbox_.run("import os\nprint(os.getcwd())\nopen('left.txt', 'w').write('x')\n");
  ASSERT_TRUE(result.passed()) << result.stderr_tail;
  std::string cwd = result.stdout_tail.substr(0, result.stdout_tail.find('\n'));
  EXPECT_NE(cwd.find("/tmp/eaq-sandbox-"), std::string::npos) << cwd;
  EXPECT_FALSE(std::filesystem::exists(cwd));
}

// A listener on the host's loopback; the sandboxed code tries to reach it.
class LoopbackListener {
 public:
  LoopbackListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(listen(fd_, 8), 0);
    socklen_t length = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~LoopbackListener() { close(fd_); }
  int port() const { return port_; }
  bool connection_arrived() const {
    int client = accept(fd_, nullptr, nullptr);
    if (client >= 0) close(client);
    return client >= 0;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string connect_program(int port) {
  return "import socket\n"
         "s = socket.create_connection(('127.0.0.1', " + std::to_string(port) + "), timeout=2)\n"
         "s.sendall(b'escaped')\n";
}

TEST_F(SandboxTest, SocketsAreDeniedAndNoConnectionArrives) {
  LoopbackListener listener;
  // The same code from the host reaches the listener (the test's own control).
  {
    int client = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(listener.port()));
    ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    close(client);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(listener.connection_arrived());
  }
  SandboxResult result = sandbox_.run(connect_program(listener.port()));
  EXPECT_FALSE(result.passed());
  EXPECT_NE(result.stderr_tail.find("PermissionError"), std::string::npos) << result.stderr_tail;
  EXPECT_FALSE(listener.connection_arrived());
}

TEST_F(SandboxTest, TheNetworkNamespaceAloneStopsTheConnection) {
  LoopbackListener listener;
  SandboxOptions options = test_options();
  options.use_seccomp = false;  // show the second layer on its own
  SandboxResult result = PythonSandbox(options).run(connect_program(listener.port()));
  EXPECT_FALSE(result.passed());
  EXPECT_FALSE(result.protections.seccomp);
  EXPECT_TRUE(result.protections.network_namespace);
  // Loopback is down in a fresh network namespace.
  EXPECT_NE(result.stderr_tail.find("OSError"), std::string::npos) << result.stderr_tail;
  EXPECT_FALSE(listener.connection_arrived());
}

TEST_F(SandboxTest, AForkBombIsBoundedAndKilledAndTheHostStaysResponsive) {
  ASSERT_EQ(count_sandbox_processes(), 0) << "processes of uid 65534 exist before the test";
  std::atomic<bool> running{true};
  std::atomic<int> peak_processes{0};
  std::atomic<double> slowest_host_spawn_s{0};
  std::thread observer([&] {
    while (running) {
      peak_processes = std::max(peak_processes.load(), count_sandbox_processes());
      // The host can still start a process while the bomb runs.
      auto start = std::chrono::steady_clock::now();
      pid_t pid = 0;
      char arg0[] = "true";
      char* argv[] = {arg0, nullptr};
      if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, nullptr) == 0) waitpid(pid, nullptr, 0);
      double spawn_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      slowest_host_spawn_s = std::max(slowest_host_spawn_s.load(), spawn_s);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  SandboxResult result = sandbox_.run(
      "import os, time\n"
      "while True:\n"
      "    try:\n"
      "        os.fork()\n"
      "    except OSError:\n"
      "        time.sleep(0.01)\n");
  running = false;
  observer.join();
  EXPECT_FALSE(result.passed());
  EXPECT_TRUE(result.timed_out) << result.to_json().dump();
  EXPECT_EQ(result.verdict(), "timeout");
  EXPECT_LE(result.wall_time_s, test_options().limits.wall_time_s + 2.0);
  EXPECT_GT(peak_processes.load(), 1) << result.to_json().dump();
  EXPECT_LE(peak_processes.load(), static_cast<int>(test_options().limits.max_processes));
  EXPECT_LT(slowest_host_spawn_s.load(), 1.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(count_sandbox_processes(), 0) << "a bomb process survived";
}

TEST_F(SandboxTest, ProcessesThatLeaveTheGroupDieWithTheRun) {
  // A child that makes its own session (escaping killpg) and sleeps; the parent exits 0.
  SandboxResult result = sandbox_.run(
      "import os, time\n"
      "if os.fork() == 0:\n"
      "    os.setsid()\n"
      "    time.sleep(300)\n");
  EXPECT_TRUE(result.passed()) << result.stderr_tail;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(count_sandbox_processes(), 0) << "the setsid child survived";
}

TEST_F(SandboxTest, AllocatingTenGigabytesIsDenied) {
  SandboxResult result = sandbox_.run("data = bytearray(10 * 1024 ** 3)\n");
  EXPECT_FALSE(result.passed());
  EXPECT_TRUE(result.memory_limit_hit) << result.stderr_tail;
  EXPECT_EQ(result.verdict(), "memory-limit");
  // Growing step by step stops near the 1 GiB address-space limit too.
  result = sandbox_.run("chunks = []\nwhile True:\n    chunks.append(bytearray(64 * 1024 * 1024))\n");
  EXPECT_FALSE(result.passed());
  EXPECT_TRUE(result.memory_limit_hit) << result.stderr_tail;
  EXPECT_LT(result.max_rss_bytes, std::uint64_t{1100} << 20);
}

TEST_F(SandboxTest, AnEndlessLoopHitsTheCpuLimit) {
  // A long wall limit: on a loaded host the loop gets only a share of a core.
  SandboxOptions options = test_options();
  options.limits.cpu_time_s = 1;
  options.limits.wall_time_s = 60;
  SandboxResult result = PythonSandbox(options).run("while True:\n    pass\n");
  EXPECT_FALSE(result.passed());
  EXPECT_TRUE(result.cpu_limit_hit) << result.to_json().dump();
  EXPECT_EQ(result.verdict(), "cpu-limit");
  EXPECT_GE(result.cpu_time_s, 0.95);
  EXPECT_LT(result.cpu_time_s, 2.5);
}

TEST_F(SandboxTest, SleepingForeverHitsTheWallClockTimeout) {
  SandboxResult result = sandbox_.run("import time\ntime.sleep(1000)\n");
  EXPECT_FALSE(result.passed());
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.signal, SIGKILL);
  EXPECT_GE(result.wall_time_s, 5.9);
  EXPECT_LE(result.wall_time_s, 7.5);
}

TEST_F(SandboxTest, OutputIsCappedToItsTailAndBigFilesAreStopped) {
  SandboxOptions options = test_options();
  options.limits.output_cap_bytes = 1000;
  options.limits.file_size_bytes = 1 << 20;
  PythonSandbox sandbox(options);
  SandboxResult result = sandbox.run("for i in range(100000):\n    print(i)\n");
  EXPECT_TRUE(result.passed());
  EXPECT_EQ(result.stdout_bytes, 588890u);  // the digits of 0..99999 plus newlines
  EXPECT_EQ(result.stdout_tail.size(), 1000u);
  EXPECT_EQ(result.stdout_tail.substr(result.stdout_tail.size() - 6), "99999\n");
  result = sandbox.run("open('big.bin', 'wb').write(b'x' * (4 << 20))\n");
  EXPECT_FALSE(result.passed());
  EXPECT_TRUE(result.file_size_limit_hit) << result.stderr_tail;
}

TEST_F(SandboxTest, HostProcessesAreInvisible) {
  SandboxResult result = sandbox_.run("import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n");
  EXPECT_TRUE(result.passed()) << result.stderr_tail;
  EXPECT_EQ(result.stdout_tail, "[1]\n");
}

TEST(SandboxOptionsTest, BadLimitsAndMissingInterpreterAreErrors) {
  SandboxOptions options;
  options.limits.wall_time_s = 0;
  EXPECT_THROW(PythonSandbox{options}, Error);
  options = SandboxOptions{};
  options.python = "/nonexistent/python3";
  EXPECT_THROW(PythonSandbox{options}, Error);
}

TEST(SandboxDegradedTest, WithoutNamespacesTheReportSaysSo) {
  SandboxOptions options = test_options();
  options.use_namespaces = false;
  SandboxResult result = PythonSandbox(options).run("print('hi')\n");
  EXPECT_TRUE(result.passed()) << result.stderr_tail;
  EXPECT_FALSE(result.protections.pid_namespace);
  EXPECT_FALSE(result.protections.mount_namespace);
  EXPECT_FALSE(result.protections.read_only_root);
  EXPECT_TRUE(result.protections.rlimits);
}

}  // namespace
}  // namespace eaq::eval
