// PythonSandbox: runs untrusted generated Python (MBPP solutions + their asserts) in a separate,
// confined process and reports per run what it did and which protections were active.
//
// Layers (each degrades on its own, with the reason recorded in SandboxProtections::degraded):
//   - new PID, network, mount, IPC and UTS namespaces (clone flags); killing the namespace's init
//     kills every process the code started, even ones that left the process group;
//   - in the mount namespace: the whole tree read-only (recursive mount_setattr), the private temp
//     dir bound read-write on itself as cwd, a fresh /proc for the PID namespace;
//   - an unprivileged uid/gid (nobody) when eaq runs as root, so RLIMIT_NPROC applies (root
//     ignores it) and file permissions apply;
//   - rlimits: CPU seconds, address space, file size, processes, open files, no core dumps;
//   - seccomp (libseccomp, built in the parent, installed with no_new_privs): socket() denied
//     (socketpair allowed), namespace/mount/ptrace/bpf/io_uring/module/keyring calls denied,
//     clone3 answered ENOSYS so that clone's flags can be checked;
//   - stdin /dev/null, a minimal environment, new session (no controlling terminal), stdout and
//     stderr captured up to a cap (the tail is kept), a wall-clock timeout that SIGKILLs the
//     namespace's init and the process group.
// See docs/sandbox.md for the threat model and the tests that show each containment.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace eaq::eval {

struct SandboxLimits {
  double cpu_time_s = 10.0;   // RLIMIT_CPU (soft; hard = soft + 1 s), per process
  double wall_time_s = 20.0;  // the whole run, then SIGKILL
  std::uint64_t address_space_bytes = std::uint64_t{1} << 30;  // RLIMIT_AS per process
  std::uint64_t file_size_bytes = std::uint64_t{16} << 20;     // RLIMIT_FSIZE
  std::uint64_t max_processes = 32;   // RLIMIT_NPROC for the sandbox uid (counts threads)
  std::uint64_t max_open_files = 64;  // RLIMIT_NOFILE
  std::size_t output_cap_bytes = 16 * 1024;  // kept per stream (the tail)
};

struct SandboxOptions {
  SandboxLimits limits;
  // The interpreter. Empty: the first of /usr/bin/python3, /usr/local/bin/python3, /bin/python3
  // (a real binary that an unprivileged uid can run, not a pyenv-style shell shim).
  std::string python;
  // Where the private temp dirs are made (each run gets its own, removed afterwards). Empty: /tmp.
  std::filesystem::path temp_root;
  // The uid/gid the code runs as when eaq runs as root (65534 = nobody on Debian).
  uid_t sandbox_uid = 65534;
  gid_t sandbox_gid = 65534;
  // Turn layers off (for tests that show what each one contains, and for odd hosts).
  bool use_namespaces = true;
  bool use_seccomp = true;
  bool drop_privileges = true;
};

// Which protections were in force for one run.
struct SandboxProtections {
  bool pid_namespace = false;
  bool network_namespace = false;
  bool mount_namespace = false;
  bool ipc_namespace = false;
  bool uts_namespace = false;
  bool read_only_root = false;     // everything but the temp dir read-only
  bool private_proc = false;       // /proc of the PID namespace
  bool unprivileged_user = false;  // ran as sandbox_uid
  bool seccomp = false;
  bool rlimits = false;
  std::vector<std::string> degraded;  // one line per layer that could not be set up, with why

  nlohmann::json to_json() const;
};

struct SandboxResult {
  bool exited = false;  // exited normally (exit_code valid)
  int exit_code = -1;
  int signal = 0;  // the terminating signal when !exited
  bool timed_out = false;
  bool cpu_limit_hit = false;        // SIGXCPU, or killed at the hard CPU limit
  bool memory_limit_hit = false;     // MemoryError on stderr, or a signal with RSS near the limit
  bool file_size_limit_hit = false;  // "File too large" on stderr, or SIGXFSZ
  std::string stdout_tail;  // the last output_cap_bytes of each stream
  std::string stderr_tail;
  std::uint64_t stdout_bytes = 0;  // totals, including what was cut
  std::uint64_t stderr_bytes = 0;
  double wall_time_s = 0;
  double cpu_time_s = 0;  // user + system of the reaped process tree
  std::uint64_t max_rss_bytes = 0;
  SandboxProtections protections;

  // The code ran to completion with status 0 (asserts passed) within every limit.
  bool passed() const { return exited && exit_code == 0 && !timed_out; }
  // One word for reports: passed, failed (non-zero exit), timeout, cpu-limit, memory-limit,
  // file-size-limit, signal.
  std::string verdict() const;
  nlohmann::json to_json() const;
};

class PythonSandbox {
 public:
  // Resolves the interpreter and builds the seccomp program; throws eaq::Error when the
  // interpreter is missing or the options are invalid.
  explicit PythonSandbox(SandboxOptions options = {});

  // Runs `program` (Python source) as main.py in a fresh private temp dir. Thread-safe: runs may
  // overlap (they share the sandbox uid's process budget).
  SandboxResult run(const std::string& program) const;

  const SandboxOptions& options() const { return options_; }
  const std::string& python() const { return options_.python; }

 private:
  SandboxOptions options_;
  std::vector<sock_filter> seccomp_program_;  // installed by the child before exec
  std::string seccomp_error_;                   // why there is no program, when there is none
};

}  // namespace eaq::eval
