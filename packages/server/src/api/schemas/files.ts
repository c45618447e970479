/** Wire schemas of the files API (`…/sandboxes/{id}/files/…`). */
import { Type } from "@sinclair/typebox";
import { strictObject } from "./common.js";

export const FileEntrySchema = strictObject(
  {
    path: Type.String({ description: "absolute path inside the sandbox" }),
    name: Type.String(),
    type: Type.Union(["file", "directory", "symlink", "fifo", "socket", "char-device", "block-device", "unknown"].map((t) => Type.Literal(t))),
    sizeBytes: Type.Integer({ description: "apparent size (st_size)" }),
    mode: Type.Integer({ description: "permission bits (st_mode & 0o7777)" }),
    uid: Type.Integer(),
    gid: Type.Integer(),
    mtime: Type.String({ format: "date-time" }),
    linkTarget: Type.Optional(Type.String({ description: "a symlink's target, as text; the server never follows it" })),
  },
  "one entry of a sandbox's file tree (a final symlink is reported, not followed)",
);
