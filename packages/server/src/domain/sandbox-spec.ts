/**
 * The sandbox spec (contract §4) as the domain sees it. The wire types come
 * from the SDK, so client and server share one definition; the API edge
 * checks incoming JSON against a schema of the same shape.
 */
import type { ProcessSpec, ResourceSpec, PortSpec, SandboxSpec } from "@nimbus/nimbus";

export type { ProcessSpec, PortSpec, SandboxSpec };
export type ResourcesSpec = ResourceSpec;

export type SandboxProfile = "worker" | "desktop";

/** Per-sandbox limits after clamping to the tenant quota. */
export interface ResolvedResources {
  cpuCount: number;
  memoryLimitBytes: number;
  pidsLimit: number;
  diskLimitBytes: number;
}

export const TENANT_QUOTA = {
  cpuCount: 1,
  memoryLimitBytes: 512 * 1024 * 1024,
  diskLimitBytes: 10 * 1024 * 1024 * 1024,
  pidsLimit: 1024,
  activeSandboxes: 64,
} as const;

export function clampResources(r: ResourcesSpec | undefined): ResolvedResources {
  const clamp = (v: number | undefined, max: number) => (v === undefined ? max : Math.min(v, max));
  return {
    cpuCount: clamp(r?.cpuCount, TENANT_QUOTA.cpuCount),
    memoryLimitBytes: clamp(r?.memoryLimitBytes, TENANT_QUOTA.memoryLimitBytes),
    pidsLimit: clamp(r?.pidsLimit, TENANT_QUOTA.pidsLimit),
    diskLimitBytes: clamp(r?.diskLimitBytes, TENANT_QUOTA.diskLimitBytes),
  };
}
