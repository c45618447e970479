/**
 * Hostile layer tarballs for extraction tests: each tries to write outside
 * the layer directory in a different way. `outside` is an absolute directory
 * the test watches; each layer returns uncompressed tar bytes.
 */
import { relative } from "node:path";
import { tarArchive } from "../images/tar-writer.js";

export type EvilLayer = (outside: string) => Buffer;

export function evilLayers(): Record<string, EvilLayer> {
  return {
    "dot-dot path": () => tarArchive([{ path: "../pwned", type: "file", data: "x", rawName: true }]),
    "nested dot-dot path": () =>
      tarArchive([
        { path: "a/", type: "dir" },
        { path: "a/../../pwned", type: "file", data: "x", rawName: true },
      ]),
    "absolute path through a symlink": (outside) =>
      tarArchive([
        { path: "esc", type: "symlink", linkpath: outside },
        { path: "/esc/keep", type: "file", data: "overwritten", rawName: true },
      ]),
    "symlink then write through": (outside) =>
      tarArchive([
        { path: "dir", type: "dir" },
        { path: "dir/esc", type: "symlink", linkpath: relative("/", outside).replace(/^/, "../../../../../../../../") },
        { path: "dir/esc/pwned", type: "file", data: "x" },
      ]),
    "symlink replaces a dir then write through": (outside) =>
      tarArchive([
        { path: "d/", type: "dir" },
        { path: "d/f", type: "file", data: "fine" },
        { path: "d", type: "symlink", linkpath: outside },
        { path: "d/pwned", type: "file", data: "x" },
      ]),
    "whiteout through a symlink": (outside) =>
      tarArchive([
        { path: "w/", type: "dir" },
        { path: "w/.wh.keep", type: "file" },
        { path: "w", type: "symlink", linkpath: outside },
      ]),
    "hard link to a host file": (outside) => tarArchive([{ path: "h", type: "hardlink", linkpath: `${outside}/keep` }]),
    "hard link with dot-dot": () => tarArchive([{ path: "h", type: "hardlink", linkpath: "../outside/keep" }]),
    "hard link through a symlink": (outside) =>
      tarArchive([
        { path: "s", type: "symlink", linkpath: outside },
        { path: "h", type: "hardlink", linkpath: "s/keep" },
      ]),
  };
}
