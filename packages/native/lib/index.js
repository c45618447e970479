// @nimbus/native — loads the compiled binding (build/Release/nimbus_native.node,
// built by `node-gyp rebuild` when npm installs this package) and says how to
// build it when it is missing, instead of a bare MODULE_NOT_FOUND.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const bindingPath = fileURLToPath(new URL("../build/Release/nimbus_native.node", import.meta.url));

let binding;
let loadError;
try {
  binding = require(bindingPath);
} catch (err) {
  loadError = err;
}

/** The binding, or an Error that names the command which builds it. */
export function loadNative() {
  if (binding) return binding;
  const err = new Error(
    `the nimbus native binding is not built (${bindingPath}): run \`npm rebuild @nimbus/native\` ` +
      `(needs python3, make and g++) — ${loadError?.message ?? "unknown error"}`,
  );
  err.code = "NIMBUS_NATIVE_MISSING";
  throw err;
}

export const MNT_DETACH = 2;
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const AT_REMOVEDIR = 0x200;
/** O_PATH (Node's fs.constants lacks it): resolve a name without opening the file for I/O. */
export const O_PATH = 0o10000000;
