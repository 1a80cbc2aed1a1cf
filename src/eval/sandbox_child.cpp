// The sandbox child between clone() and execve(): stdio, mounts, rlimits, uid, seccomp.
// Only async-signal-safe calls here (see sandbox_child.h).
#include "eval/sandbox_child.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace eaq::eval {
namespace {

namespace st = sandbox_status;

// The status descriptor's fixed number once stdio is in place.
constexpr int kStatusFd = 3;

void write_record(int fd, char kind, char code, int error_number = 0) {
  char buffer[32];
  int n = 0;
  buffer[n++] = kind;
  buffer[n++] = code;
  if (kind != st::kActive) {
    buffer[n++] = ':';
    char digits[12];
    int d = 0;
    unsigned value = static_cast<unsigned>(error_number < 0 ? -error_number : error_number);
    do {
      digits[d++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0 && d < 11);
    while (d > 0) buffer[n++] = digits[--d];
  }
  buffer[n++] = '\n';
  ssize_t ignored = write(fd, buffer, static_cast<size_t>(n));
  (void)ignored;
}

[[noreturn]] void give_up(int fd, char code, int error_number) {
  write_record(fd, st::kFatal, code, error_number);
  _exit(127);
}

bool set_stdio(const SandboxChildPlan& plan) {
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) return false;
  // Move the status pipe out of the way of 0..2 first, then place it at 3 (close-on-exec).
  int status = fcntl(plan.status_fd, F_DUPFD_CLOEXEC, 10);
  if (status < 0) return false;
  if (dup2(devnull, 0) < 0 || dup2(plan.stdout_fd, 1) < 0 || dup2(plan.stderr_fd, 2) < 0) return false;
  if (dup3(status, kStatusFd, O_CLOEXEC) < 0) return false;
  // Every other inherited descriptor goes (the parent's files, other runs' pipes).
  if (syscall(SYS_close_range, kStatusFd + 1, ~0U, 0) != 0) {
    for (int fd = kStatusFd + 1; fd < 4096; ++fd) close(fd);
  }
  return true;
}

void set_up_mounts(const SandboxChildPlan& plan) {
  // Nothing we do here may propagate back to the host's mount namespace.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    write_record(kStatusFd, st::kDegraded, st::kMountPrivate, errno);
    return;
  }
  // Everything read-only and nosuid, recursively (mount_setattr, Linux 5.12+). Not nodev: the
  // code may open /dev/null or /dev/urandom; device nodes of the host are guarded by the uid.
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID;
  if (syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &attr, sizeof attr) == 0) {
    write_record(kStatusFd, st::kActive, st::kReadOnlyRoot);
    // A fresh bind mount of the work dir on itself is writable again (flags are per mount).
    if (mount(plan.workdir, plan.workdir, nullptr, MS_BIND, nullptr) == 0 &&
        mount(nullptr, plan.workdir, nullptr, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, nullptr) == 0) {
      write_record(kStatusFd, st::kActive, st::kWritableWorkdir);
    } else {
      write_record(kStatusFd, st::kDegraded, st::kWritableWorkdir, errno);
    }
  } else {
    write_record(kStatusFd, st::kDegraded, st::kReadOnlyRoot, errno);
  }
  if (plan.in_pid_namespace) {
    // The host's /proc would list (and let the code signal-probe) host processes.
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, nullptr) == 0) {
      write_record(kStatusFd, st::kActive, st::kPrivateProc);
    } else {
      write_record(kStatusFd, st::kDegraded, st::kPrivateProc, errno);
    }
  }
}

void set_limits(const SandboxChildPlan& plan) {
  const rlimit no_core{0, 0};
  if (setrlimit(RLIMIT_CPU, &plan.cpu) != 0 || setrlimit(RLIMIT_AS, &plan.address_space) != 0 ||
      setrlimit(RLIMIT_FSIZE, &plan.file_size) != 0 || setrlimit(RLIMIT_NPROC, &plan.processes) != 0 ||
      setrlimit(RLIMIT_NOFILE, &plan.open_files) != 0 || setrlimit(RLIMIT_CORE, &no_core) != 0) {
    give_up(kStatusFd, st::kRlimits, errno);
  }
  write_record(kStatusFd, st::kActive, st::kRlimits);
}

}  // namespace

void run_sandbox_child(const SandboxChildPlan& plan) {
  // Die with eaq; leave the parent's session and controlling terminal (no TIOCSTI into it).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  setsid();
  // Signal dispositions other than ignore/default are reset by exec; reset the mask here.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  if (!set_stdio(plan)) give_up(plan.status_fd, st::kStdio, errno);
  if (plan.in_mount_namespace) set_up_mounts(plan);
  if (chdir(plan.workdir) != 0) give_up(kStatusFd, st::kChdir, errno);
  set_limits(plan);

  if (plan.drop_privileges) {
    // setgroups first (it needs the privilege the later calls drop). A failure is fatal: as root
    // RLIMIT_NPROC would not apply and the file permissions would not protect the host.
    // Raw syscalls: glibc's wrappers broadcast the change to every thread of the process and wait
    // for them, and the threads of eaq that this clone() copied the bookkeeping of do not exist
    // here (the child would hang).
    if (syscall(SYS_setgroups, 0, nullptr) != 0 || syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0 ||
        syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) {
      give_up(kStatusFd, st::kUnprivilegedUser, errno);
    }
    write_record(kStatusFd, st::kActive, st::kUnprivilegedUser);
  }

  if (plan.seccomp != nullptr) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, plan.seccomp, 0, 0) == 0) {
      write_record(kStatusFd, st::kActive, st::kSeccomp);
    } else {
      write_record(kStatusFd, st::kDegraded, st::kSeccomp, errno);
    }
  }

  execve(plan.python, plan.argv, plan.envp);
  give_up(kStatusFd, st::kExec, errno);
}

}  // namespace eaq::eval
