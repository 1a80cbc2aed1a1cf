// The sandbox's seccomp program (see sandbox_seccomp.h for the policy).
#include "eval/sandbox_seccomp.h"

#include <seccomp.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "core/error.h"

namespace eaq::eval {
namespace {

// Calls that let code leave or reconfigure its confinement, or reach the kernel's rarer attack
// surface. Names unknown to this architecture's table are skipped.
constexpr const char* kDeniedSyscalls[] = {
    "unshare", "setns", "mount", "umount", "umount2", "pivot_root", "chroot", "open_tree",
    "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "ptrace",
    "process_vm_readv", "process_vm_writev", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key", "request_key",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "swapon", "swapoff", "acct", "quotactl", "settimeofday", "clock_settime", "clock_adjtime",
    "adjtimex", "sethostname", "setdomainname", "open_by_handle_at", "name_to_handle_at",
    "lookup_dcookie", "vhangup", "syslog", "iopl", "ioperm", "personality",
};

constexpr std::uint64_t kNamespaceCloneFlags[] = {
    CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS,
    CLONE_NEWCGROUP,
};

struct SeccompContextDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};

void check_rc(int rc, const char* what) {
  if (rc < 0) fail("sandbox: libseccomp {} failed: {}", what, std::strerror(-rc));
}

}  // namespace

std::vector<sock_filter> build_sandbox_seccomp_program() {
  std::unique_ptr<void, SeccompContextDeleter> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) fail("sandbox: seccomp_init failed (libseccomp)");
  // The kill-on-bad-architecture default stays: 32-bit syscalls from a 64-bit process are killed.
  check_rc(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 0), "socket rule");
  check_rc(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0), "clone3 rule");
  for (std::uint64_t flag : kNamespaceCloneFlags) {
    check_rc(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)),
             "clone rule");
  }
  for (const char* name : kDeniedSyscalls) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;
    check_rc(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 0), name);
  }

  // Export the BPF through a memfd: libseccomp 2.5 writes it to a file descriptor only.
  int fd = memfd_create("eaq-seccomp", MFD_CLOEXEC);
  if (fd < 0) fail("sandbox: memfd_create failed: {}", std::strerror(errno));
  std::string bytes;
  try {
    check_rc(seccomp_export_bpf(ctx.get(), fd), "export");
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % sizeof(sock_filter) != 0) fail("sandbox: bad seccomp program size {}", size);
    bytes.resize(static_cast<std::size_t>(size));
    if (pread(fd, bytes.data(), bytes.size(), 0) != size) fail("sandbox: reading the seccomp program failed");
  } catch (...) {
    close(fd);
    throw;
  }
  close(fd);
  std::vector<sock_filter> program(bytes.size() / sizeof(sock_filter));
  std::memcpy(program.data(), bytes.data(), bytes.size());
  return program;
}

}  // namespace eaq::eval
