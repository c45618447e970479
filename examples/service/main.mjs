// Promote work to a name: an HTTP service other code reaches through the
// Nimbus proxy by name, whichever sandbox backs it.
// Settings: NIMBUS_ENDPOINT, NIMBUS_TOKEN, NIMBUS_TENANT_ID; IMAGE (any image with busybox httpd).
import { Nimbus, imageServiceSpec } from "@nimbus/nimbus";

const nimbus = new Nimbus();
const endpoint = process.env.NIMBUS_ENDPOINT;
const image = process.env.IMAGE ?? "docker.io/library/busybox:latest";
const name = "hello-web";

await nimbus.services.create({
  metadata: { name },
  spec: imageServiceSpec({
    image,
    process: { argv: ["sh", "-c", "mkdir -p /www && echo 'hello from a service' > /www/index.html && exec httpd -f -p 8080 -h /www"] },
    ports: [{ name: "http", port: 8080, protocol: "http" }],
    restartPolicy: "on_failure",
  }),
});
try {
  const ready = await nimbus.services.start({ name, waitUntil: "ready", timeoutMs: 120_000 });
  console.log("service", ready.name, "is", ready.lifecycleState, "on sandbox", ready.sandboxId);

  // Other code depends on the name, through the proxy route.
  const res = await fetch(`${endpoint}/api/tenants/${nimbus.tenantId}/services/${name}/proxy/index.html`, {
    headers: { authorization: `Bearer ${process.env.NIMBUS_TOKEN}` },
  });
  console.log("proxy answered", res.status, (await res.text()).trim());
} finally {
  await nimbus.services.stop({ name }).catch(() => {});
  const current = await nimbus.services.get({ name });
  await nimbus.services.delete({ name, ifMatchGeneration: current.generation ?? 1, force: true });
}
