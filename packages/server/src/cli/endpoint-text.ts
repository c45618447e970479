// cli/endpoint-text.ts — one endpoint in words, for `sandbox get` and `service get`.
import type { Endpoint } from "@nimbus/nimbus";

/** The host listener when one is open (`publish: "host"`), else that the port is reachable through the proxy only. */
export function endpointText(ep: Endpoint): string {
  return ep.publish === "host"
    ? `${ep.name} ${ep.protocol}://${ep.host}:${ep.port}`
    : `${ep.name} ${ep.protocol} port ${ep.targetPort} (through the authenticated proxy only)`;
}
