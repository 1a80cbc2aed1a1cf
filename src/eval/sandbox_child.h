// The child half of PythonSandbox: what runs between clone() and execve() in the new namespaces.
// Everything it needs is prepared by the parent beforehand, because a child cloned from a
// threaded process may only make async-signal-safe calls (no allocation, no locks, no stdio).
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

namespace eaq::eval {

// Records the child writes on the status pipe, each "<kind><code>[:<errno>]\n". The pipe is
// close-on-exec, so a successful execve ends it; the parent parses what came before.
namespace sandbox_status {
inline constexpr char kActive = 'A';    // a protection is in force
inline constexpr char kDegraded = 'D';  // a protection could not be set up (errno follows)
inline constexpr char kFatal = 'F';     // the child gave up before exec (errno follows)

inline constexpr char kReadOnlyRoot = 'r';
inline constexpr char kWritableWorkdir = 'w';
inline constexpr char kPrivateProc = 'p';
inline constexpr char kUnprivilegedUser = 'u';
inline constexpr char kSeccomp = 's';
inline constexpr char kRlimits = 'l';
inline constexpr char kMountPrivate = 'm';
inline constexpr char kChdir = 'c';
inline constexpr char kExec = 'x';
inline constexpr char kStdio = 'i';
}  // namespace sandbox_status

struct SandboxChildPlan {
  const char* python = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* workdir = nullptr;
  int stdout_fd = -1;
  int stderr_fd = -1;
  int status_fd = -1;
  bool in_mount_namespace = false;
  bool in_pid_namespace = false;
  bool drop_privileges = false;
  uid_t uid = 65534;
  gid_t gid = 65534;
  const sock_fprog* seccomp = nullptr;  // null: no filter
  struct rlimit cpu{}, address_space{}, file_size{}, processes{}, open_files{};
};

// Sets up the confinement and execs the interpreter; never returns (exits 127 on failure, after
// writing an F record).
[[noreturn]] void run_sandbox_child(const SandboxChildPlan& plan);

}  // namespace eaq::eval
