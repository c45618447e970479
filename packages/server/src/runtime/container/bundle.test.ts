// runtime/container/bundle.test.ts — the generated OCI config: namespaces, limits,
// security baseline, rlimits within the server's own, and what cgroups/log parsing read.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { ContainerSpec } from "../backend.js";
import { ociConfig, readBundleRecord } from "./bundle.js";
import { cgroupParentFor, parseCgroupMounts, serverCgroupPath } from "./cgroups.js";
import { parseK8sLog, joinLog } from "./log-file.js";
import { hardNofileLimit } from "./oci-defaults.js";
import { DENIED_SYSCALLS, seccompProfile } from "./seccomp.js";

const spec: ContainerSpec = {
  id: "c1",
  rootfs: { lowerDirs: ["/l"] },
  process: { args: ["sh"], env: ["A=1"], cwd: "/w", user: { uid: 1000, gid: 1000, additionalGids: [5] }, terminal: false },
  hostname: "h1",
  resources: { memoryLimitBytes: 256 << 20, pidsLimit: 100, cpuCount: 1.5 },
  annotations: { a: "b" },
};

type Config = {
  process: { capabilities: Record<string, string[]>; noNewPrivileges: boolean; rlimits: { hard: number }[]; user: unknown };
  linux: { namespaces: { type: string; path?: string }[]; cgroupsPath: string; resources: Record<string, Record<string, number>> };
  mounts: { destination: string; options?: string[] }[];
};

test("a new namespace of every kind, including an empty network namespace", () => {
  const c = ociConfig(spec, { cgroupsPath: "/srv/nimbus-abc/c1", etcDir: "/b" }) as unknown as Config;
  assert.deepEqual(c.linux.namespaces.map((n) => n.type).sort(), ["cgroup", "ipc", "mount", "network", "pid", "uts"]);
  assert.ok(c.linux.namespaces.every((n) => n.path === undefined));
  assert.equal(c.linux.cgroupsPath, "/srv/nimbus-abc/c1");
});

test("limits: memory without swap, pids, cpu quota", () => {
  const c = ociConfig(spec, { cgroupsPath: "/x/c1", etcDir: "/b" }) as unknown as Config;
  assert.deepEqual(c.linux.resources.memory, { limit: 256 << 20, swap: 256 << 20 });
  assert.deepEqual(c.linux.resources.pids, { limit: 100 });
  assert.deepEqual(c.linux.resources.cpu, { quota: 150_000, period: 100_000 });
});

test("non-root users get no effective capabilities; no_new_privs; rlimits within ours", () => {
  const c = ociConfig(spec, { cgroupsPath: "/x/c1", etcDir: "/b" }) as unknown as Config;
  assert.deepEqual(c.process.capabilities.effective, []);
  assert.ok(!c.process.capabilities.bounding!.includes("CAP_SYS_ADMIN"));
  assert.equal(c.process.noNewPrivileges, true);
  const ours = hardNofileLimit(sampleLimits());
  for (const r of c.process.rlimits) assert.ok(ours === undefined || r.hard <= ours);
  assert.ok(c.mounts.some((m) => m.destination === "/etc/hosts"));
  assert.ok(c.mounts.find((m) => m.destination === "/sys")?.options?.includes("ro"));
});

function sampleLimits(): string {
  return "Max open files            1024                 20000                files\n";
}

test("seccomp denies the dangerous syscalls with EPERM and allows the rest", () => {
  const p = seccompProfile("x64");
  assert.equal(p.defaultAction, "SCMP_ACT_ALLOW");
  for (const name of ["mount", "umount2", "kexec_load", "init_module", "ptrace", "bpf", "keyctl", "unshare", "setns", "open_by_handle_at"]) {
    assert.ok(DENIED_SYSCALLS.includes(name), name);
  }
  assert.equal(p.syscalls[0]!.errnoRet, 1);
  assert.ok(
    p.syscalls.some((s) => s.names.includes("clone") && s.args?.[0]?.value === 0x10000000),
    "clone(CLONE_NEWUSER) is refused",
  );
});

test("the bundle record gives back cgroupsPath, annotations, the process user and its environment", () => {
  const c = ociConfig(spec, { cgroupsPath: "/x/c1", etcDir: "/b" });
  const record = readBundleRecord(JSON.stringify(c));
  assert.deepEqual({ ...record, env: undefined }, { cgroupsPath: "/x/c1", annotations: { a: "b" }, user: { uid: 1000, gid: 1000 }, env: undefined });
  assert.ok(record.env.includes("A=1"), JSON.stringify(record.env)); // what execs inherit
});

test("cgroup placement is under the server's memory cgroup, one parent per state dir", () => {
  const self = "10:hugetlb:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n";
  assert.equal(serverCgroupPath(self), "/process_api/abc");
  assert.equal(serverCgroupPath("0::/user.slice/x.scope\n"), "/user.slice/x.scope");
  assert.match(cgroupParentFor("/data/runtime", self), /^\/process_api\/abc\/nimbus-[0-9a-f]{12}$/);
  assert.notEqual(cgroupParentFor("/a", self), cgroupParentFor("/b", self));
  const mounts = parseCgroupMounts(
    "35 25 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n40 25 0:35 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
  );
  assert.deepEqual(mounts, [
    { mountPoint: "/sys/fs/cgroup/memory", version: 1, controllers: ["memory"] },
    { mountPoint: "/sys/fs/cgroup/unified", version: 2, controllers: [] },
  ]);
});

test("k8s-file log records re-join partial lines", () => {
  const recs = parseK8sLog("t1 stdout P hel\nt2 stdout F lo\nt3 stderr F oops\n");
  assert.equal(joinLog(recs), "hello\noops\n");
  assert.equal(joinLog(recs, "stderr"), "oops\n");
  assert.equal(joinLog(parseK8sLog("t1 stdout F tty line\r\n")), "tty line\r\n");
});
