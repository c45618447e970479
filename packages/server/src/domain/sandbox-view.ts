/**
 * The wire resource of a sandbox (contract §4). Launch inputs are never
 * echoed: argv/entrypoint/command/env come back only as value counts, env
 * under the name `environment`. Everything else is derived from the record.
 */
import type { Redacted, RedactedProcess, Sandbox, SandboxStatus } from "@nimbus/nimbus";
import type { SandboxRow } from "../store/sandbox-store.js";
import { resourceMetadata } from "./resource-metadata.js";
import { CONDITION_REASON, TERMINAL_STATES, statusFields } from "./sandbox-state.js";

const redact = (v: unknown[] | undefined): Redacted | undefined => (v === undefined ? undefined : { redacted: true, valueCount: v.length });

export function sandboxView(row: SandboxRow): Sandbox {
  const spec = row.spec;
  const p = spec.process ?? {};
  const state = row.lifecycleState;
  const derived = statusFields(state);
  const process: RedactedProcess = {
    argv: redact(p.argv ?? p.args) ?? { redacted: true, valueCount: 0 },
    environment: redact(p.env) ?? { redacted: true, valueCount: 0 },
    cwd: p.cwd ?? "/",
    terminal: p.terminal ?? false,
  };
  if (p.entrypoint) process.entrypoint = redact(p.entrypoint);
  if (p.command) process.command = redact(p.command);
  if (p.user !== undefined) process.user = p.user;
  if (p.init) process.init = true;
  if (p.closableStdin) process.closableStdin = true;
  const sandbox: Sandbox["spec"]["sandbox"] = { tenantId: row.tenantId, owner: spec.owner, backend: spec.backend, root: spec.root, process };
  if (spec.resources) sandbox.resources = spec.resources;
  if (spec.network) sandbox.network = spec.network;
  if (spec.ports) sandbox.ports = spec.ports;
  if (spec.lifetime) sandbox.lifetime = spec.lifetime;

  const status: SandboxStatus = {
    lifecycleState: state,
    readiness: derived.readiness,
    health: derived.health,
    backend: spec.backend,
    endpoints: row.endpoints,
    conditions: [
      {
        type: "Ready",
        status: derived.ready ? "True" : "False",
        reason: CONDITION_REASON[state],
        message: row.message ?? (derived.ready ? "the sandbox process is running" : `the sandbox is ${state}`),
        observedGeneration: row.generation,
        lastTransitionTime: row.stateChangedAt,
      },
    ],
    phases: row.phases,
  };
  if (row.exitCode !== null) status.exitCode = row.exitCode;
  if (row.reason !== null) status.reason = row.reason;
  if (row.imageDigest !== null) status.imageDigest = row.imageDigest;
  if (row.expiresAt !== null) status.expiresAt = row.expiresAt;
  // Only while it can still expire: once stopped, an idle deadline means nothing.
  if (row.idleExpiresAt !== null && !TERMINAL_STATES.includes(state)) status.idleExpiresAt = row.idleExpiresAt;

  return {
    metadata: { ...resourceMetadata(row), labels: row.labels },
    spec: { profile: row.profile, sandbox },
    status,
  };
}
