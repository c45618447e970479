// What an agent does inside a sandbox, through the SDK's handle API (issue 18,
// acceptance 1): create a sandbox with the short form, write a Python file and
// run it, stream a long-running process's output while sending it input and
// EOF, resize a terminal running bash, watch a directory, download it as tar.
// Settings come from the environment: NIMBUS_ENDPOINT, NIMBUS_TOKEN (or
// NIMBUS_API_KEY), NIMBUS_TENANT_ID; IMAGE picks an image with python3 and bash.
//
// Node 20 has no `await using` syntax in .mjs files, so the scope's cleanup is
// written out: `finally { await sb[Symbol.asyncDispose]() }` is what
// `await using sb = …` does in TypeScript (docs/sdk.md shows that form).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Nimbus } from "@nimbus/nimbus";

const nimbus = new Nimbus();
const image = process.env.IMAGE ?? "python:3.12";

// #region create
const sb = await nimbus.sandboxes.create({ image });
// #endregion create
const local = mkdtempSync(join(tmpdir(), "nimbus-agent-"));
try {
  console.log("sandbox", sb.id, sb.state);

  // #region run
  await sb.files.mkdir("/app");
  await sb.files.write("/app/hello.py", "import sys\nprint('hello from python', sys.version_info[0])\n");
  const hello = await sb.commands.run("python3 /app/hello.py");
  console.log(hello.stdout.trim(), "exit", hello.exitCode);
  // #endregion run

  // #region watch
  await sb.files.mkdir("/app/out");
  const ac = new AbortController();
  const seen = [];
  const watching = (async () => {
    for await (const e of sb.files.watch("/app/out", { recursive: true, signal: ac.signal })) {
      if (e.type === "moved_to" || e.type === "write_closed") seen.push(e.path);
    }
  })().catch((err) => {
    if (!ac.signal.aborted) throw err;
  });
  // #endregion watch

  // #region start
  await sb.files.write(
    "/app/worker.py",
    [
      "import sys, time",
      "for i in range(3):",
      "    print('working', i, flush=True)",
      "    time.sleep(0.2)",
      "for line in sys.stdin:",
      "    name = line.strip()",
      "    open(f'/app/out/{name}.txt', 'w').write(name.upper())",
      "    print('wrote', name, flush=True)",
      "print('stdin closed, done', flush=True)",
    ].join("\n"),
  );
  const worker = await sb.commands.start("python3 /app/worker.py", { stdin: true });
  for await (const text of worker.stdout()) {
    process.stdout.write(`worker: ${text}`);
    if (text.includes("working 2")) break;
  }
  await worker.sendStdin("alpha\nbeta\n");
  await worker.closeStdin();
  const done = await worker.wait();
  console.log("worker exit", done.exitCode, JSON.stringify(done.stdout.split("\n").at(-2)));
  // #endregion start

  // #region pty
  let screen = "";
  // Resolves once the terminal has shown `re` (10 s at most).
  const shown = async (re) => {
    for (const t0 = Date.now(); !re.test(screen); await new Promise((r) => setTimeout(r, 20)))
      if (Date.now() - t0 > 10_000) throw new Error(`the terminal never showed ${re}`);
  };
  const term = await sb.pty.create({ cols: 80, rows: 24, cmd: "bash", onData: (bytes) => (screen += Buffer.from(bytes).toString()) });
  await term.write("stty size\n");
  await shown(/^24 80/m); // bash answered before the resize
  await term.resize({ cols: 120, rows: 40 });
  await term.write("stty size; exit\n");
  await term.wait();
  console.log("terminal sizes", screen.match(/^\d+ \d+/gm)?.join(", "));
  // #endregion pty

  // #region download
  ac.abort();
  await watching;
  console.log("watched", [...new Set(seen)].sort().join(", "));
  const tarPath = join(local, "out.tar");
  await sb.files.download("/app/out", { to: tarPath });
  const entries = await sb.files.list("/app/out");
  console.log("downloaded", entries.length, "files as", statSync(tarPath).size, "bytes of tar");
  // #endregion download
} finally {
  rmSync(local, { recursive: true, force: true });
  await sb[Symbol.asyncDispose]();
}
console.log("sandbox deleted");
