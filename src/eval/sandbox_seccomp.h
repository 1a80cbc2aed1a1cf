// The seccomp-BPF program of the code-execution sandbox, built with libseccomp in the parent
// (libseccomp allocates, which a child forked from a threaded process must not do) and installed
// by the child with prctl(PR_SET_SECCOMP) just before exec.
#pragma once

#include <linux/filter.h>

#include <vector>

namespace eaq::eval {

// Default allow; denies socket() (EACCES: no network of any family, AF_UNIX included — the code
// never needs one and a filesystem socket could reach a host daemon), clone() with namespace
// flags, unshare/setns/mount-family/ptrace/bpf/perf/io_uring/keyring/module/reboot-family calls
// (EPERM), and answers clone3 with ENOSYS so glibc falls back to clone(), whose flags a filter can
// read. Throws eaq::Error when libseccomp fails.
std::vector<sock_filter> build_sandbox_seccomp_program();

}  // namespace eaq::eval
