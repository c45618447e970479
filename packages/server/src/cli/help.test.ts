/**
 * Help on the built binary: `nimbus --help` lists every registered command
 * (including the sandbox and session ones), each command's `--help` exits 0
 * and names every option with its default and env var, and `nimbus machine`
 * explains that sandboxes run natively on Linux.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { platform } from "node:os";
import { COMMANDS } from "./commands/index.js";
import { isolatedEnv, makeTempRoot, runNimbus } from "../testing/cli.js";

const tmp = makeTempRoot();
after(() => tmp.cleanup());
const env = isolatedEnv(tmp.root);

const EXPECTED = [
  "sandbox create",
  "sandbox ls",
  "sandbox get",
  "sandbox logs",
  "sandbox stop",
  "sandbox rm",
  "session open",
  "session ls",
  "session get",
  "session close",
];

test("nimbus --help lists every registered command, sandbox and session ones included", async () => {
  const names = COMMANDS.map((c) => c.path.join(" "));
  for (const n of EXPECTED) assert.ok(names.includes(n), `\`${n}\` is registered`);
  const r = await runNimbus(["--help"], env);
  assert.equal(r.code, 0, r.stderr);
  for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c.path.join(" ")} +${c.summary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
  const group = await runNimbus(["sandbox", "--help"], env);
  assert.equal(group.code, 0);
  for (const n of EXPECTED.filter((e) => e.startsWith("sandbox "))) assert.match(group.stdout, new RegExp(`^  ${n} `, "m"));
});

test("every command's --help exits 0 and names each option, its default and its env var", async () => {
  const queue = [...COMMANDS];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const r = await runNimbus([...c.path, "--help"], env);
      const name = c.path.join(" ");
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: ${c.usage.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"), name);
      for (const [opt, o] of Object.entries(c.options)) {
        const line = r.stdout.split("\n").find((l) => new RegExp(`^  ${o.short ? `-${o.short}, ` : " {4}"}--${opt}\\b`).test(l));
        assert.ok(line, `${name}: --${opt} is listed`);
        if (o.default !== undefined) assert.ok(line.includes(`default: ${o.default}`), `${name} --${opt}: default shown`);
        if (o.env) assert.ok(line.includes(`env: ${o.env}`), `${name} --${opt}: env var shown`);
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
});

test("every command with a tenant takes it from --tenant/-T or NIMBUS_TENANT, and -t means --tty wherever it exists", async () => {
  for (const c of COMMANDS) {
    if (c.options.tenant) assert.equal(c.options.tenant.short, "T", `${c.path.join(" ")} has -T`);
    if (c.options.tenant) assert.equal(c.options.tenant.env, "NIMBUS_TENANT");
    for (const [name, o] of Object.entries(c.options)) if (o.short === "t") assert.equal(name, "tty", `${c.path.join(" ")}: -t is --tty`);
  }
  for (const c of COMMANDS.filter((c) => c.path[0] === "sandbox" || c.path[0] === "session")) {
    assert.equal(c.options.endpoint?.env, "NIMBUS_ENDPOINT");
  }
  const r = await runNimbus(["sandbox", "create", "--help"], env);
  for (const flag of ["--name", "--label", "--env", "--memory", "--cpus", "--pids", "--workdir", "--user", "--profile", "--wait", "--json"]) {
    assert.match(r.stdout, new RegExp(`${flag} `), flag);
  }
  assert.match(r.stdout, /--profile <value> +sandbox profile: worker \| desktop \(default: worker\)/);
});

test("nimbus machine exits 0 on Linux and says sandboxes run natively", { skip: platform() !== "linux" }, async () => {
  for (const args of [["machine"], ["machine", "init"], ["machine", "start"]]) {
    const r = await runNimbus(args, env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /run natively on this Linux host/);
  }
});
