// The package is `"type": "module"`, so the CommonJS build needs its own
// package.json saying otherwise, or Node would load dist/cjs/*.js as ESM.
import { mkdirSync, writeFileSync } from "node:fs";
const dir = new URL("../dist/cjs/", import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL("package.json", dir), '{ "type": "commonjs" }\n');
