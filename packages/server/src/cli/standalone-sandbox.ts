/**
 * What `nimbus run` and `nimbus sandbox create` share: the standalone sandbox
 * their command line asks for (IMAGE, the argv after it, --env, --workdir,
 * --user, --name, --label) and the wait until it is ready.
 */
import type { CreateSandboxInput, Nimbus, ProcessSpec, Sandbox, SandboxSpec } from "@nimbus/nimbus";
import type { CliIo, ParsedArgs } from "./command.js";
import { envOf, listValue, parsePair, stringValue } from "./values.js";

/** What a command adds to the shared part: its profile, process fields and spec fields (key order kept as given). */
export interface StandaloneExtras {
  profile: CreateSandboxInput["profile"];
  process?: Partial<ProcessSpec>;
  spec?: Partial<SandboxSpec>;
}

/** The create request for IMAGE (the first positional) with the flags both commands take. */
export function standaloneRequest(args: ParsedArgs, io: CliIo, extras: StandaloneExtras): CreateSandboxInput {
  const labels = Object.fromEntries(listValue(args, "label").map((l) => parsePair("label", l)));
  const env = envOf(args, io);
  const name = stringValue(args, "name");
  const cwd = stringValue(args, "workdir");
  const user = stringValue(args, "user");
  const proc: ProcessSpec = {
    ...(args.rest.length ? { argv: args.rest } : {}),
    ...(env.length ? { env } : {}),
    ...(cwd !== undefined ? { cwd } : {}),
    ...(user !== undefined ? { user } : {}),
    ...extras.process,
  };
  return {
    profile: extras.profile,
    labels,
    spec: {
      owner: { kind: "standalone", ...(name !== undefined ? { displayName: name } : {}) },
      backend: "container",
      root: { kind: "oci_image", source: { kind: "reference", reference: args.positionals[0]! } },
      ...(Object.keys(proc).length ? { process: proc } : {}),
      ...extras.spec,
    },
  };
}

/** Waits until the sandbox is ready; undefined when it ended (failed or stopped) before that. */
export async function waitUntilReady(client: Nimbus, id: string, timeoutMs: number): Promise<Sandbox | undefined> {
  try {
    return await client.sandboxes.wait({ id, until: "ready", timeoutMs });
  } catch (err) {
    if ((err as { code?: unknown }).code !== "op.conflict") throw err;
    return undefined;
  }
}
