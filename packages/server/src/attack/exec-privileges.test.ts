/**
 * Attack test for issue 15, finding 3 (exec can become root).
 *
 * The attack: a tenant uploads a small static program that prints its euid,
 * makes it setuid root (mode 4755) from a root exec, then execs it as uid 1000. Before the fix
 * the runtime started exec processes without no_new_privs, so the setuid bit
 * took effect and uid 1000 got euid 0. Every exec must run like the main
 * process: no_new_privs, the sandbox's seccomp filter, the same capability
 * sets (bounding for everyone, effective only for root).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { execCall } from "../testing/exec-call.js";
import { tempDirForFile } from "../testing/temp-dir-for-file.js";

let env: SandboxEnv;
let id = "";
const workDir = tempDirForFile("nimbus-attack-euid-");
let euidProbe = "";

before(async () => {
  writeFileSync(join(workDir, "euid.c"), '#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("%d\\n", (int)geteuid()); return 0; }\n');
  euidProbe = join(workDir, "euid");
  execFileSync("gcc", ["-static", "-O2", "-o", euidProbe, join(workDir, "euid.c")]); // Debian's gcc + libc6-dev
  env = await startSandboxEnv();
  await env.tenant("mallory");
  id = (await env.create("mallory", ["sleep", "1000"])).metadata.id;
  await env.waitFor("mallory", id, ["ready"]);
});
after(async () => {
  if (id) await env?.remove("mallory", id);
  await env?.close();
});

const field = (status: string, name: string) => new RegExp(`^${name}:\\s*(\\S+)`, "m").exec(status)?.[1];

test("an exec has no_new_privs, the seccomp filter and the main process's capabilities", async () => {
  const main = await execCall(env, "mallory", id, { argv: ["cat", "/proc/1/status"] });
  const self = await execCall(env, "mallory", id, { argv: ["cat", "/proc/self/status"] });
  assert.equal(self.exitCode, 0, self.stderr);
  assert.equal(field(main.stdout, "NoNewPrivs"), "1", "the main process has no_new_privs (baseline)");
  assert.equal(field(self.stdout, "NoNewPrivs"), "1", "a root exec has no_new_privs");
  assert.equal(field(self.stdout, "Seccomp"), "2", "a root exec runs under the seccomp filter");
  for (const caps of ["CapBnd", "CapEff", "CapPrm"]) {
    assert.equal(field(self.stdout, caps), field(main.stdout, caps), `a root exec's ${caps} equals the main (root) process's`);
  }
  const user = await execCall(env, "mallory", id, { argv: ["cat", "/proc/self/status"], user: "1000:1000" });
  assert.equal(field(user.stdout, "NoNewPrivs"), "1", "a non-root exec has no_new_privs");
  assert.equal(field(user.stdout, "Seccomp"), "2");
  assert.equal(field(user.stdout, "CapBnd"), field(main.stdout, "CapBnd"));
  assert.equal(BigInt("0x" + field(user.stdout, "CapEff")!), 0n, "a non-root exec has no effective capabilities");
  assert.equal(BigInt("0x" + field(user.stdout, "CapPrm")!), 0n, "a non-root exec has no permitted capabilities");
});

test("a setuid-root binary exec'd as uid 1000 keeps euid 1000", async () => {
  // busybox drops setuid privileges by itself, so the probe is a static C
  // program that prints its effective uid and does nothing else.
  const upload = await fetch(`${env.srv.url}/api/tenants/mallory/sandboxes/${id}/files/content?path=/tmp/euid`, {
    method: "PUT",
    headers: { authorization: `Bearer ${env.srv.token()}`, "content-type": "application/octet-stream" },
    body: readFileSync(euidProbe),
  });
  assert.equal(upload.status, 200, await upload.text());
  // Root inside the sandbox may make its own files setuid root: that is the attack's setup.
  const prep = await execCall(env, "mallory", id, { argv: ["sh", "-c", "chown 0:0 /tmp/euid && chmod 4755 /tmp/euid && stat -c '%a %u' /tmp/euid"] });
  assert.equal(prep.exitCode, 0, prep.stderr);
  assert.equal(prep.stdout.trim(), "4755 0", "the setuid-root probe exists");
  const r = await execCall(env, "mallory", id, { argv: ["/tmp/euid"], user: "1000:1000" });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout.trim(), "1000", "the setuid bit did not make uid 1000 root");
});
