/**
 * (ext) The exec channel: POST a command, read NDJSON frames back —
 * `{"kind":"stdout"|"stderr","data":<base64>,"encoding":"base64"}`, then
 * `{"kind":"exit","code"}` or `{"kind":"error","error":{…}}`. Available on a
 * session opened with `exec` and, for convenience, directly on a sandbox.
 */
import { Type } from "@sinclair/typebox";
import type { TenantCaps } from "../../domain/tenant-caps.js";
import type { Sandboxes } from "../../domain/sandboxes.js";
import type { Sessions } from "../../domain/sessions.js";
import { execUser, type SandboxExec } from "../../domain/sandbox-exec.js";
import { errorEnvelope, toAppError } from "../errors.js";
import { openNdjson } from "../ndjson.js";
import { route, type RouteDef, type StreamingContext } from "../route.js";
import { ExecFrameSchema, ndjsonLineOf, PathNameSchema, TenantIdSchema, strictObject } from "../schemas/common.js";
import { SandboxParams } from "../schemas/sandbox.js";
import { requireReadySandbox, requireSessionChannel } from "../../domain/channel-target.js";
import { NO_ACTIVITY, type SandboxActivity } from "../../domain/sandbox-activity.js";

export const ExecBody = strictObject({
  argv: Type.Array(Type.String({ maxLength: 128 * 1024 }), { minItems: 1, maxItems: 4096 }),
  env: Type.Optional(Type.Array(Type.String({ pattern: "^[^=\\u0000]+=[^\\u0000]*$" }), { maxItems: 4096 })),
  cwd: Type.Optional(Type.String({ pattern: "^/[^\\u0000]*$", maxLength: 4096 })),
  // domain/user-ids.ts also checks each id is at most 4294967294.
  user: Type.Optional(
    Type.String({ pattern: "^(?:0|[1-9][0-9]{0,9})(?::(?:0|[1-9][0-9]{0,9}))?$", description: "numeric uid[:gid] in 0..4294967294, default 0:0" }),
  ),
  stdin: Type.Optional(Type.String({ contentEncoding: "base64", description: "bytes for the process's stdin, base64" })),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_600_000, default: 300_000 })),
});

type ExecBodyT = { argv: string[]; env?: string[]; cwd?: string; user?: string; stdin?: string; timeoutMs?: number };

async function streamExec(
  ctx: StreamingContext,
  exec: SandboxExec,
  sandbox: { tenantId: string; id: string },
  body: ExecBodyT,
  activity: SandboxActivity,
): Promise<void> {
  const sandboxId = sandbox.id;
  execUser(body.user); // a bad user is a 400 before the 200 stream opens
  const stream = openNdjson(ctx.req, ctx.res, ctx.requestId);
  ctx.handled = true;
  const abort = new AbortController();
  stream.onClose(() => abort.abort());
  const touch = () => activity.touch(sandbox.tenantId, sandboxId);
  touch();
  const frame = (kind: "stdout" | "stderr") => (data: Buffer) => {
    touch();
    stream.write({ kind, data: data.toString("base64"), encoding: "base64" });
  };
  try {
    const r = await exec.run(
      sandboxId,
      { ...body, stdin: body.stdin === undefined ? undefined : Buffer.from(body.stdin, "base64") },
      { stdout: frame("stdout"), stderr: frame("stderr") },
      abort.signal,
    );
    touch();
    stream.write({ kind: "exit", code: r.exitCode, ...(r.timedOut ? { timedOut: true } : {}) });
  } catch (err) {
    stream.write({ kind: "error", error: errorEnvelope(toAppError(err, ctx.log), ctx.requestId).error });
  }
  stream.end();
}

/** Runs the exec holding one of the tenant's exec slots (429 naming maxExecs when none is free). */
async function cappedExec(caps: TenantCaps | undefined, tenantId: string, run: () => Promise<void>): Promise<void> {
  const release = caps?.acquire(tenantId, "maxExecs");
  try {
    await run();
  } finally {
    release?.();
  }
}

export function execRoutes(
  sandboxes: Sandboxes,
  sessions: Sessions,
  exec: SandboxExec,
  caps?: TenantCaps,
  activity: SandboxActivity = NO_ACTIVITY,
): RouteDef[] {
  return [
    route({
      method: "POST",
      path: "/api/tenants/:tenantId/sandboxes/:id/exec",
      access: "tenant",
      tag: "channels",
      summary: "(ext) Run a command in a ready sandbox; NDJSON frames stdout/stderr (base64), then exit or error",
      params: SandboxParams,
      body: ExecBody,
      responses: { 200: { description: "NDJSON frames", contentType: "application/x-ndjson", schema: ndjsonLineOf(ExecFrameSchema) } },
      handler: async (ctx) => {
        requireReadySandbox(sandboxes, ctx.tenantId, ctx.params.id);
        await cappedExec(caps, ctx.tenantId, () => streamExec(ctx, exec, { tenantId: ctx.tenantId, id: ctx.params.id }, ctx.body, activity));
      },
    }),
    route({
      method: "POST",
      path: "/api/sessions/:id/channels/exec/stream",
      access: "tenant",
      tag: "channels",
      summary: "(ext) The exec channel of a session: run a command in its sandbox, NDJSON frames back",
      params: strictObject({ id: PathNameSchema }),
      query: strictObject({ tenantId: Type.Optional(TenantIdSchema) }),
      body: ExecBody,
      responses: { 200: { description: "NDJSON frames", contentType: "application/x-ndjson", schema: ndjsonLineOf(ExecFrameSchema) } },
      handler: async (ctx) => {
        const tenantId = ctx.authorizeTenant(ctx.query.tenantId);
        const sandbox = requireSessionChannel(sessions, sandboxes, tenantId, ctx.params.id, "exec");
        await cappedExec(caps, tenantId, () => streamExec(ctx, exec, { tenantId, id: sandbox.id }, ctx.body, activity));
      },
    }),
  ];
}
