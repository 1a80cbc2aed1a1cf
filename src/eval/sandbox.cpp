// PythonSandbox, the parent half: temp dir, pipes, clone into namespaces (with fallbacks),
// output capture, the wall-clock timeout, reaping and the per-run report.
#include "eval/sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "core/logging.h"
#include "eval/sandbox_child.h"
#include "eval/sandbox_seccomp.h"

namespace eaq::eval {
namespace {

namespace st = sandbox_status;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string resolve_python(const std::string& requested) {
  if (!requested.empty()) {
    if (access(requested.c_str(), X_OK) != 0) {
      fail("sandbox: python interpreter '{}' is not executable ({}); pass a real python3 binary",
           requested, std::strerror(errno));
    }
    return requested;
  }
  for (const char* candidate : {"/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"}) {
    if (access(candidate, X_OK) == 0) return candidate;
  }
  fail("sandbox: no python3 found at /usr/bin, /usr/local/bin or /bin; install python3 or pass "
       "the interpreter's path (a binary, not a pyenv shim)");
}

class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    reset(other.release());
    return *this;
  }
  ~FileDescriptor() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  FileDescriptor read, write;
};

Pipe make_pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) fail("sandbox: pipe2 failed: {}", std::strerror(errno));
  return Pipe{FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

// A private temp dir, removed (with whatever the code left in it) when the run ends.
class TempDir {
 public:
  explicit TempDir(const std::filesystem::path& root) {
    std::string pattern = (root / "eaq-sandbox-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      fail("sandbox: cannot create a temp dir under {}: {}", root.string(), std::strerror(errno));
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Keeps the last `cap` bytes of a stream and counts all of them.
struct StreamTail {
  std::size_t cap;
  std::string data;
  std::uint64_t total_bytes = 0;
  void append(const char* bytes, std::size_t n) {
    total_bytes += n;
    data.append(bytes, n);
    if (data.size() > 2 * cap) data.erase(0, data.size() - cap);
  }
  std::string tail() const { return data.size() > cap ? data.substr(data.size() - cap) : data; }
};

rlimit make_limit(std::uint64_t soft, std::uint64_t hard) {
  return rlimit{static_cast<rlim_t>(soft), static_cast<rlim_t>(hard)};
}

std::string protection_name(char code) {
  switch (code) {
    case st::kReadOnlyRoot: return "read-only root";
    case st::kWritableWorkdir: return "writable work dir";
    case st::kPrivateProc: return "private /proc";
    case st::kUnprivilegedUser: return "unprivileged uid";
    case st::kSeccomp: return "seccomp";
    case st::kRlimits: return "rlimits";
    case st::kMountPrivate: return "private mount propagation";
    case st::kChdir: return "chdir to the work dir";
    case st::kExec: return "exec of the interpreter";
    case st::kStdio: return "stdio set-up";
    default: return std::string("unknown step '") + code + "'";
  }
}

// Applies the child's status records; returns the fatal message when the child gave up.
std::string apply_status_records(const std::string& text, SandboxProtections& protections) {
  std::string fatal;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) break;
    std::string record = text.substr(start, end - start);
    start = end + 1;
    if (record.size() < 2) continue;
    char kind = record[0];
    char code = record[1];
    int error_number = record.size() > 3 ? std::atoi(record.c_str() + 3) : 0;
    if (kind == st::kActive) {
      if (code == st::kReadOnlyRoot) protections.read_only_root = true;
      if (code == st::kPrivateProc) protections.private_proc = true;
      if (code == st::kUnprivilegedUser) protections.unprivileged_user = true;
      if (code == st::kSeccomp) protections.seccomp = true;
      if (code == st::kRlimits) protections.rlimits = true;
    } else if (kind == st::kDegraded) {
      protections.degraded.push_back(
          fmt::format("{}: {}", protection_name(code), std::strerror(error_number)));
    } else if (kind == st::kFatal) {
      fatal = fmt::format("{} failed: {}", protection_name(code), std::strerror(error_number));
    }
  }
  return fatal;
}

bool contains(const std::string& haystack, const char* needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

nlohmann::json SandboxProtections::to_json() const {
  return {{"pid_namespace", pid_namespace},         {"network_namespace", network_namespace},
          {"mount_namespace", mount_namespace},     {"ipc_namespace", ipc_namespace},
          {"uts_namespace", uts_namespace},         {"read_only_root", read_only_root},
          {"private_proc", private_proc},           {"unprivileged_user", unprivileged_user},
          {"seccomp", seccomp},                     {"rlimits", rlimits},
          {"degraded", degraded}};
}

std::string SandboxResult::verdict() const {
  if (passed()) return "passed";
  if (timed_out) return "timeout";
  if (cpu_limit_hit) return "cpu-limit";
  if (memory_limit_hit) return "memory-limit";
  if (file_size_limit_hit) return "file-size-limit";
  if (!exited) return "signal";
  return "failed";
}

nlohmann::json SandboxResult::to_json() const {
  return {{"verdict", verdict()},
          {"exited", exited},
          {"exit_code", exit_code},
          {"signal", signal},
          {"timed_out", timed_out},
          {"cpu_limit_hit", cpu_limit_hit},
          {"memory_limit_hit", memory_limit_hit},
          {"file_size_limit_hit", file_size_limit_hit},
          {"stdout_tail", stdout_tail},
          {"stderr_tail", stderr_tail},
          {"stdout_bytes", stdout_bytes},
          {"stderr_bytes", stderr_bytes},
          {"wall_time_s", wall_time_s},
          {"cpu_time_s", cpu_time_s},
          {"max_rss_bytes", max_rss_bytes},
          {"protections", protections.to_json()}};
}

PythonSandbox::PythonSandbox(SandboxOptions options) : options_(std::move(options)) {
  const SandboxLimits& limits = options_.limits;
  if (!(limits.cpu_time_s > 0) || !(limits.wall_time_s > 0) || limits.address_space_bytes == 0 ||
      limits.max_processes == 0 || limits.max_open_files < 8 || limits.output_cap_bytes == 0) {
    fail("sandbox: limits must be positive (cpu {} s, wall {} s, memory {} B, processes {}, open "
         "files {} >= 8, output cap {} B)",
         limits.cpu_time_s, limits.wall_time_s, limits.address_space_bytes, limits.max_processes,
         limits.max_open_files, limits.output_cap_bytes);
  }
  options_.python = resolve_python(options_.python);
  if (options_.temp_root.empty()) options_.temp_root = "/tmp";
  if (options_.use_seccomp) {
    try {
      seccomp_program_ = build_sandbox_seccomp_program();
    } catch (const Error& e) {
      seccomp_error_ = e.what();
    }
  }
}

SandboxResult PythonSandbox::run(const std::string& program) const {
  const SandboxLimits& limits = options_.limits;
  SandboxResult result;
  TempDir workdir(options_.temp_root);
  const std::filesystem::path script = workdir.path() / "main.py";
  {
    std::ofstream out(script, std::ios::binary);
    out << program;
    if (!out.flush()) fail("sandbox: cannot write {}", script.string());
  }
  const bool drop_privileges = options_.drop_privileges && geteuid() == 0;
  if (drop_privileges) {
    if (chown(workdir.path().c_str(), options_.sandbox_uid, options_.sandbox_gid) != 0 ||
        chown(script.c_str(), options_.sandbox_uid, options_.sandbox_gid) != 0) {
      fail("sandbox: chown of {} to {}:{} failed: {}", workdir.path().string(), options_.sandbox_uid,
           options_.sandbox_gid, std::strerror(errno));
    }
  } else if (options_.drop_privileges) {
    result.protections.degraded.push_back(
        "unprivileged uid: eaq does not run as root, the code runs as eaq's own user");
  }

  // Everything the child touches is made here, before clone (see sandbox_child.h).
  std::array<std::string, 5> arg_strings{options_.python, "-I", "-S", "-B", "main.py"};
  std::array<std::string, 5> env_strings{"PATH=/usr/bin:/bin", "HOME=" + workdir.path().string(),
                                         "TMPDIR=" + workdir.path().string(), "LANG=C.UTF-8",
                                         "PYTHONHASHSEED=0"};
  std::array<char*, 6> argv{};
  std::array<char*, 6> envp{};
  for (std::size_t i = 0; i < arg_strings.size(); ++i) argv[i] = arg_strings[i].data();
  for (std::size_t i = 0; i < env_strings.size(); ++i) envp[i] = env_strings[i].data();
  const std::string workdir_string = workdir.path().string();
  sock_fprog seccomp_fprog{static_cast<unsigned short>(seccomp_program_.size()),
                           const_cast<sock_filter*>(seccomp_program_.data())};
  if (options_.use_seccomp && seccomp_program_.empty()) {
    result.protections.degraded.push_back("seccomp: " + seccomp_error_);
  }

  Pipe out = make_pipe(), err = make_pipe(), status = make_pipe();
  SandboxChildPlan plan;
  plan.python = argv[0];
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.workdir = workdir_string.c_str();
  plan.stdout_fd = out.write.get();
  plan.stderr_fd = err.write.get();
  plan.status_fd = status.write.get();
  plan.drop_privileges = drop_privileges;
  plan.uid = options_.sandbox_uid;
  plan.gid = options_.sandbox_gid;
  plan.seccomp = seccomp_program_.empty() ? nullptr : &seccomp_fprog;
  const auto cpu_s = static_cast<std::uint64_t>(std::ceil(limits.cpu_time_s));
  plan.cpu = make_limit(cpu_s, cpu_s + 1);
  plan.address_space = make_limit(limits.address_space_bytes, limits.address_space_bytes);
  plan.file_size = make_limit(limits.file_size_bytes, limits.file_size_bytes);
  plan.processes = make_limit(limits.max_processes, limits.max_processes);
  plan.open_files = make_limit(limits.max_open_files, limits.max_open_files);

  // Namespaces: all of them, else the network alone, else none; each failure is reported.
  const std::array<unsigned long, 3> attempts{
      options_.use_namespaces
          ? static_cast<unsigned long>(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS)
          : 0UL,
      options_.use_namespaces ? static_cast<unsigned long>(CLONE_NEWNET) : 0UL, 0UL};
  const Clock::time_point start = Clock::now();
  pid_t pid = -1;
  unsigned long flags = 0;
  for (unsigned long attempt : attempts) {
    flags = attempt;
    plan.in_mount_namespace = (flags & CLONE_NEWNS) != 0;
    plan.in_pid_namespace = (flags & CLONE_NEWPID) != 0;
    pid = static_cast<pid_t>(syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0));
    if (pid == 0) run_sandbox_child(plan);
    if (pid > 0) break;
    if (flags == 0) fail("sandbox: fork failed: {}", std::strerror(errno));
    result.protections.degraded.push_back(
        fmt::format("namespaces {:#x}: clone failed: {}", flags, std::strerror(errno)));
  }
  result.protections.pid_namespace = (flags & CLONE_NEWPID) != 0;
  result.protections.network_namespace = (flags & CLONE_NEWNET) != 0;
  result.protections.mount_namespace = (flags & CLONE_NEWNS) != 0;
  result.protections.ipc_namespace = (flags & CLONE_NEWIPC) != 0;
  result.protections.uts_namespace = (flags & CLONE_NEWUTS) != 0;
  out.write.reset();
  err.write.reset();
  status.write.reset();

  // Wait for the child with a pidfd where the kernel has them, else by polling every 20 ms.
  FileDescriptor pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  StreamTail stdout_tail{limits.output_cap_bytes, {}}, stderr_tail{limits.output_cap_bytes, {}};
  std::string status_text;
  bool reaped = false;
  int wait_status = 0;
  rusage usage{};
  Clock::time_point drain_deadline{};
  const auto kill_everything = [&] {
    kill(pid, SIGKILL);   // the PID namespace's init: the kernel kills the rest of it
    killpg(pid, SIGKILL);  // the process group, for when there is no PID namespace
  };
  std::array<char, 65536> buffer;
  while (true) {
    const double elapsed_s = seconds_since(start);
    if (!reaped && !result.timed_out && elapsed_s >= limits.wall_time_s) {
      result.timed_out = true;
      kill_everything();
    }
    if (reaped && Clock::now() >= drain_deadline) break;  // a stray holder of the pipes
    std::array<pollfd, 4> fds{};
    nfds_t count = 0;
    FileDescriptor* streams[3] = {&out.read, &err.read, &status.read};
    for (FileDescriptor* stream : streams) {
      if (stream->get() >= 0) fds[count++] = pollfd{stream->get(), POLLIN, 0};
    }
    if (count == 0 && reaped) break;
    if (!reaped && pidfd.get() >= 0) fds[count++] = pollfd{pidfd.get(), POLLIN, 0};
    int timeout_ms = 20;
    if (pidfd.get() >= 0 && !reaped) {
      timeout_ms = static_cast<int>(std::clamp((limits.wall_time_s - elapsed_s) * 1000.0 + 1, 1.0, 1000.0));
    }
    if (result.timed_out && !reaped) timeout_ms = 20;
    int ready = poll(fds.data(), count, timeout_ms);
    if (ready < 0 && errno != EINTR) {
      kill_everything();
      fail("sandbox: poll failed: {}", std::strerror(errno));
    }
    for (nfds_t i = 0; i < count && ready > 0; ++i) {
      if (fds[i].revents == 0 || fds[i].fd == pidfd.get()) continue;
      ssize_t n = read(fds[i].fd, buffer.data(), buffer.size());
      if (n <= 0) {
        for (FileDescriptor* stream : streams) {
          if (stream->get() == fds[i].fd) stream->reset();
        }
        continue;
      }
      if (fds[i].fd == out.read.get()) stdout_tail.append(buffer.data(), static_cast<std::size_t>(n));
      if (fds[i].fd == err.read.get()) stderr_tail.append(buffer.data(), static_cast<std::size_t>(n));
      if (fds[i].fd == status.read.get()) status_text.append(buffer.data(), static_cast<std::size_t>(n));
    }
    if (!reaped) {
      pid_t waited = wait4(pid, &wait_status, WNOHANG, &usage);
      if (waited == pid) {
        reaped = true;
        result.wall_time_s = seconds_since(start);
        killpg(pid, SIGKILL);  // leftovers outside a PID namespace
        drain_deadline = Clock::now() + std::chrono::milliseconds(500);
      }
    }
  }

  const std::string fatal = apply_status_records(status_text, result.protections);
  result.stdout_tail = stdout_tail.tail();
  result.stderr_tail = stderr_tail.tail();
  result.stdout_bytes = stdout_tail.total_bytes;
  result.stderr_bytes = stderr_tail.total_bytes;
  if (!fatal.empty()) result.stderr_tail += "\n[eaq sandbox] " + fatal + "\n";
  result.cpu_time_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                      1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  result.max_rss_bytes = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
  if (WIFEXITED(wait_status)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    result.signal = WTERMSIG(wait_status);
  }
  result.cpu_limit_hit = result.signal == SIGXCPU ||
                         (result.signal == SIGKILL && !result.timed_out &&
                          result.cpu_time_s >= static_cast<double>(cpu_s) - 0.05);
  result.memory_limit_hit = contains(result.stderr_tail, "MemoryError") ||
                            contains(result.stderr_tail, "Cannot allocate memory");
  result.file_size_limit_hit = result.signal == SIGXFSZ || contains(result.stderr_tail, "File too large");
  if (!result.passed()) {
    spdlog::debug("sandbox: {} (exit {}, signal {}, {:.2f} s)", result.verdict(), result.exit_code,
              result.signal, result.wall_time_s);
  }
  return result;
}

}  // namespace eaq::eval
