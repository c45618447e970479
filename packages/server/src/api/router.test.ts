import { test } from "node:test";
import assert from "node:assert/strict";
import { Router } from "./router.js";
import type { RouteDef } from "./route.js";

const def = (method: RouteDef["method"], path: string): RouteDef => ({
  method,
  path,
  access: "public",
  summary: path,
  tag: "t",
  responses: {},
  handler: () => undefined,
});

test("a final *name segment takes the rest of the path raw; fixed routes keep their exact segment count", () => {
  const proxy = def("GET", "/s/:name/proxy/*path");
  const start = def("POST", "/s/:name/start");
  const router = new Router([start, proxy]);
  assert.deepEqual(router.match("GET", "/s/web/proxy/a/b%2Fc/").params, { name: "web", path: "a/b%2Fc/" });
  assert.deepEqual(router.match("GET", "/s/web/proxy").params, { name: "web", path: "" });
  assert.deepEqual(router.match("GET", "/s/web/proxy/").params, { name: "web", path: "" });
  assert.equal(router.match("POST", "/s/web/start").def, start);
  assert.throws(() => router.match("POST", "/s/web/start/more"), /no route/);
  assert.throws(() => router.match("POST", "/s/web/proxy/x"), /not supported/);
});
