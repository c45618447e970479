/**
 * `scripts/install.sh` (the seed's "install script" option): packs the SDK
 * and the server and installs them with `npm install -g` into a temp prefix
 * (`npm_config_prefix`); the installed `nimbus` must run from there alone,
 * with its own copy of @nimbus/nimbus and a working better-sqlite3. Slow the
 * first time on a host without prebuilt better-sqlite3 binaries: npm builds
 * it from source (about 2-3 minutes), in parallel with the other test files.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempRoot, isolatedEnv } from "../testing/cli.js";
import { VERSION } from "../version.js";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, out }));
  });
}

test("scripts/install.sh installs a working `nimbus` into an npm prefix", { timeout: 15 * 60_000 }, async () => {
  const tmp = makeTempRoot("nimbus-install-");
  try {
    const prefix = join(tmp.root, "prefix");
    const env = isolatedEnv(tmp.root, { npm_config_prefix: prefix });
    // The npm cache and config (e.g. nodedir) stay the user's own.
    env.HOME = process.env.HOME;
    const installed = await run("bash", ["scripts/install.sh", "--no-setup"], env);
    assert.equal(installed.code, 0, installed.out);

    const bin = join(prefix, "bin", "nimbus");
    const version = await run(bin, ["--version"], env);
    assert.equal(version.code, 0, version.out);
    assert.equal(version.out.trim(), VERSION);

    const pkg = join(prefix, "lib", "node_modules", "@nimbus", "server");
    const sdk = join(pkg, "node_modules", "@nimbus", "nimbus");
    assert.ok(existsSync(join(sdk, "dist", "index.js")), "the SDK is installed beside the server");
    assert.equal(lstatSync(sdk).isSymbolicLink(), false, "the SDK is a copy, not a link into the repository");
    // The tarballs ship code only: no tests, fixtures, attack suite or benches.
    for (const dir of [join(pkg, "dist"), join(sdk, "dist")]) {
      const shipped = readdirSync(dir, { recursive: true }).map(String);
      assert.deepEqual(
        shipped.filter((f) => /\.test\.|^(testing|e2e|attack)(\/|$)/.test(f)),
        [],
        `${dir} ships test code`,
      );
      assert.ok(shipped.some((f) => f.endsWith(".js")));
    }
    const native = join(pkg, "node_modules", "@nimbus", "native");
    assert.ok(existsSync(join(native, "build", "Release", "nimbus_native.node")), "the native binding was compiled on install");
    assert.equal(lstatSync(native).isSymbolicLink(), false, "the native binding is a copy, not a link into the repository");

    // The server starts from the installed copy (better-sqlite3 loads) and stops cleanly.
    const xdg = { ...env, XDG_DATA_HOME: join(tmp.root, "xdg") };
    const child = spawn(bin, ["start", "--port", "0", "--data-dir", join(tmp.root, "data")], { env: xdg, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    const deadline = Date.now() + 20_000;
    while (!out.includes("nimbus is listening") && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(out.includes("nimbus is listening"), out);
    child.kill("SIGTERM");
    assert.equal(await exited, 0, out);
  } finally {
    tmp.cleanup();
  }
});
