// Run a command in a sandbox and move files in and out of it.
// Settings come from the environment: NIMBUS_ENDPOINT, NIMBUS_TOKEN (or
// NIMBUS_API_KEY), NIMBUS_TENANT_ID; IMAGE picks the image (any image with a shell).
import { Nimbus } from "@nimbus/nimbus";

const nimbus = new Nimbus();
const image = process.env.IMAGE ?? "docker.io/library/busybox:latest";

const sandbox = await nimbus.sandboxes.create({
  profile: "worker",
  spec: {
    owner: { kind: "standalone", displayName: "exec-and-files" },
    backend: "container",
    root: { kind: "oci_image", source: { kind: "reference", reference: image } },
    process: { argv: ["sleep", "3600"] },
  },
});
const id = sandbox.metadata.id;
try {
  await nimbus.sandboxes.wait({ id, until: "ready", timeoutMs: 120_000 });

  // Put an input file in, with a script that processes it.
  const input = "alpha\nbeta\ngamma\n";
  const put = await nimbus.files.write({ sandboxId: id, path: "/tmp/input.txt", data: Buffer.from(input) });
  await nimbus.files.write({ sandboxId: id, path: "/tmp/count.sh", data: Buffer.from("#!/bin/sh\nwc -l < /tmp/input.txt > /tmp/result.txt\n"), mode: 0o755 });
  console.log("uploaded", put.sizeBytes, "bytes, sha256", put.sha256.slice(0, 12));

  // Run it; the exit code and output come back.
  const run = await nimbus.sandboxes.exec({ id, argv: ["/tmp/count.sh"] });
  console.log("exit code", run.exitCode);

  // Take the result out.
  const result = await nimbus.files.read({ sandboxId: id, path: "/tmp/result.txt" });
  console.log("lines counted:", result.data.toString().trim());
} finally {
  await nimbus.sandboxes.delete({ id });
}
