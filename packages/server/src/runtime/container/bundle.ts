// runtime/container/bundle.ts — turning a ContainerSpec into an OCI bundle's config.json.
// Owns the per-container part of the config: process, hostname, namespaces (a new,
// empty network namespace per container: the runtime brings its `lo` up), resource
// limits, rlimits clamped to the server's own hard limits (root lacks
// CAP_SYS_RESOURCE on our hosts), and the /etc/hosts|hostname|resolv.conf binds.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ContainerSpec } from "../backend.js";
import { DEFAULT_CAPABILITIES, DEVICE_RULES, MASKED_PATHS, READONLY_PATHS, hardNofileLimit, standardMounts } from "./oci-defaults.js";
import { seccompProfile } from "./seccomp.js";

const CPU_PERIOD_US = 100_000;
const SHM_MAX_BYTES = 64 * 1024 * 1024;

export interface BundleOptions {
  /** Absolute cgroup path (see cgroups.ts). */
  cgroupsPath: string;
  /** Dir holding the generated hosts, hostname and resolv.conf files (the bundle dir). */
  etcDir: string;
  /** The host's static init binary, bound in as PID 1 when the spec asks for `init`. */
  initPath?: string;
}

/** Where the init is bound: /dev is the container's own tmpfs, so nothing lands in its root filesystem. */
export const INIT_DESTINATION = "/dev/init";

/** The egress DNS a container with `network.egress` resolves through (the bridge's gateway). */
export interface BundleNetwork {
  nameserver: string;
}

/** Read once: the server's own limits do not change while it runs, and every create needs them. */
let serverRlimits: { type: string; hard: number; soft: number }[] | undefined;

function rlimits(): { type: string; hard: number; soft: number }[] {
  if (serverRlimits) return serverRlimits;
  let hard: number | undefined;
  try {
    hard = hardNofileLimit(readFileSync("/proc/self/limits", "utf8"));
  } catch {
    return (serverRlimits = []);
  }
  const nofile = Math.min(hard ?? 1_048_576, 1_048_576);
  return (serverRlimits = [{ type: "RLIMIT_NOFILE", hard: nofile, soft: nofile }]);
}

/** What a process in a sandbox is started as: the main process and every exec. */
export interface OciProcessInput {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids?: number[] };
  terminal: boolean;
}

/**
 * The OCI process object, the same for the main process (config.json) and
 * every exec (`<runtime> exec --process`): no_new_privs, so a setuid binary
 * cannot raise a non-root user's privileges; the same capability sets; the
 * same rlimits. The runtime applies the container's seccomp filter and cgroup
 * to an exec itself, from the container's config.
 */
export function ociProcess(proc: OciProcessInput): Record<string, unknown> {
  const isRoot = proc.user.uid === 0;
  const caps = DEFAULT_CAPABILITIES;
  return {
    terminal: proc.terminal,
    user: { uid: proc.user.uid, gid: proc.user.gid, additionalGids: proc.user.additionalGids ?? [] },
    args: proc.args,
    env: proc.env,
    cwd: proc.cwd || "/",
    capabilities: {
      bounding: caps,
      // A non-root user gets no effective capabilities, as with Docker and podman.
      effective: isRoot ? caps : [],
      permitted: isRoot ? caps : [],
      inheritable: [],
      ambient: [],
    },
    rlimits: rlimits(),
    noNewPrivileges: true,
    oomScoreAdj: 0,
  };
}

export function ociConfig(spec: ContainerSpec, options: BundleOptions): Record<string, unknown> {
  const { process: proc, resources } = spec;
  const etcBind = (name: string, dest: string) => ({
    destination: dest,
    type: "bind",
    source: join(options.etcDir, name),
    options: ["bind", "nosuid", "nodev", "noexec"],
  });
  return {
    ociVersion: "1.0.2",
    // catatonit runs the process as its child (`--` ends its own options) and forwards every signal to it.
    process: ociProcess(spec.init && options.initPath ? { ...proc, args: [INIT_DESTINATION, "--", ...proc.args] } : proc),
    root: { path: "rootfs", readonly: false },
    hostname: spec.hostname,
    mounts: [
      ...standardMounts(Math.min(SHM_MAX_BYTES, resources.memoryLimitBytes)),
      etcBind("hosts", "/etc/hosts"),
      etcBind("hostname", "/etc/hostname"),
      etcBind("resolv.conf", "/etc/resolv.conf"),
      ...(spec.readonlyFiles ?? []).map((f) => ({
        destination: f.destination,
        type: "bind",
        source: f.source,
        options: ["bind", "ro", "nosuid", "nodev", "noexec"],
      })),
      // Executable, unlike the files above: it is the init.
      ...(spec.init && options.initPath
        ? [{ destination: INIT_DESTINATION, type: "bind", source: options.initPath, options: ["bind", "ro", "nosuid", "nodev"] }]
        : []),
    ],
    annotations: spec.annotations ?? {},
    linux: {
      namespaces: ["pid", "mount", "ipc", "uts", "cgroup", "network"].map((type) => ({ type })),
      cgroupsPath: options.cgroupsPath,
      resources: {
        devices: DEVICE_RULES,
        // swap = limit means memory+swap may not exceed the limit: no swapping.
        memory: { limit: resources.memoryLimitBytes, swap: resources.memoryLimitBytes },
        pids: { limit: resources.pidsLimit },
        cpu: { quota: Math.max(1000, Math.round(resources.cpuCount * CPU_PERIOD_US)), period: CPU_PERIOD_US },
      },
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
      seccomp: seccompProfile(),
    },
  };
}

/** hosts/hostname/resolv.conf: loopback-only (no DNS server to name), or naming the egress DNS. */
export function etcFiles(hostname: string, network?: BundleNetwork): Record<string, string> {
  return {
    hosts: `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`,
    hostname: `${hostname}\n`,
    "resolv.conf": network
      ? `# The server's egress DNS: names this sandbox's rules allow resolve, every other name is NXDOMAIN.\nnameserver ${network.nameserver}\noptions timeout:2 attempts:2\n`
      : "# This sandbox has no network beyond loopback, so there is no DNS server.\n",
  };
}

/** [path, content] of every file of the bundle: config.json and the /etc files. */
export function bundleFiles(bundleDir: string, spec: ContainerSpec, cgroupsPath: string, network?: BundleNetwork, initPath?: string): Array<[string, string]> {
  const config = ociConfig(spec, { cgroupsPath, etcDir: bundleDir, ...(initPath ? { initPath } : {}) });
  return [
    ...Object.entries(etcFiles(spec.hostname, network)).map(([name, text]): [string, string] => [join(bundleDir, name), text]),
    [join(bundleDir, "config.json"), JSON.stringify(config)],
  ];
}

/** The cgroupsPath and annotations recorded in a bundle, for delete/list after a restart. */
export function readBundleRecord(configJson: string): {
  cgroupsPath?: string;
  annotations: Record<string, string>;
  user?: { uid: number; gid: number };
  env: string[];
} {
  const parsed = JSON.parse(configJson) as {
    annotations?: Record<string, string>;
    linux?: { cgroupsPath?: string };
    process?: { user?: { uid?: number; gid?: number }; env?: unknown[] };
  };
  const u = parsed.process?.user;
  const user = typeof u?.uid === "number" && typeof u.gid === "number" ? { uid: u.uid, gid: u.gid } : undefined;
  const env = (parsed.process?.env ?? []).filter((e): e is string => typeof e === "string");
  return { cgroupsPath: parsed.linux?.cgroupsPath, annotations: parsed.annotations ?? {}, user, env };
}
