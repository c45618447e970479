/**
 * The sandbox spec's rules beyond what the edge schema can say (contract §4):
 * who may own it here, which backend runs it, how the process fields combine,
 * and that the image reference parses. Used by sandbox create and by service
 * definitions, whose sandbox spec follows the same rules.
 */
import { invalidInput } from "./errors.js";
import type { SandboxSpec } from "./sandbox-spec.js";
import { parseReference } from "../images/reference.js";
import { isImageError } from "../images/errors.js";

/** Throws a 400 naming the field for the first rule the spec breaks. */
export function checkSandboxSpec(spec: SandboxSpec, ownerKind: "standalone" | "service"): void {
  if (spec.owner.kind !== ownerKind) {
    throw invalidInput(
      ownerKind === "standalone"
        ? "spec.owner.kind must be `standalone` here: services own their sandboxes (create a service instead)"
        : "spec.owner.kind must be `service` in a service definition",
      { field: "spec.owner.kind" },
    );
  }
  if (spec.backend !== "container") {
    throw invalidInput(`spec.backend \`${String(spec.backend).slice(0, 40)}\` is not run by this server; use \`container\``, { field: "spec.backend" });
  }
  if (ownerKind === "service" && spec.lifetime) {
    throw invalidInput("spec.lifetime is for standalone sandboxes: a service's sandboxes live as long as the service (stop the service instead)", {
      field: "spec.lifetime",
    });
  }
  const p = spec.process;
  if (p?.argv && p.args) throw invalidInput("give spec.process.argv or its alias args, not both", { field: "spec.process.args" });
  if ((p?.argv || p?.args) && (p.entrypoint || p.command)) {
    throw invalidInput("spec.process.argv replaces the image's entrypoint and command; drop entrypoint/command or argv", { field: "spec.process.argv" });
  }
  if (p?.closableStdin && p.terminal) {
    throw invalidInput("spec.process.closableStdin is for pipes: with a terminal, end of input is Ctrl-D (0x04) in the stream; drop one of them", {
      field: "spec.process.closableStdin",
    });
  }
  try {
    parseReference(spec.root.source.reference);
  } catch (err) {
    if (isImageError(err)) throw invalidInput(err.message, { field: "spec.root.source.reference" });
    throw err;
  }
}
