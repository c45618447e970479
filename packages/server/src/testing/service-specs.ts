/**
 * Service bodies for tests and benches, whose backend is a container sandbox.
 */

/**
 * A service running `argv` in the image `reference` that serves HTTP on port
 * 8080 (a port named "http", plus the fields of `port`, e.g. `publish`),
 * ready once GET / answers (probed every 200 ms).
 */
export function httpServiceSpec(reference: string, argv: string[], port: Record<string, unknown> = {}) {
  const spec = sandboxServiceSpec(reference, argv, { readinessProbe: { http: { path: "/", port: 8080 }, periodMs: 200 } });
  const ports = [{ name: "http", port: 8080, protocol: "http" as const, ...port }];
  return { ...spec, backend: { ...spec.backend, sandbox: { ...spec.backend.sandbox, ports } } };
}

/** A service whose backend is a container sandbox running `argv` in `reference`; `extra` adds spec fields (restartPolicy, …). */
export function sandboxServiceSpec(reference: string, argv: string[], extra: Record<string, unknown> = {}) {
  return {
    backend: {
      kind: "sandbox" as const,
      sandbox: {
        owner: { kind: "service" as const },
        backend: "container",
        root: { kind: "oci_image" as const, source: { kind: "reference" as const, reference } },
        process: { argv },
      },
    },
    ...extra,
  };
}
