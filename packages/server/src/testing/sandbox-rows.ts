/**
 * Sandbox records for tests that drive the store (or a domain piece over it)
 * without a runtime: what a create would have written, in a state the test
 * picks.
 */
import type { SandboxSpec } from "@nimbus/nimbus";
import type { NewSandboxRow } from "../store/sandbox-store.js";

/** A standalone busybox container's spec. */
export const BUSYBOX_ROW_SPEC: SandboxSpec = {
  owner: { kind: "standalone" },
  backend: "container",
  root: { kind: "oci_image", source: { kind: "reference", reference: "busybox" } },
};

/** Tenant `t1`'s sandbox `id`, created, updated and last changed at `at`; `overrides` win. */
export function sandboxRow(id: string, at: string, overrides: Partial<NewSandboxRow> = {}): NewSandboxRow {
  return {
    tenantId: "t1",
    id,
    generation: 1,
    createdAt: at,
    updatedAt: at,
    labels: {},
    profile: "worker",
    spec: BUSYBOX_ROW_SPEC,
    serviceName: null,
    lifecycleState: "starting",
    stateChangedAt: at,
    reason: null,
    message: null,
    exitCode: null,
    phases: {},
    imageDigest: null,
    endpoints: [],
    ...overrides,
  };
}
