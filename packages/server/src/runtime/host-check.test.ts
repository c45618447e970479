// runtime/host-check.test.ts — the hugetlb quirk detection on sample host texts,
// and the real check on this host.

import assert from "node:assert/strict";
import { test } from "node:test";
import { findBinary } from "./container/exec.js";
import { checkHost, hugetlbNeedsFix } from "./host-check.js";

const line = (id: number, mp: string, type: string, opts: string) => `${id} 20 0:${id} / ${mp} rw,relatime shared:${id} - ${type} cgroup ${opts}`;
const HYBRID = [
  line(30, "/sys/fs/cgroup/memory", "cgroup", "rw,memory"),
  line(31, "/sys/fs/cgroup/pids", "cgroup", "rw,pids"),
  line(32, "/sys/fs/cgroup/unified", "cgroup2", "rw"),
].join("\n");
const PROC_CGROUPS = "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t4\t10\t1\npids\t8\t10\t1\nhugetlb\t0\t1\t1\n";

test("hybrid host with hugetlb on cgroup2 needs the fix", () => {
  assert.equal(hugetlbNeedsFix(HYBRID, PROC_CGROUPS), true);
});

test("hugetlb mounted as a v1 hierarchy needs nothing", () => {
  const fixed = HYBRID + "\n" + line(33, "/sys/fs/cgroup/hugetlb", "cgroup", "rw,hugetlb");
  assert.equal(hugetlbNeedsFix(fixed, PROC_CGROUPS.replace("hugetlb\t0", "hugetlb\t10")), false);
});

test("pure cgroup2 or pure v1 hosts need nothing", () => {
  assert.equal(hugetlbNeedsFix(line(32, "/sys/fs/cgroup", "cgroup2", "rw"), PROC_CGROUPS), false);
  assert.equal(hugetlbNeedsFix(line(30, "/sys/fs/cgroup/memory", "cgroup", "rw,memory"), PROC_CGROUPS), false);
});

test("a kernel without hugetlb needs nothing", () => {
  assert.equal(hugetlbNeedsFix(HYBRID, PROC_CGROUPS.replace("hugetlb\t0\t1\t1", "hugetlb\t0\t1\t0")), false);
});

test("this host passes with crun (or says why not)", { skip: process.getuid?.() !== 0 && "needs root" }, async () => {
  if (!findBinary("crun") || !findBinary("conmon")) {
    await assert.rejects(checkHost(), /apt-get install/);
    return;
  }
  const r = await checkHost();
  assert.equal(r.runtime, "crun");
  assert.match(r.runtimePath, /crun$/);
  assert.match(r.conmonPath, /conmon$/);
});

const noRunsc = { skip: (process.getuid?.() !== 0 || !!findBinary("runsc") || !findBinary("conmon")) && "needs root, conmon and no runsc" };

test("a missing runtime without fallback names where to get it", noRunsc, async () => {
  await assert.rejects(checkHost({ runtime: "runsc", allowFallback: false }), /gvisor\.dev/);
});

test("a missing runtime falls back to runc with a warning", { ...noRunsc, skip: noRunsc.skip || (!findBinary("runc") && "no runc") }, async () => {
  const r = await checkHost({ runtime: "runsc" });
  assert.equal(r.runtime, "runc");
  assert.match(r.warnings.join("\n"), /runsc is not installed.*using runc instead/);
});
