/**
 * One exec over the HTTP API, its NDJSON frames collected: as parsed
 * (`execFrames`), or as stdout, stderr, the exit code, or the error envelope
 * when the request or the start failed (`execCall`).
 */
import type { SandboxEnv } from "./sandbox-env.js";

export interface ExecCallResult {
  status: number;
  stdout: string;
  stderr: string;
  exitCode?: number;
  error?: { code: string; message: string; detail: Record<string, unknown> | null };
}

async function postExec(env: SandboxEnv, tenant: string, id: string, body: Record<string, unknown>): Promise<{ status: number; text: string }> {
  const r = await fetch(`${env.srv.url}/api/tenants/${tenant}/sandboxes/${id}/exec`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.srv.token()}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, text: await r.text() };
}

const framesOf = (ndjson: string): unknown[] =>
  ndjson
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

/** The frames of an exec's NDJSON answer, as parsed (an error envelope is one frame). */
export async function execFrames(env: SandboxEnv, tenant: string, id: string, body: Record<string, unknown>): Promise<any[]> {
  return framesOf((await postExec(env, tenant, id, body)).text);
}

export async function execCall(env: SandboxEnv, tenant: string, id: string, body: Record<string, unknown>): Promise<ExecCallResult> {
  const { status, text } = await postExec(env, tenant, id, body);
  const out: ExecCallResult = { status, stdout: "", stderr: "" };
  if (status !== 200) {
    out.error = (JSON.parse(text) as { error: ExecCallResult["error"] }).error;
    return out;
  }
  for (const frame of framesOf(text)) {
    const f = frame as { kind: string; data?: string; code?: number; error?: ExecCallResult["error"] };
    if (f.kind === "stdout") out.stdout += Buffer.from(f.data!, "base64").toString("utf8");
    else if (f.kind === "stderr") out.stderr += Buffer.from(f.data!, "base64").toString("utf8");
    else if (f.kind === "exit") out.exitCode = f.code;
    else if (f.kind === "error") out.error = f.error;
  }
  return out;
}
