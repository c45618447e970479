/**
 * A fake registry that serves an OCI layout read-only over plain HTTP on
 * 127.0.0.1, with knobs for failure tests: corrupt chosen blobs, answer 503
 * a number of times first, redirect blob requests to a second origin, or
 * never answer. It logs every request with its Authorization header.
 */
import { readFileSync, existsSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { listen } from "./registry.js";

export interface LayoutServerOptions {
  corrupt?: Set<string>;
  /** Answer 503 to the first N requests of each blob. */
  failFirst?: number;
  /** Redirect blob GETs to a second server (another origin). */
  redirectBlobs?: boolean;
  /** Never answer blob requests (for timeouts). */
  hangBlobs?: boolean;
}

export interface LayoutServer {
  url: string;
  host: string;
  log: Array<{ path: string; authorization: string | undefined; origin: "main" | "storage" }>;
  stop(): Promise<void>;
}

export async function serveLayout(layoutDir: string, opts: LayoutServerOptions = {}): Promise<LayoutServer> {
  const log: LayoutServer["log"] = [];
  const failures = new Map<string, number>();
  const index = JSON.parse(readFileSync(join(layoutDir, "index.json"), "utf8")) as {
    manifests: Array<{ digest: string; mediaType: string; annotations?: Record<string, string> }>;
  };
  const blob = (digest: string) => {
    const p = join(layoutDir, "blobs", "sha256", digest.slice(7));
    return existsSync(p) ? readFileSync(p) : undefined;
  };
  const tampered = (digest: string, bytes: Buffer) => {
    if (!opts.corrupt?.has(digest)) return bytes;
    const copy = Buffer.from(bytes);
    copy[copy.length - 20] = copy[copy.length - 20]! ^ 0x01;
    return copy;
  };
  const sendBlob = (res: ServerResponse, digest: string) => {
    const found = blob(digest);
    if (!found) return res.writeHead(404).end();
    const bytes = tampered(digest, found);
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length }).end(bytes);
  };
  const storage = createServer((req, res) => {
    log.push({ path: req.url ?? "", authorization: req.headers.authorization, origin: "storage" });
    sendBlob(res, (req.url ?? "").slice(1));
  });
  const storagePort = await listen(storage);
  const main = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "/";
    log.push({ path, authorization: req.headers.authorization, origin: "main" });
    if (path === "/v2/") return res.writeHead(200).end("{}");
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
    if (!m) return res.writeHead(404).end();
    const [, , kind = "", ref = ""] = m;
    if (kind === "manifests") {
      const desc = ref.startsWith("sha256:")
        ? { digest: ref, mediaType: "" }
        : index.manifests.find((d) => d.annotations?.["org.opencontainers.image.ref.name"] === ref);
      const bytes = desc && blob(desc.digest);
      if (!desc || !bytes) return res.writeHead(404).end();
      const mediaType = (JSON.parse(bytes.toString()) as { mediaType?: string }).mediaType ?? "application/vnd.oci.image.manifest.v1+json";
      return res.writeHead(200, { "content-type": mediaType, "docker-content-digest": desc.digest }).end(tampered(desc.digest, bytes));
    }
    if (opts.hangBlobs) return;
    const n = failures.get(ref) ?? 0;
    if (n < (opts.failFirst ?? 0)) {
      failures.set(ref, n + 1);
      return res.writeHead(503).end("busy");
    }
    if (opts.redirectBlobs) return res.writeHead(307, { location: `http://127.0.0.1:${storagePort}/${ref}` }).end();
    sendBlob(res, ref);
  });
  const port = await listen(main);
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    log,
    async stop() {
      for (const s of [main, storage]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    },
  };
}
