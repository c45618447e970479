// Shared by every benchmark: import server modules from the build when there
// is one, else from the TypeScript sources through tsx, so a bench runs both
// in CI (after `npm run build`) and while developing.
import { existsSync } from "node:fs";
import { join } from "node:path";

const serverDir = new URL("../../packages/server/", import.meta.url).pathname;
const useDist = existsSync(join(serverDir, "dist", "server.js"));
let tsxRegistered = false;

/** Where the server code comes from, for the report header. */
export const codeSource = useDist ? "packages/server/dist (run `npm run build` after changing the server)" : "packages/server/src through tsx";

/** Imports `packages/server/{dist,src}/<rel>` (rel without extension, e.g. "runtime/leak-check"). */
export async function loadServer(rel) {
  if (useDist) return import(join(serverDir, "dist", `${rel}.js`));
  if (!tsxRegistered) {
    const { register } = await import("tsx/esm/api");
    register();
    tsxRegistered = true;
  }
  return import(join(serverDir, "src", `${rel}.ts`));
}

/** `--name N` from argv as a number, else `fallback`. */
export function numberArg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]) || fallback;
}
