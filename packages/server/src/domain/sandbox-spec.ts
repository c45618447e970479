/**
 * The validated shape of a sandbox spec (contract §4) as the domain sees it.
 * The API edge checks the wire JSON against a schema of the same shape.
 */
export interface ProcessSpec {
  argv?: string[];
  args?: string[];
  entrypoint?: string[];
  command?: string[];
  env?: string[];
  cwd?: string;
  user?: string;
  terminal?: boolean;
}

export interface ResourcesSpec {
  cpuCount?: number;
  memoryLimitBytes?: number;
  pidsLimit?: number;
  diskLimitBytes?: number;
}

export interface EgressRule {
  host: string;
  port: number;
  protocol: "tcp" | "http" | "https";
}

export interface PortSpec {
  name?: string;
  port: number;
  protocol?: "tcp" | "http";
}

export interface SandboxSpec {
  tenantId?: string;
  owner: { kind: "standalone"; displayName?: string } | { kind: "service"; serviceName?: string };
  backend: "container";
  root: { kind: "oci_image"; source: { kind: "reference"; reference: string } };
  process?: ProcessSpec;
  resources?: ResourcesSpec;
  network?: { egress?: EgressRule[] };
  ports?: PortSpec[];
}

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
