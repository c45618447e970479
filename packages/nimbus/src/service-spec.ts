/**
 * The common service: one OCI image run in a sandbox the service owns. The
 * builder writes the contract's nested spec once, so a script and the CLI
 * say only what differs (image, process, ports, policy).
 */
import type { PortSpec, ProcessSpec } from "./types/sandbox.js";
import type { ReadinessProbe, RestartPolicy, ServiceSpec } from "./types/service.js";

/**
 * What differs between image services; every field but `image` may be left out.
 *
 * @example
 * const input: ImageServiceInput = { image: "busybox", process: { argv: ["httpd", "-f", "-p", "8080"] }, ports: [{ port: 8080, protocol: "http" }] };
 */
export interface ImageServiceInput {
  /** An OCI image reference, e.g. `docker.io/library/busybox:latest`. */
  image: string;
  /** @default the image's own entrypoint and command */
  process?: ProcessSpec;
  ports?: PortSpec[];
  /** @default "on_failure" (the server's) */
  restartPolicy?: RestartPolicy;
  /** @default 5 (the server's) */
  maxRestarts?: number;
  readinessProbe?: ReadinessProbe;
}

/**
 * The spec of a service that runs `image` in a container sandbox it owns;
 * fields left out (or empty port lists) are left out of the spec, so the
 * server's defaults apply.
 *
 * @example
 * await nimbus.services.create({
 *   metadata: { name: "web" },
 *   spec: imageServiceSpec({ image: "busybox", process: { argv: ["httpd", "-f", "-p", "8080"] }, ports: [{ name: "http", port: 8080, protocol: "http" }] }),
 * });
 */
export function imageServiceSpec(input: ImageServiceInput): ServiceSpec {
  const { image, process: proc, ports, restartPolicy, maxRestarts, readinessProbe } = input;
  return {
    backend: {
      kind: "sandbox",
      sandbox: {
        owner: { kind: "service" },
        backend: "container",
        root: { kind: "oci_image", source: { kind: "reference", reference: image } },
        ...(proc ? { process: proc } : {}),
        ...(ports?.length ? { ports } : {}),
      },
    },
    ...(restartPolicy !== undefined ? { restartPolicy } : {}),
    ...(maxRestarts !== undefined ? { maxRestarts } : {}),
    ...(readinessProbe ? { readinessProbe } : {}),
  };
}
