// user-ids: only decimal ids in 0..4294967294 pass, at the API (checkUserSpec,
// execUser) and when an image's own User or /etc/passwd names an id
// (resolveUser), so no id can wrap to root on the way to the runtime.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_ID, checkUserSpec, parseId } from "./user-ids.js";
import { execUser } from "./sandbox-exec.js";
import { resolveProcess } from "./process-resolve.js";

const refused = (fn: () => unknown, field: string) => assert.throws(fn, (e: any) => e.code === "op.invalid_input" && e.detail?.field === field);

test("parseId takes 0..4294967294 in canonical decimal only", () => {
  assert.equal(parseId("0", "f", "uid"), 0);
  assert.equal(parseId("1000", "f", "uid"), 1000);
  assert.equal(parseId(String(MAX_ID), "f", "gid"), 4294967294);
  for (const bad of ["4294967295", "4294967296", "99999999999", "-1", "+1", "1e3", "0x10", "01", "", " 1", "1.0"]) refused(() => parseId(bad, "f", "uid"), "f");
});

test("checkUserSpec checks numeric parts and leaves names to the image", () => {
  for (const ok of [undefined, "root", "app:staff", "1000", "1000:1000", "app:1000", "0:0"]) checkUserSpec(ok, "spec.process.user");
  for (const bad of ["4294967296", "0:4294967296", "app:-1", "1e20", "0x0", "1:2:3"])
    refused(() => checkUserSpec(bad, "spec.process.user"), "spec.process.user");
});

test("execUser: numeric uid[:gid], gid 0 by default, nothing else", () => {
  assert.deepEqual(execUser(undefined), { uid: 0, gid: 0 });
  assert.deepEqual(execUser("1000"), { uid: 1000, gid: 0 });
  assert.deepEqual(execUser("1000:1001"), { uid: 1000, gid: 1001 });
  for (const bad of ["4294967296", "1000:4294967296", "", ":1", "1:2:3", "app"]) refused(() => execUser(bad), "user");
});

test("an image whose User or /etc/passwd holds a wrapping id fails instead of running as root", () => {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-user-ids-"));
  try {
    mkdirSync(join(dir, "etc"));
    writeFileSync(join(dir, "etc/passwd"), "root:x:0:0::/root:/bin/sh\nwrap:x:4294967296:0::/:/bin/sh\nwrapgid:x:1000:4294967296::/:/bin/sh\n");
    const image = { entrypoint: null, cmd: ["sh"], env: [], workingDir: "", user: "4294967296" };
    refused(() => resolveProcess(image, {}, [dir]), "spec.process.user");
    refused(() => resolveProcess({ ...image, user: "wrap" }, {}, [dir]), "spec.process.user");
    refused(() => resolveProcess({ ...image, user: "wrapgid" }, {}, [dir]), "spec.process.user");
    assert.deepEqual(resolveProcess({ ...image, user: "root" }, {}, [dir]).user, { uid: 0, gid: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
