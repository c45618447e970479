/**
 * The seed quickstart (the repository's `examples/agent-sandbox/sandbox.mjs`,
 * a verbatim copy of the user's script) must type-check against the SDK and
 * run unchanged.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { Nimbus } from "./client.js";
import { sendJson, startServer, type Handler } from "./testing/fake-server.js";
import { sandbox, session } from "./testing/resources.js";

const pkgDir = fileURLToPath(new URL("..", import.meta.url));
const fixture = join(pkgDir, "..", "..", "examples", "agent-sandbox", "sandbox.mjs");
// shared/ sits beside the repository (CI lays a copy there too).
const seed = join(pkgDir, "..", "..", "..", "shared", "seeds", "sandbox.mjs");

/** Answers the quickstart's calls: created `starting`, ready on the second GET. */
function quickstartServer(): Handler {
  let gets = 0;
  return (req, res) => {
    const r = `${req.method} ${req.rawPath}`;
    if (r === "POST /api/tenants/demo/sandboxes") return sendJson(res, 201, sandbox("agent-task-01", "starting"));
    if (r === "GET /api/tenants/demo/sandboxes/agent-task-01") return sendJson(res, 200, sandbox("agent-task-01", ++gets > 1 ? "ready" : "starting"));
    if (r === "POST /api/sessions") return sendJson(res, 201, session("ses-01", "agent-task-01"));
    if (r === "POST /api/sessions/ses-01/close") return sendJson(res, 200, session("ses-01", "agent-task-01", "closed"));
    if (r === "POST /api/tenants/demo/sandboxes/agent-task-01/stop") return sendJson(res, 200, sandbox("agent-task-01", "stopped"));
    sendJson(res, 404, { error: { code: "op.not_found", message: r, requestId: "req", retryable: false, detail: null } });
  };
}

describe("quickstart seed", () => {
  it("keeps the fixture identical to the seed", (t) => {
    if (!existsSync(seed)) return t.skip("seed not present on this machine");
    assert.equal(readFileSync(fixture, "utf8"), readFileSync(seed, "utf8"));
  });

  it("type-checks and runs the seed's calls (same object literals)", async () => {
    const srv = await startServer(quickstartServer());
    try {
      const nimbus = new Nimbus({ endpoint: srv.url, tenantId: "demo", token: process.env.NIMBUS_TOKEN ?? "t" });
      const created = await nimbus.sandboxes.create({
        profile: "worker",
        spec: {
          owner: { kind: "standalone", displayName: "agent-task" },
          backend: "container",
          root: { kind: "oci_image", source: { kind: "reference", reference: "docker.io/library/node:22-alpine" } },
          process: { argv: ["node", "-e", "setInterval(() => {}, 1000)"] },
        },
        labels: { purpose: "quickstart" },
      });
      let current = created;
      while (current.status.lifecycleState !== "ready") current = await nimbus.sandboxes.get({ id: created.metadata.id });
      const s = await nimbus.sessions.open({
        target: { sandbox: { id: created.metadata.id } },
        channels: ["stdio"],
        requestedTtlMs: 5 * 60 * 1000,
      });
      const snapshot: unknown = s.spec.targetSnapshot;
      assert.ok(s.metadata.id && s.spec.expiresAt && snapshot);
      await nimbus.sessions.close({ id: s.metadata.id, reason: "done" });
      const stopped = await nimbus.sandboxes.stop({ id: created.metadata.id });
      assert.equal(stopped.status.lifecycleState, "stopped");
    } finally {
      await srv.close();
    }
  });

  it("runs the unchanged script against the built package", async (t) => {
    if (!existsSync(join(pkgDir, "dist", "index.js"))) return t.skip("build the SDK first (npx tsc -b packages/nimbus)");
    const srv = await startServer(quickstartServer());
    // The script hardcodes http://localhost:8080; a preload points that at the fake server.
    const preloadDir = mkdtempSync(join(tmpdir(), "nimbus-seed-"));
    const preload = join(preloadDir, "redirect.mjs");
    writeFileSync(
      preload,
      `const real = globalThis.fetch; const to = process.env.REDIRECT_TO;
       globalThis.fetch = (input, init) => real(String(input).replace("http://localhost:8080", to), init);\n`,
    );
    try {
      const child = spawn(process.execPath, ["--import", preload, fixture], {
        env: { ...process.env, REDIRECT_TO: srv.url, NIMBUS_TOKEN: "seed-token" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (c) => (out += c));
      child.stderr.on("data", (c) => (err += c));
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      assert.equal(code, 0, err);
      assert.match(out, /^created agent-task-01 starting$/m);
      assert.match(out, /^session ses-01 expires 2026-11-28T10:05:00.000Z$/m);
      assert.match(out, /^stopped$/m);
      assert.ok(srv.requests.every((r) => r.headers.authorization === "Bearer seed-token"));
    } finally {
      rmSync(preloadDir, { recursive: true, force: true });
      await srv.close();
    }
  });
});
