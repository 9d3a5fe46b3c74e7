/**
 * A seccomp-BPF filter for cells, compiled here to the classic BPF bytes that
 * `bwrap --seccomp FD` loads (struct sock_filter, linux/filter.h; struct seccomp_data,
 * linux/seccomp.h). No libseccomp needed.
 *
 * Policy (deny-list on top of the namespaces, which are the primary wall):
 * - wrong architecture, or the x32 ABI (nr >= 0x40000000): kill the process;
 * - socket()/socketpair() for any family but AF_UNIX: EAFNOSUPPORT (no raw, packet, netlink,
 *   INET sockets, even inside the empty network namespace);
 * - kernel and namespace escape surface: EPERM (ptrace, mount family, new mount API, unshare,
 *   setns, bpf, perf_event_open, keyctl family, userfaultfd, process_vm_*, open_by_handle_at,
 *   io_uring, module and kexec loading, reboot, swap, acct, syslog, iopl/ioperm, chroot, pivot_root).
 * Only x86-64 numbers are built in; on other architectures `cellSeccompFilter()` returns undefined
 * and the cell runs without seccomp (the cell-start event records `seccomp: false`).
 */
import { arch } from 'node:process';

const AUDIT_ARCH_X86_64 = 0xc000003e;
const RET_KILL_PROCESS = 0x80000000;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const EAFNOSUPPORT = 97;
const AF_UNIX = 1;

// BPF opcodes (linux/bpf_common.h)
const LD_W_ABS = 0x20;  // BPF_LD | BPF_W | BPF_ABS
const JEQ_K = 0x15;     // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K = 0x35;     // BPF_JMP | BPF_JGE | BPF_K
const RET_K = 0x06;     // BPF_RET | BPF_K

// offsets in struct seccomp_data
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARG0_LO = 16; // little-endian low 32 bits of args[0]

/** x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
const X86_64_DENY: Readonly<Record<string, number>> = {
  ptrace: 101, syslog: 103, chroot: 161, acct: 163, mount: 165, umount2: 166, swapon: 167, swapoff: 168,
  reboot: 169, iopl: 172, ioperm: 173, init_module: 175, delete_module: 176, pivot_root: 155,
  kexec_load: 246, add_key: 248, request_key: 249, keyctl: 250, unshare: 272, perf_event_open: 298,
  name_to_handle_at: 303, open_by_handle_at: 304, setns: 308, process_vm_readv: 310, process_vm_writev: 311,
  finit_module: 313, kexec_file_load: 320, bpf: 321, userfaultfd: 323, io_uring_setup: 425,
  io_uring_enter: 426, io_uring_register: 427, open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431,
  fsmount: 432, fspick: 433, mount_setattr: 442,
};
const X86_64_SOCKET = 41;
const X86_64_SOCKETPAIR = 53;

type Insn = readonly [code: number, jt: number, jf: number, k: number];

/** The compiled filter for this machine, or undefined when the architecture is not supported. */
export function cellSeccompFilter(): Uint8Array | undefined {
  if (arch !== 'x64') return undefined;
  const p: Insn[] = [
    [LD_W_ABS, 0, 0, OFF_ARCH],
    [JEQ_K, 1, 0, AUDIT_ARCH_X86_64],
    [RET_K, 0, 0, RET_KILL_PROCESS],
    [LD_W_ABS, 0, 0, OFF_NR],
    [JGE_K, 0, 1, 0x40000000],
    [RET_K, 0, 0, RET_KILL_PROCESS],
  ];
  for (const nr of Object.values(X86_64_DENY)) {
    p.push([JEQ_K, 0, 1, nr], [RET_K, 0, 0, RET_ERRNO | EPERM]);
  }
  for (const nr of [X86_64_SOCKET, X86_64_SOCKETPAIR]) {
    p.push(
      [JEQ_K, 0, 4, nr],
      [LD_W_ABS, 0, 0, OFF_ARG0_LO],
      [JEQ_K, 1, 0, AF_UNIX],
      [RET_K, 0, 0, RET_ERRNO | EAFNOSUPPORT],
      [RET_K, 0, 0, RET_ALLOW],
    );
  }
  p.push([RET_K, 0, 0, RET_ALLOW]);
  const out = new Uint8Array(p.length * 8);
  const dv = new DataView(out.buffer);
  p.forEach(([code, jt, jf, k], i) => {
    dv.setUint16(i * 8, code, true);
    dv.setUint8(i * 8 + 2, jt);
    dv.setUint8(i * 8 + 3, jf);
    dv.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return out;
}
