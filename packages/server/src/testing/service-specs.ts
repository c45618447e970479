/**
 * Service bodies for tests and benches: a service whose backend is a container
 * sandbox running `argv` in the image `reference`, serving HTTP on port 8080
 * (a port named "http", plus the fields of `port`, e.g. `publish`), ready once
 * GET / answers (probed every 200 ms).
 */
export function httpServiceSpec(reference: string, argv: string[], port: Record<string, unknown> = {}) {
  return {
    backend: {
      kind: "sandbox",
      sandbox: {
        owner: { kind: "service" },
        backend: "container",
        root: { kind: "oci_image", source: { kind: "reference", reference } },
        process: { argv },
        ports: [{ name: "http", port: 8080, protocol: "http", ...port }],
      },
    },
    readinessProbe: { http: { path: "/", port: 8080 }, periodMs: 200 },
  };
}
