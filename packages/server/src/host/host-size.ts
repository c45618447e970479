/**
 * The machine's size, from which the default tenant ceilings are derived
 * (docs/security.md): memory, cores and the kernel's pid space.
 */
import { availableParallelism, totalmem } from "node:os";
import { readFileSync } from "node:fs";

export interface HostSize {
  memoryBytes: number;
  cpuCount: number;
  pidMax: number;
}

export function hostSize(): HostSize {
  let pidMax = 32_768;
  try {
    pidMax = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8").trim()) || pidMax;
  } catch {
    // not Linux: keep the kernel's historical default
  }
  return { memoryBytes: totalmem(), cpuCount: availableParallelism(), pidMax };
}
