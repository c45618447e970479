// runtime/container/egress/ip.ts — running iproute2 and reading its JSON output.
// Goes through runtime/container/exec.ts (spawned on a pool thread, so the
// server is never forked). iproute2 rather than a netlink npm package: it is the
// maintained interface to the kernel's netlink and already a runtime dependency,
// while a netlink binding would be a new native dependency for a handful of calls
// per sandbox (attach is ~8 short commands, off the hot path).

import { runCommand } from "../exec.js";

const TIMEOUT_MS = 10_000;

/** `ip args...`; throws with ip's stderr on failure. */
export async function ip(args: string[]): Promise<string> {
  const r = await runCommand("ip", args, { timeoutMs: TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`ip ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** `ip args...` where failure is an answer (e.g. "no such device"): the exit code and stderr. */
export async function ipTry(args: string[]): Promise<{ ok: boolean; stderr: string }> {
  const r = await runCommand("ip", args, { timeoutMs: TIMEOUT_MS });
  return { ok: r.code === 0, stderr: r.stderr.trim() };
}

/** `ip` run inside the network namespace of `pid` (nsenter, so no named netns is needed). */
export async function ipInNetns(pid: number, args: string[]): Promise<string> {
  const r = await runCommand("nsenter", [`--net=/proc/${pid}/ns/net`, "ip", ...args], { timeoutMs: TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`ip ${args.join(" ")} in the netns of ${pid} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export interface LinkInfo {
  ifname: string;
  ifalias?: string;
  master?: string;
  operstate?: string;
}

/** All links of the host netns (`ip -j link show`). */
export async function listLinks(): Promise<LinkInfo[]> {
  return JSON.parse((await ip(["-j", "link", "show"])) || "[]") as LinkInfo[];
}
