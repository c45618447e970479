/**
 * Test images built offline and cached under /var/cache/nimbus-fixtures/<version>/:
 * `busybox` (busybox-static root, multi-platform index with a decoy for the
 * other arch), `whiteout` (two layers: plain tar, then zstd with a whiteout
 * and an opaque dir), `debian-minbase` (mmdebstrap, for benchmarks). Each
 * is an OCI layout next to the source tree it was made from; `pushFixture`
 * copies one into a registry with skopeo.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync, copyFileSync, symlinkSync, linkSync, chownSync, chmodSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { tarArchive } from "../images/tar-writer.js";
import { LayoutWriter, OCI_LAYER } from "./oci-layout.js";

export const FIXTURE_VERSION = "v1";
export const FIXTURE_CACHE = process.env.NIMBUS_FIXTURE_CACHE ?? "/var/cache/nimbus-fixtures";
export const FIXTURE_TAG = "latest";
const FIXED_MTIME = "@1700000000";

export function hostOciArch(): string {
  return process.arch === "arm64" ? "arm64" : "amd64";
}

/** Builds once into a temp dir, then renames into the cache; returns `<cache>/<name>/layout`. */
export function cached(name: string, build: (dir: string) => void): string {
  const final = join(FIXTURE_CACHE, FIXTURE_VERSION, name);
  if (!existsSync(join(final, "layout", "index.json"))) {
    const tmp = `${final}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      build(tmp);
      rmSync(final, { recursive: true, force: true });
      renameSync(tmp, final);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  }
  return join(final, "layout");
}

/** The source tree a layout was built from (for file-by-file comparison). */
export function fixtureRootfs(layoutDir: string): string {
  return join(dirname(layoutDir), "rootfs");
}

function tarTree(root: string): Buffer {
  execFileSync("find", [root, "-exec", "touch", "-h", "-d", FIXED_MTIME, "{}", "+"]);
  return execFileSync(
    "tar",
    ["--format=posix", "--pax-option=delete=atime,delete=ctime", "--numeric-owner", "--sort=name", "--mtime", FIXED_MTIME, "-C", root, "-cf", "-", "."],
    { maxBuffer: 1 << 30 },
  );
}

function busyboxTree(root: string): void {
  for (const d of ["bin", "etc", "tmp", "home/user", "usr/bin", "var/empty", "root"]) mkdirSync(join(root, d), { recursive: true });
  copyFileSync("/bin/busybox", join(root, "bin/busybox"));
  chmodSync(join(root, "bin/busybox"), 0o755);
  const applets = execFileSync("/bin/busybox", ["--list"])
    .toString()
    .split("\n")
    .filter((a) => a && a !== "busybox");
  for (const a of applets) symlinkSync("busybox", join(root, "bin", a));
  linkSync(join(root, "bin/busybox"), join(root, "usr/bin/busybox-hardlink"));
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\nuser:x:1000:\n");
  writeFileSync(join(root, "etc/hostname"), "nimbus\n");
  chmodSync(join(root, "tmp"), 0o1777);
  chmodSync(join(root, "var/empty"), 0o700);
  chmodSync(join(root, "root"), 0o700);
  writeFileSync(join(root, "usr/bin/suid-tool"), "#!/bin/sh\necho suid\n");
  chmodSync(join(root, "usr/bin/suid-tool"), 0o4755);
  writeFileSync(join(root, "usr/bin/sgid-tool"), "#!/bin/sh\n");
  chmodSync(join(root, "usr/bin/sgid-tool"), 0o2711);
  writeFileSync(join(root, "home/user/notes.txt"), "owned by user\n");
  chownSync(join(root, "home/user"), 1000, 1000);
  chownSync(join(root, "home/user/notes.txt"), 1000, 1000);
  symlinkSync("/etc/hostname", join(root, "etc/hostname-abs"));
  const deep = join(root, "usr/share", "d".repeat(60), "e".repeat(60));
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, "long-path-file.txt"), "pax path\n");
}

const BUSYBOX_CONFIG = {
  Cmd: ["sh"],
  Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  WorkingDir: "/",
  ExposedPorts: { "8080/tcp": {} },
  Labels: { "org.nimbus.fixture": "busybox" },
};

/** busybox-static root; an index with linux/<host arch> and a decoy for the other arch. */
export async function buildBusyboxImage(): Promise<string> {
  return cached("busybox", (dir) => {
    const root = join(dir, "rootfs");
    busyboxTree(root);
    const tar = tarTree(root);
    const w = new LayoutWriter(join(dir, "layout"));
    const real = w.image({ architecture: hostOciArch(), layers: [{ tar, blob: gzipSync(tar), mediaType: `${OCI_LAYER}+gzip` }], config: BUSYBOX_CONFIG });
    const decoyTar = tarArchive([{ path: "WRONG-ARCH", type: "file", data: "decoy\n", mtime: 1_700_000_000 }]);
    const decoy = w.image({
      architecture: hostOciArch() === "amd64" ? "arm64" : "amd64",
      layers: [{ tar: decoyTar, blob: gzipSync(decoyTar), mediaType: `${OCI_LAYER}+gzip` }],
      config: BUSYBOX_CONFIG,
    });
    w.finish(w.index([decoy, real]), FIXTURE_TAG);
  });
}

/** Two layers: a plain tar, then a zstd layer that deletes etc/gone and makes data/ opaque. */
export async function buildWhiteoutImage(): Promise<string> {
  return cached("whiteout", (dir) => {
    const t = 1_700_000_000;
    const lower = tarArchive([
      { path: "etc/", type: "dir", mode: 0o755, mtime: t },
      { path: "etc/keep", type: "file", data: "kept\n", mtime: t },
      { path: "etc/gone", type: "file", data: "deleted later\n", mtime: t },
      { path: "data/", type: "dir", mode: 0o755, mtime: t },
      { path: "data/lower1", type: "file", data: "1\n", mtime: t },
      { path: "data/sub/", type: "dir", mode: 0o755, mtime: t },
      { path: "data/sub/lower2", type: "file", data: "2\n", mtime: t },
    ]);
    const upper = tarArchive([
      { path: "etc/", type: "dir", mode: 0o755, mtime: t },
      { path: "etc/.wh.gone", type: "file", mtime: t },
      { path: "data/", type: "dir", mode: 0o755, mtime: t },
      { path: "data/.wh..wh..opq", type: "file", mtime: t },
      { path: "data/upper", type: "file", data: "u\n", mtime: t },
    ]);
    const zst = spawnSync("zstd", ["-q", "-c", "-3"], { input: upper, maxBuffer: 1 << 26 });
    if (zst.status !== 0) throw new Error(`zstd failed: ${zst.stderr}`);
    const w = new LayoutWriter(join(dir, "layout"));
    const m = w.image({
      architecture: hostOciArch(),
      config: { Cmd: ["/bin/sh"] },
      layers: [
        { tar: lower, blob: lower, mediaType: OCI_LAYER },
        { tar: upper, blob: zst.stdout, mediaType: `${OCI_LAYER}+zstd` },
      ],
    });
    w.finish(m, FIXTURE_TAG);
  });
}

/**
 * A Debian bookworm minbase root made by mmdebstrap (from Debian's mirror;
 * `extraArgs` such as `--include=…` or hooks) as a one-layer OCI layout at
 * `<dir>/layout`.
 */
export function writeDebianLayout(dir: string, extraArgs: string[] = []): void {
  const tarPath = join(dir, "rootfs.tar");
  execFileSync("mmdebstrap", ["--quiet", "--variant=minbase", ...extraArgs, "bookworm", tarPath], { stdio: ["ignore", "ignore", "pipe"] });
  const tar = readFileSync(tarPath);
  rmSync(tarPath);
  const w = new LayoutWriter(join(dir, "layout"));
  const m = w.image({
    architecture: hostOciArch(),
    config: { Cmd: ["bash"], Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] },
    layers: [{ tar, blob: gzipSync(tar), mediaType: `${OCI_LAYER}+gzip` }],
  });
  w.finish(m, FIXTURE_TAG);
}

/** A Debian bookworm minbase root (mmdebstrap; needs the Debian mirror). Takes a minute or two once. */
export async function buildDebianImage(): Promise<string> {
  return cached("debian-minbase", (dir) => writeDebianLayout(dir));
}

/**
 * Writes an OCI layout at `dir` with the bottom layer of `base` (the busybox
 * fixture's layout) and `top` (tar entries) as a second layer, so the image
 * shares its bottom layer with `busybox`. `config` defaults to busybox's.
 */
export function writeBusyboxWithTopLayer(
  base: string,
  dir: string,
  top: Parameters<typeof tarArchive>[0],
  config: Record<string, unknown> = BUSYBOX_CONFIG,
): void {
  const blobs = join(base, "blobs", "sha256");
  const read = (digest: string) => readFileSync(join(blobs, digest.slice(7)));
  const topDigest = JSON.parse(readFileSync(join(base, "index.json"), "utf8")).manifests[0].digest as string;
  const index = JSON.parse(read(topDigest).toString()) as { manifests: Array<{ digest: string; platform: { architecture: string } }> };
  const manifest = JSON.parse(read(index.manifests.find((m) => m.platform.architecture === hostOciArch())!.digest).toString()) as {
    layers: Array<{ digest: string; mediaType: string }>;
  };
  const blob = read(manifest.layers[0]!.digest);
  const extra = tarArchive(top);
  const w = new LayoutWriter(dir);
  const m = w.image({
    architecture: hostOciArch(),
    config,
    layers: [
      { blob, tar: gunzipSync(blob), mediaType: manifest.layers[0]!.mediaType },
      { blob: gzipSync(extra), tar: extra, mediaType: `${OCI_LAYER}+gzip` },
    ],
  });
  w.finish(m, FIXTURE_TAG);
}

/** busybox's layer plus a small second layer: shares its bottom layer with `busybox`. */
export async function buildBusyboxPlusImage(): Promise<string> {
  const base = await buildBusyboxImage();
  return cached("busybox-plus", (dir) =>
    writeBusyboxWithTopLayer(base, join(dir, "layout"), [
      { path: "extra/", type: "dir", mode: 0o755, mtime: 1_700_000_000 },
      { path: "extra/file", type: "file", data: "plus\n", mtime: 1_700_000_000 },
    ]),
  );
}

export interface PushOptions {
  /** `v2s2` converts to Docker schema 2 media types. */
  format?: "oci" | "v2s2";
  /** Copy every platform of an index (default true). */
  all?: boolean;
  /** Credentials for a registry that demands them (given to skopeo in an auth file, not on its command line). */
  creds?: { username: string; password: string };
}

/** Pushes a layout to `registryHost` as `name:tag` with skopeo. */
export function pushFixture(registryHost: string, layoutDir: string, name: string, tag: string, opts: PushOptions = {}): void {
  const args = ["copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests"];
  if (opts.all ?? true) args.push("--all");
  if (opts.format === "v2s2") args.splice(args.indexOf("--preserve-digests"), 1, "--format", "v2s2");
  let authDir: string | undefined;
  if (opts.creds) {
    authDir = mkdtempSync(join(tmpdir(), "nimbus-push-auth-"));
    const auth = Buffer.from(`${opts.creds.username}:${opts.creds.password}`).toString("base64");
    writeFileSync(join(authDir, "auth.json"), JSON.stringify({ auths: { [registryHost]: { auth } } }), { mode: 0o600 });
    args.push("--dest-authfile", join(authDir, "auth.json"));
  }
  args.push(`oci:${layoutDir}:${FIXTURE_TAG}`, `docker://${registryHost}/${name}:${tag}`);
  const r = spawnSync("skopeo", args, { encoding: "utf8" });
  if (authDir) rmSync(authDir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`skopeo ${args.join(" ")} failed: ${r.stderr}`);
}

/** Converts a layout into an `oci-archive` or `docker-archive` tarball with skopeo. */
export function archiveFixture(layoutDir: string, kind: "oci-archive" | "docker-archive", file: string, name: string): void {
  const dest = kind === "oci-archive" ? `oci-archive:${file}:${name}` : `docker-archive:${file}:${name}`;
  const r = spawnSync("skopeo", ["copy", "--quiet", `oci:${layoutDir}:${FIXTURE_TAG}`, dest], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`skopeo copy to ${dest} failed: ${r.stderr}`);
}
