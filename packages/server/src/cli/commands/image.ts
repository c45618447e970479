/**
 * `nimbus image pull|ls|inspect|rm|prune|load|publish|unpublish`. With a
 * tenant (`--tenant` or NIMBUS_TENANT_ID), pull, ls, inspect and rm act on
 * that tenant's images (its own pulls, with its registry credentials, and the
 * public ones); without one they act on the whole store and need the admin
 * token, as do prune, load, publish and unpublish.
 */
import type { ImageRecord } from "@nimbus/nimbus";
import type { CommandDef } from "../command.js";
import { CONNECTION_OPTIONS, TENANT_CONNECTION_OPTIONS, connect } from "../connect.js";
import type { CliIo } from "../command.js";
import { JSON_OPTION, printJson } from "../output.js";
import { listCommand, oneArgCommand } from "../resource-commands.js";
import { PullProgressView, formatBytes, shortDigest } from "../progress.js";

function layerCount(img: ImageRecord): number {
  return typeof img.layers === "number" ? img.layers : img.layers.length;
}

function describe(img: ImageRecord): string {
  return `${img.reference} (${img.digest}, ${layerCount(img)} layer${layerCount(img) === 1 ? "" : "s"}, ${formatBytes(img.sizeBytes)})`;
}

/** The tenant to act for, when one is named; otherwise the admin's whole-store view. */
function tenantOf(io: CliIo, values: { tenant?: unknown }): string | undefined {
  const t = typeof values.tenant === "string" ? values.tenant : io.env.NIMBUS_TENANT_ID;
  return t ? t : undefined;
}

export const imageCommands: CommandDef[] = [
  {
    path: ["image", "pull"],
    summary: "Pull an image into the server's store, showing per-layer progress",
    usage: "nimbus image pull REF [--tenant T] [--json]",
    description:
      "REF is a reference such as alpine:3 or ghcr.io/org/x@sha256:…. For a tenant the pull presents the tenant's registry credentials (nimbus registry login) and the registry is asked even when the content is stored; without a tenant it uses the operator's (docker config) and a present image is answered from the store. On a terminal the progress bars are redrawn in place; otherwise one line per event.",
    options: { ...TENANT_CONNECTION_OPTIONS, json: { type: "boolean", help: "print the image record as JSON and no progress" } },
    positionals: { min: 1, max: 1 },
    async run(args, io) {
      const { client } = connect(io, args.values);
      const reference = args.positionals[0]!;
      const tenant = tenantOf(io, args.values);
      const pull = (input: Parameters<typeof client.images.pull>[0]) => (tenant ? client.tenantImages.pull(input) : client.images.pull(input));
      if (args.values.json) {
        printJson(io, await pull({ reference }));
        return 0;
      }
      const view = new PullProgressView(io);
      const img = await pull({ reference, onProgress: (p) => view.update(p) });
      view.finish();
      io.out(`pulled ${describe(img)}`);
      return 0;
    },
  },
  listCommand(
    {
      path: ["image", "ls"],
      summary: "List the images in the server's store, or those a tenant may use",
      usage: "nimbus image ls [--tenant T] [--json]",
      options: { ...TENANT_CONNECTION_OPTIONS },
    },
    (args, io) => {
      const { client } = connect(io, args.values);
      return tenantOf(io, args.values) ? client.tenantImages.list() : client.images.list();
    },
    {
      columns: ["reference", "digest", "size", "layers", "pulled", "public"],
      row: (i) => [i.reference, shortDigest(i.digest), formatBytes(i.sizeBytes), layerCount(i), i.pulledAt, i.public ? "yes" : "no"],
    },
  ),
  {
    path: ["image", "rm"],
    summary: "Remove images by reference or digest (their content goes at the next prune)",
    usage: "nimbus image rm REF... [--tenant T]",
    description:
      "For a tenant, drops the tenant's references only (content other tenants or a public mark use stays). Without a tenant, removes the store's record, refused (op.conflict) while a sandbox made from the image exists; delete those sandboxes first.",
    options: { ...TENANT_CONNECTION_OPTIONS },
    positionals: { min: 1, max: 64 },
    async run(args, io) {
      const { client } = connect(io, args.values);
      const tenant = tenantOf(io, args.values);
      for (const reference of args.positionals) {
        await (tenant ? client.tenantImages.remove({ reference }) : client.images.remove({ reference }));
        io.out(`removed image ${reference}`);
      }
      return 0;
    },
  },
  {
    path: ["image", "inspect"],
    summary: "Show one of a tenant's images (reference or digest) as JSON",
    usage: "nimbus image inspect REF --tenant T",
    description: "Another tenant's image is not found, as if it did not exist.",
    options: { ...TENANT_CONNECTION_OPTIONS },
    positionals: { min: 1, max: 1 },
    async run(args, io) {
      printJson(io, await connect(io, args.values).client.tenantImages.get({ reference: args.positionals[0]! }));
      return 0;
    },
  },
  oneArgCommand(
    {
      path: ["image", "publish"],
      summary: "Mark a stored image public: every tenant may list it and create sandboxes from it (admin)",
      usage: "nimbus image publish REF",
      description: "Public images are how content pulled with the operator's registry credentials reaches tenants.",
      options: { ...CONNECTION_OPTIONS },
    },
    (client, reference) => client.images.markPublic({ reference }).then((img) => `public: ${describe(img)}`),
  ),
  oneArgCommand(
    {
      path: ["image", "unpublish"],
      summary: "Take the public mark off an image (admin); tenants that pulled it themselves keep it",
      usage: "nimbus image unpublish REF",
      options: { ...CONNECTION_OPTIONS },
    },
    (client, reference) => client.images.unmarkPublic({ reference }).then(() => `no longer public: ${reference}`),
  ),
  {
    path: ["image", "prune"],
    summary: "Remove every image no sandbox uses, and the layers no remaining image needs",
    usage: "nimbus image prune [--json]",
    options: { ...CONNECTION_OPTIONS, ...JSON_OPTION },
    async run(args, io) {
      const r = await connect(io, args.values).client.images.prune();
      if (args.values.json) printJson(io, r);
      else io.out(`removed ${r.removedImages} image(s) and ${r.removedLayers} layer(s), freed ${formatBytes(r.freedBytes)}`);
      return 0;
    },
  },
  {
    path: ["image", "load"],
    summary: "Load the images of a tarball (docker save, or skopeo oci-archive) into the server's store",
    usage: "nimbus image load FILE [--json]",
    description: "FILE is streamed to the server (at most 8 GiB), which needs no registry access; use - to read the tarball from stdin.",
    options: { ...CONNECTION_OPTIONS, ...JSON_OPTION },
    positionals: { min: 1, max: 1 },
    async run(args, io) {
      const file = args.positionals[0]!;
      const { client } = connect(io, args.values);
      const images = await client.images.load(file === "-" ? { stream: process.stdin } : { file });
      if (args.values.json) printJson(io, images);
      else for (const img of images) io.out(`loaded ${describe(img)}`);
      return 0;
    },
  },
];
