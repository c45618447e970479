// runtime/container/seccomp.ts — the sandbox seccomp profile (OCI linux.seccomp).
// Owns the deny list: allow by default, EPERM for syscalls that reach the kernel's
// most dangerous surfaces (mounts, modules, kexec, tracing, bpf, keyrings, new
// namespaces, raw handles, io_uring, clock changes). Modelled on what Docker's
// default profile removes for a container without extra capabilities.

const EPERM = 1;
const ENOSYS = 38;

const DENIED = [
  // filesystems and mounts
  "mount",
  "umount",
  "umount2",
  "pivot_root",
  "move_mount",
  "open_tree",
  "fsopen",
  "fsconfig",
  "fsmount",
  "fspick",
  "mount_setattr",
  "open_by_handle_at",
  "name_to_handle_at",
  "quotactl",
  "quotactl_fd",
  "swapon",
  "swapoff",
  "acct",
  // kernel code and the machine itself
  "kexec_load",
  "kexec_file_load",
  "init_module",
  "finit_module",
  "delete_module",
  "create_module",
  "get_kernel_syms",
  "query_module",
  "reboot",
  "iopl",
  "ioperm",
  "syslog",
  "_sysctl",
  "sysfs",
  "uselib",
  "nfsservctl",
  "vhangup",
  "lookup_dcookie",
  "vm86",
  "vm86old",
  // tracing, introspection of other processes, bpf
  "ptrace",
  "process_vm_readv",
  "process_vm_writev",
  "pidfd_getfd",
  "kcmp",
  "bpf",
  "perf_event_open",
  "userfaultfd",
  // keyrings are not namespaced
  "add_key",
  "request_key",
  "keyctl",
  // namespaces: joining or creating them is how most container escapes start
  "unshare",
  "setns",
  // clocks are host-wide
  "settimeofday",
  "stime",
  "clock_settime",
  "clock_settime64",
  "clock_adjtime",
  "clock_adjtime64",
  // io_uring bypasses the syscall filter for the operations it performs
  "io_uring_setup",
  "io_uring_enter",
  "io_uring_register",
];

/** CLONE_NEW* flags; clone with any of them is refused (clone's flags are arg 0 on x86_64/arm64). */
const CLONE_NAMESPACE_FLAGS = {
  CLONE_NEWTIME: 0x80,
  CLONE_NEWNS: 0x20000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
};

interface SeccompSyscall {
  names: string[];
  action: "SCMP_ACT_ERRNO";
  errnoRet: number;
  args?: { index: number; value: number; valueTwo: number; op: "SCMP_CMP_MASKED_EQ" }[];
}

export interface SeccompProfile {
  defaultAction: "SCMP_ACT_ALLOW";
  architectures: string[];
  syscalls: SeccompSyscall[];
}

function architectures(arch: string): string[] {
  if (arch === "x64") return ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"];
  if (arch === "arm64") return ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"];
  return [];
}

export function seccompProfile(arch: string = process.arch): SeccompProfile {
  const syscalls: SeccompSyscall[] = [{ names: DENIED, action: "SCMP_ACT_ERRNO", errnoRet: EPERM }];
  // One rule per flag: a rule's conditions are ANDed, separate rules are ORed.
  for (const flag of Object.values(CLONE_NAMESPACE_FLAGS)) {
    syscalls.push({
      names: ["clone"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: EPERM,
      args: [{ index: 0, value: flag, valueTwo: flag, op: "SCMP_CMP_MASKED_EQ" }],
    });
  }
  // clone3 passes flags in memory, which seccomp cannot inspect: make libc fall back to clone.
  syscalls.push({ names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS });
  return { defaultAction: "SCMP_ACT_ALLOW", architectures: architectures(arch), syscalls };
}

export const DENIED_SYSCALLS: readonly string[] = DENIED;
