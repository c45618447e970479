/**
 * `nimbus image pull|ls|rm|prune|load`: the server's image store through the
 * SDK's admin `images` namespace (they need the admin token).
 */
import type { ImageRecord } from "@nimbus/nimbus";
import type { CommandDef } from "../command.js";
import { CONNECTION_OPTIONS, connect } from "../connect.js";
import { JSON_OPTION, printJson, printTable } from "../output.js";
import { PullProgressView, formatBytes, shortDigest } from "../progress.js";

function layerCount(img: ImageRecord): number {
  return typeof img.layers === "number" ? img.layers : img.layers.length;
}

function describe(img: ImageRecord): string {
  return `${img.reference} (${img.digest}, ${layerCount(img)} layer${layerCount(img) === 1 ? "" : "s"}, ${formatBytes(img.sizeBytes)})`;
}

export const imageCommands: CommandDef[] = [
  {
    path: ["image", "pull"],
    summary: "Pull an image into the server's store, showing per-layer progress",
    usage: "nimbus image pull REF [--json]",
    description:
      "REF is a reference such as alpine:3 or ghcr.io/org/x@sha256:…; a present image is answered from the store. On a terminal the progress bars are redrawn in place; otherwise one line per event.",
    options: { ...CONNECTION_OPTIONS, json: { type: "boolean", help: "print the image record as JSON and no progress" } },
    positionals: { min: 1, max: 1 },
    async run(args, io) {
      const { client } = connect(io, args.values);
      const reference = args.positionals[0]!;
      if (args.values.json) {
        printJson(io, await client.images.pull({ reference }));
        return 0;
      }
      const view = new PullProgressView(io);
      const img = await client.images.pull({ reference, onProgress: (p) => view.update(p) });
      view.finish();
      io.out(`pulled ${describe(img)}`);
      return 0;
    },
  },
  {
    path: ["image", "ls"],
    summary: "List the images in the server's store",
    usage: "nimbus image ls [--json]",
    options: { ...CONNECTION_OPTIONS, ...JSON_OPTION },
    async run(args, io) {
      const images = await connect(io, args.values).client.images.list();
      if (args.values.json) printJson(io, images);
      else
        printTable(
          io,
          ["reference", "digest", "size", "layers", "pulled"],
          images.map((i) => [i.reference, shortDigest(i.digest), formatBytes(i.sizeBytes), layerCount(i), i.pulledAt]),
        );
      return 0;
    },
  },
  {
    path: ["image", "rm"],
    summary: "Remove images by reference or digest (their content goes at the next prune)",
    usage: "nimbus image rm REF...",
    description: "Refused (op.conflict) while a sandbox made from the image exists; delete those sandboxes first.",
    options: { ...CONNECTION_OPTIONS },
    positionals: { min: 1, max: 64 },
    async run(args, io) {
      const { client } = connect(io, args.values);
      for (const reference of args.positionals) {
        await client.images.remove({ reference });
        io.out(`removed image ${reference}`);
      }
      return 0;
    },
  },
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
