/**
 * A real OCI registry for tests: Debian's `docker-registry` on 127.0.0.1
 * with storage in a temp dir, behind a small Node front that counts requests
 * and can demand HTTP Basic or the bearer-token challenge flow (its `/token`
 * endpoint issues tokens for Basic credentials). `stop()` kills the registry
 * and removes everything it wrote.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

/**
 * `basic` and `bearer` are checked by the Node front; `htpasswd` by the
 * registry itself (its htpasswd auth, a bcrypt file made with `htpasswd`), so
 * the front passes every request through.
 */
export interface RegistryAuth {
  scheme: "basic" | "bearer" | "htpasswd";
  username: string;
  password: string;
}

export interface TestRegistry {
  /** `http://127.0.0.1:PORT` of the front (auth, counting). */
  url: string;
  host: string;
  /** The registry itself, without auth (for pushing fixtures). */
  backendHost: string;
  /** `METHOD path` of every request the front saw. */
  requests: string[];
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${log()}`);
    // 401: up, and demanding its htpasswd credentials.
    const ok = await fetch(url).then(
      (r) => r.status === 200 || r.status === 401,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not become ready: ${log()}`);
}

export async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

function basicOk(req: IncomingMessage, auth: RegistryAuth): boolean {
  const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
  return req.headers.authorization === expected;
}

function front(backendPort: number, auth: RegistryAuth | undefined, requests: string[]): Server {
  const tokens = new Set<string>();
  let self = "";
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    self ||= `http://${req.headers.host}`;
    const url = new URL(req.url ?? "/", self);
    requests.push(`${req.method} ${url.pathname}`);
    if (auth?.scheme === "bearer" && url.pathname === "/token") {
      if (!basicOk(req, auth)) return res.writeHead(401, { "content-type": "application/json" }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      const token = randomBytes(12).toString("hex");
      tokens.add(token);
      return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token, expires_in: 300 }));
    }
    if (auth) {
      const allowed = auth.scheme === "basic" ? basicOk(req, auth) : tokens.has((req.headers.authorization ?? "").replace(/^Bearer /, ""));
      if (!allowed) {
        const repo = /^\/v2\/(.+)\/(manifests|blobs)\//.exec(url.pathname)?.[1];
        const challenge =
          auth.scheme === "basic"
            ? 'Basic realm="nimbus-test"'
            : `Bearer realm="${self}/token",service="nimbus-test"${repo ? `,scope="repository:${repo}:pull"` : ""}`;
        return res.writeHead(401, { "www-authenticate": challenge, "content-type": "application/json" }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      }
    }
    const headers = { ...req.headers };
    // The front's own credentials stop here; without them (htpasswd) the registry checks what was sent.
    if (auth) delete headers.authorization;
    const upstream = request({ host: "127.0.0.1", port: backendPort, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return server;
}

/** A bcrypt htpasswd file for one user; the password goes to `htpasswd` on stdin, not its command line. */
function writeHtpasswd(file: string, auth: RegistryAuth): void {
  const r = spawnSync("htpasswd", ["-i", "-B", "-c", file, auth.username], { input: auth.password, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`htpasswd failed (apt-get install apache2-utils): ${r.stderr || r.error?.message}`);
}

export async function startRegistry(opts: { auth?: RegistryAuth } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-registry-"));
  const port = await freePort();
  writeFileSync(
    join(dir, "config.yml"),
    [
      "version: 0.1",
      "log:",
      "  level: error",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      `  filesystem:`,
      `    rootdirectory: ${join(dir, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${randomBytes(8).toString("hex")}`,
      ...(opts.auth?.scheme === "htpasswd" ? ["auth:", "  htpasswd:", "    realm: nimbus-test", `    path: ${join(dir, "htpasswd")}`] : []),
    ].join("\n") + "\n",
  );
  if (opts.auth?.scheme === "htpasswd") writeHtpasswd(join(dir, "htpasswd"), opts.auth);
  let output = "";
  const child = spawn("/usr/bin/docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (c: Buffer) => {
    output += c.toString();
  });
  child.stderr!.on("data", (c: Buffer) => {
    output += c.toString();
  });
  const requests: string[] = [];
  const server = front(port, opts.auth?.scheme === "htpasswd" ? undefined : opts.auth, requests);
  const stop = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(`http://127.0.0.1:${port}/v2/`, child, () => output);
    const frontPort = await listen(server);
    return { url: `http://127.0.0.1:${frontPort}`, host: `127.0.0.1:${frontPort}`, backendHost: `127.0.0.1:${port}`, requests, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
