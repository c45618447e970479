// runtime/conformance/isolation.ts — isolation cases of the runtime conformance suite.
// Owns the checks made from inside a container: its own PID tree, loopback-only
// network (no host loopback, no route out), no mounts, modules or namespaces,
// masked kernel files, its hostname and capability baseline, and the memory and
// pids limits (an OOM kill is reported as such; a fork bomb stays contained).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { it } from "node:test";
import { assertOutput, type ConformanceContext } from "./suite.js";

const MiB = 1024 * 1024;

/**
 * A shell script whose stderr goes down stdout's pipe. The monitor reads the two
 * pipes separately, so in the log a line of one can land in the middle of a line
 * of the other (busybox writes `sh: ` and the rest of an error in two writes);
 * through one pipe, lines stay whole and in order, so `^rc=` checks hold.
 */
const inOrder = (script: string): string[] => ["sh", "-c", `exec 2>&1; ${script}`];

export function isolationCases(ctx: ConformanceContext): void {
  it("PID 1 is the container's process and ps shows only its tree", async () => {
    const { exit, out } = await ctx.run(ctx.spec("iso-pid", ["sh", "-c", "echo pid=$$; ps -o pid,comm; echo done"]));
    assert.equal(exit.exitCode, 0);
    assertOutput(out, /^pid=1$/m, "the shell is PID 1");
    const rows = out.split("\n").filter((l) => /^\s*\d+\s/.test(l));
    assert.deepEqual(rows.map((r) => r.trim().split(/\s+/)[1]).sort(), ["ps", "sh"], out);
  });

  it("the only interface is lo, and it is UP", async () => {
    const { out } = await ctx.run(ctx.spec("iso-lo", ["sh", "-c", "ls /sys/class/net; echo ---; ip -o link"]));
    const [sysNet = "", links = ""] = out.split("---\n");
    assert.equal(sysNet.trim(), "lo", out);
    const lines = links.trim().split("\n");
    assert.equal(lines.length, 1, out);
    assertOutput(lines[0]!, /^1: lo: <[^>]*\bUP\b/, "lo is up");
  });

  it("a listener on the host's 127.0.0.1 is unreachable", async () => {
    let connections = 0;
    const server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const { out } = await ctx.run(ctx.spec("iso-hostlo", inOrder(`nc -w 2 127.0.0.1 ${port} </dev/null; echo rc=$?`)));
      assertOutput(out, /Connection refused/, "the container's 127.0.0.1 is its own loopback");
      assertOutput(out, /rc=[1-9]/, "nc failed");
      assert.equal(connections, 0, "the host listener saw no connection");
    } finally {
      server.close();
    }
  });

  it("there is no route out: outside addresses are unreachable at once", async () => {
    // busybox nc, not wget: Debian 12's static busybox wget segfaults even on the host.
    const t0 = Date.now();
    const script = "for a in 192.0.2.1 198.51.100.1; do nc -w 3 $a 80 </dev/null; echo rc=$?; done";
    const { out } = await ctx.run(ctx.spec("iso-route", inOrder(script)));
    assert.equal(out.match(/Network is unreachable/g)?.length, 2, `no route, not a timeout; container printed:\n${out}`);
    assert.equal(out.match(/^rc=[1-9]/gm)?.length, 2, out);
    assert.ok(Date.now() - t0 < 2500, "failed without waiting for a timeout");
  });

  it("cannot mount, load modules or make namespaces", async () => {
    const script = [
      "mkdir -p /mnt/x; mount -t tmpfs none /mnt/x; echo mount=$?",
      "echo junk > /tmp/m.ko; insmod /tmp/m.ko; echo insmod=$?",
      "unshare -n true; echo unshare=$?",
      "unshare -U true; echo userns=$?",
    ].join("; ");
    const { out } = await ctx.run(ctx.spec("iso-mount", inOrder(script)));
    for (const what of ["mount", "insmod", "unshare", "userns"]) assertOutput(out, new RegExp(`^${what}=[1-9]`, "m"), `${what} fails`);
    assert.doesNotMatch(out, /^\S+ on \/mnt\/x /m);
    assertOutput(out, /insmod: .*Operation not permitted/, "module loading is refused by seccomp");
  });

  it("kernel files are masked or read-only", async () => {
    const script = [
      "echo kcore=$(head -c 16 /proc/kcore | wc -c)",
      "echo 1 > /proc/sys/kernel/sysrq; echo sysrq=$?",
      "echo x > /proc/sysrq-trigger; echo trigger=$?",
      "touch /sys/x; echo sys=$?",
      "grep -c ' /proc ' /proc/self/mountinfo || cat /proc/self/mountinfo", // context if this ever fails
    ].join("; ");
    const { out } = await ctx.run(ctx.spec("iso-proc", inOrder(script)));
    assertOutput(out, /^kcore=0$/m, "/proc/kcore reads as empty");
    assertOutput(out, /^sysrq=[1-9]/m, "/proc/sys is read-only");
    assertOutput(out, /^trigger=[1-9]/m, "/proc/sysrq-trigger is read-only");
    assertOutput(out, /^sys=[1-9]/m, "/sys is read-only");
  });

  it("hostname, /etc files, layers, capabilities and no_new_privs are as specified", async () => {
    const script =
      "hostname; cat /etc/hostname /etc/motd; grep -q sandbox-test /etc/hosts && echo hosts-ok; grep -E '^(CapBnd|CapEff|NoNewPrivs|Seccomp):' /proc/self/status";
    const { out } = await ctx.run(ctx.spec("iso-host", ["sh", "-c", script], { hostname: "box-7" }));
    assertOutput(out, /^box-7\nbox-7\ntop layer\n/, "hostname, /etc/hostname and the top layer's file");
    assertOutput(out, /^NoNewPrivs:\s+1$/m, "no_new_privs is set");
    assertOutput(out, /^Seccomp:\s+2$/m, "a seccomp filter is installed");
    const bnd = BigInt("0x" + /^CapBnd:\s+([0-9a-f]+)$/m.exec(out)![1]);
    const SYS_ADMIN = 21n,
      NET_RAW = 13n,
      SYS_MODULE = 16n,
      SYS_PTRACE = 19n;
    for (const bit of [SYS_ADMIN, NET_RAW, SYS_MODULE, SYS_PTRACE]) assert.equal((bnd >> bit) & 1n, 0n, `capability ${bit} is dropped`);
  });

  it("a memory hog is OOM-killed and reported as such", async () => {
    const spec = ctx.spec("iso-oom", ["dd", "if=/dev/zero", "of=/dev/null", "bs=96M", "count=1"], {
      resources: { memoryLimitBytes: 32 * MiB, pidsLimit: 16, cpuCount: 1 },
    });
    const { exit, out } = await ctx.run(spec);
    assert.equal(exit.exitCode, 137, out);
    assert.equal(exit.signal, "SIGKILL");
    assert.equal(exit.oomKilled, true);
  });

  it("a fork bomb is contained by the pids limit while the host stays responsive", async () => {
    const b = ctx.backend();
    const limit = 32;
    const bomb = ctx.spec("iso-bomb", ["sh", "-c", "bomb() { bomb | bomb & }; bomb; sleep 600"], {
      resources: { memoryLimitBytes: 128 * MiB, pidsLimit: limit, cpuCount: 0.5 },
    });
    await b.create(bomb);
    await b.start("iso-bomb");
    let maxLagMs = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      maxLagMs = Math.max(maxLagMs, now - last - 50);
      last = now;
    }, 50);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const { exit, out } = await ctx.run(ctx.spec("iso-neighbour", ["echo", "neighbour ok"]));
      assert.equal(exit.exitCode, 0);
      assert.equal(out, "neighbour ok\n", "another sandbox still runs");
      const dir = ctx.target.pidsCgroupDir?.(b, "iso-bomb");
      if (dir) {
        const current = Number(readFileSync(join(dir, "pids.current"), "utf8"));
        assert.ok(current <= limit && current > limit / 2, `pids.current ${current} is at the limit ${limit}`);
      }
      assert.equal((await b.state("iso-bomb"))?.status, "running");
    } finally {
      clearInterval(ticker);
    }
    assert.ok(maxLagMs < 1000, `the test process stayed responsive (max event-loop lag ${maxLagMs.toFixed(0)} ms)`);
    await b.delete("iso-bomb");
    assert.equal(await b.state("iso-bomb"), undefined);
  });
}
