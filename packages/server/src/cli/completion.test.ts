/**
 * `nimbus completion bash|zsh|fish`: the bash script, loaded into a real bash,
 * completes command words, subcommands and a command's flags from the same
 * table as `--help`; zsh gets the bash script through bashcompinit; fish gets
 * one `complete` line per flag; an unknown shell is a usage error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isolatedEnv, makeTempRoot, runNimbus } from "../testing/cli.js";

const tmp = makeTempRoot("nimbus-completion-");
const env = isolatedEnv(tmp.root);
test.after(() => tmp.cleanup());

/** What the bash completion offers for the words typed so far (the last one being completed). */
function complete(script: string, words: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-completion-bash-"));
  try {
    writeFileSync(join(dir, "c.sh"), script);
    const quoted = words.map((w) => `'${w}'`).join(" ");
    const out = execFileSync(
      "bash",
      ["-c", `source ${join(dir, "c.sh")}; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _nimbus; printf '%s\\n' "\${COMPREPLY[@]}"`],
      {
        encoding: "utf8",
      },
    );
    return out.split("\n").filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the bash script completes commands, subcommands and flags", async () => {
  const r = await runNimbus(["completion", "bash"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(complete(r.stdout, ["nimbus", "sa"]), ["sandbox"]);
  assert.deepEqual(complete(r.stdout, ["nimbus", "sandbox", "cr"]), ["create"]);
  assert.deepEqual(complete(r.stdout, ["nimbus", "sandbox", "create", "--na"]), ["--name"]);
  assert.ok(complete(r.stdout, ["nimbus", "r"]).includes("run"));
  const ps = complete(r.stdout, ["nimbus", "ps", "-"]);
  for (const flag of ["-a", "-q", "--filter", "--tenant", "-T"]) assert.ok(ps.includes(flag), `ps offers ${flag}: ${ps.join(" ")}`);
});

test("zsh loads the bash script through bashcompinit; fish gets a line per flag; other shells are usage errors", async () => {
  const zsh = await runNimbus(["completion", "zsh"], env);
  assert.equal(zsh.code, 0, zsh.stderr);
  assert.match(zsh.stdout, /bashcompinit/);
  assert.match(zsh.stdout, /complete -o default -F _nimbus nimbus/);
  const fish = await runNimbus(["completion", "fish"], env);
  assert.equal(fish.code, 0, fish.stderr);
  assert.match(fish.stdout, /complete -c nimbus -n '__fish_seen_subcommand_from run' -l tty -s t -d /);
  const bad = await runNimbus(["completion", "tcsh"], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /expected one of bash, zsh, fish/);
});
