import { test } from "node:test";
import assert from "node:assert/strict";
import { normaliseReference, parseReference } from "./reference.js";
import { ImageError } from "./errors.js";

const D = "sha256:" + "ab".repeat(32);

test("reference: Docker Hub short names are normalised", () => {
  const cases: Array<[string, string]> = [
    ["node:22", "docker.io/library/node:22"],
    ["node", "docker.io/library/node:latest"],
    ["library/node", "docker.io/library/node:latest"],
    ["bitnami/redis:7", "docker.io/bitnami/redis:7"],
    ["docker.io/node", "docker.io/library/node:latest"],
    ["index.docker.io/library/node:1", "docker.io/library/node:1"],
    ["ghcr.io/org/x@" + D, "ghcr.io/org/x@" + D],
    ["ghcr.io/org/x:v1@" + D, "ghcr.io/org/x:v1@" + D],
    ["localhost/app", "localhost/app:latest"],
    ["127.0.0.1:5000/a/b/c:t_1.2-x", "127.0.0.1:5000/a/b/c:t_1.2-x"],
    ["my-host:5000/app", "my-host:5000/app:latest"],
    ["a__b/c-d--e.f", "docker.io/a__b/c-d--e.f:latest"],
  ];
  for (const [input, want] of cases) assert.equal(normaliseReference(input), want, input);
});

test("reference: components are split out", () => {
  assert.deepEqual(parseReference("127.0.0.1:5000/x/y:1@" + D), {
    registry: "127.0.0.1:5000",
    repository: "x/y",
    tag: "1",
    digest: D,
  });
  assert.deepEqual(parseReference("busybox@" + D), {
    registry: "docker.io",
    repository: "library/busybox",
    tag: undefined,
    digest: D,
  });
});

test("reference: malformed references are invalid_reference", () => {
  for (const bad of [
    "",
    " node",
    "Node",
    "node:",
    "node:bad tag",
    "node@sha256:123",
    "node@md5:" + "a".repeat(32),
    "-node",
    "node-",
    "a//b",
    "ghcr.io/",
    "host:port/x",
    "ex_ample.com/x",
    "node:" + "a".repeat(129),
    "a".repeat(256),
    "docker.io/UPPER/x",
    "x/../y",
  ]) {
    assert.throws(
      () => parseReference(bad),
      (e: unknown) => e instanceof ImageError && e.kind === "invalid_reference",
      bad,
    );
  }
});
