#!/usr/bin/env node
// The offline stand-in for docker.io/library/node:22-alpine (see
// packages/server/src/testing/standin.ts), for hosts without Docker Hub.
//
//   node scripts/standin-image.mjs build
//       build (or reuse) the cached OCI layout and print its path
//   node scripts/standin-image.mjs serve [--url-file FILE]
//       start a loopback registry holding it as library/node:22-alpine, print
//       (and write to FILE) its URL for `--registry-mirror docker.io=URL`, and
//       keep serving until SIGTERM/SIGINT, then stop it and remove its storage.
//
// Needs the build (`npm run build`) and, for a first build, mmdebstrap and the
// npm registry; `serve` also needs docker-registry and skopeo
// (`scripts/setup.sh --with-test-tools` installs them).
import { existsSync, writeFileSync } from "node:fs";

const mod = new URL("../packages/server/dist/testing/standin.js", import.meta.url);
if (!existsSync(mod)) {
  console.error("standin-image: build first (npm run build)");
  process.exit(1);
}
const { buildNodeStandinImage, startStandinRegistry } = await import(mod.href);

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === "build") {
  console.log(await buildNodeStandinImage());
} else if (cmd === "serve") {
  const i = rest.indexOf("--url-file");
  const urlFile = i >= 0 ? rest[i + 1] : undefined;
  const registry = await startStandinRegistry();
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await registry.stop();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("SIGHUP", stop);
  if (urlFile) writeFileSync(urlFile, registry.url + "\n");
  console.log(registry.url);
  setInterval(() => {}, 1 << 30);
} else {
  console.error("usage: node scripts/standin-image.mjs build | serve [--url-file FILE]");
  process.exit(2);
}
