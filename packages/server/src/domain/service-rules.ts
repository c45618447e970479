/**
 * A service definition's rules beyond the edge schema (contract §6): the
 * tenant matches the route, labels are valid, a sandbox backend carries a
 * sandbox spec owned by this service (sandbox-rules.ts) with unique ports and
 * a probe on a declared port, and a declared backend (builtIn, external) has
 * no sandbox and a credential-free endpoint (service-backend.ts).
 */
import type { ReadinessProbe } from "@nimbus/nimbus";
import { invalidInput } from "./errors.js";
import { assertLabels } from "./labels.js";
import { checkDeclaredBackend } from "./service-backend.js";
import type { SandboxSpec } from "./sandbox-spec.js";
import { checkSandboxSpec } from "./sandbox-rules.js";
import type { ServiceSpec } from "./services.js";

/** A service definition as the edge parsed it (the route schema checks the shapes; these are the rules beyond). */
export interface ServiceDefinitionBody {
  metadata: { tenantId?: string; name: string; generation?: number; labels?: Record<string, string> };
  spec: {
    backend: { kind: string; sandbox?: unknown; [field: string]: unknown };
    readinessProbe?: ReadinessProbe;
    restartPolicy?: string;
    maxRestarts?: number;
  };
}

/** The contract's rules beyond the schema; returns the spec as the domain sees it. */
export function checkServiceBody(body: ServiceDefinitionBody, tenantId: string): ServiceSpec {
  const { metadata, spec } = body;
  if (metadata.tenantId !== undefined && metadata.tenantId !== tenantId) {
    throw invalidInput(`metadata.tenantId \`${metadata.tenantId}\` does not match the route tenant \`${tenantId}\``, { field: "metadata.tenantId" });
  }
  if (metadata.labels) assertLabels(metadata.labels, "metadata.labels");
  const backend = spec.backend;
  const probe = spec.readinessProbe;
  if (backend.kind === "sandbox") {
    const extra = Object.keys(backend).find((k) => k !== "kind" && k !== "sandbox");
    if (extra !== undefined)
      throw invalidInput(`unknown field \`spec.backend.${extra.slice(0, 64)}\` in body`, { field: `spec.backend.${extra.slice(0, 64)}`, location: "body" });
    if (!backend.sandbox)
      throw invalidInput("missing required field `spec.backend.sandbox` in body: a sandbox backend needs the sandbox spec to launch", {
        field: "spec.backend.sandbox",
      });
    const sandbox = backend.sandbox as SandboxSpec;
    checkSandboxSpec(sandbox, "service");
    if (sandbox.owner.kind === "service" && sandbox.owner.serviceName !== undefined && sandbox.owner.serviceName !== metadata.name) {
      throw invalidInput(
        `spec.backend.sandbox.owner.serviceName \`${sandbox.owner.serviceName.slice(0, 64)}\` must be the service's name \`${metadata.name}\` (or left out)`,
        { field: "spec.backend.sandbox.owner.serviceName" },
      );
    }
    const ports = sandbox.ports ?? [];
    ports.forEach((p, i) => {
      if (ports.findIndex((q) => q.port === p.port) !== i)
        throw invalidInput(`port ${p.port} is listed twice in spec.backend.sandbox.ports`, { field: `spec.backend.sandbox.ports.${i}.port` });
      const name = p.name ?? `port-${p.port}`;
      if (ports.findIndex((q) => (q.name ?? `port-${q.port}`) === name) !== i)
        throw invalidInput(`port name \`${name}\` is used twice in spec.backend.sandbox.ports`, { field: `spec.backend.sandbox.ports.${i}.name` });
    });
    if (probe) {
      if ((probe.http === undefined) === (probe.tcp === undefined)) {
        throw invalidInput("spec.readinessProbe must have exactly one of `http` ({path, port}) or `tcp` ({port})", { field: "spec.readinessProbe" });
      }
      if (probe.http && !ports.some((p) => p.port === probe.http!.port)) {
        throw invalidInput(`spec.readinessProbe.http.port ${probe.http.port} is not declared: add it to spec.backend.sandbox.ports`, {
          field: "spec.readinessProbe.http.port",
        });
      }
    }
  } else if (backend.kind === "builtIn" || backend.kind === "external") {
    if (backend.sandbox !== undefined)
      throw invalidInput(`a ${backend.kind} backend has no \`sandbox\`; use kind \`sandbox\` to run one`, { field: "spec.backend.sandbox" });
    if (probe) throw invalidInput(`spec.readinessProbe needs a sandbox backend: a ${backend.kind} service is only declared`, { field: "spec.readinessProbe" });
    checkDeclaredBackend(backend);
  } else {
    throw invalidInput(`spec.backend.kind \`${String(backend.kind).slice(0, 40)}\` is unknown; use sandbox, builtIn or external`, {
      field: "spec.backend.kind",
    });
  }
  return spec as ServiceSpec;
}
