/**
 * One exec over the HTTP API, its NDJSON frames collected: stdout, stderr, the
 * exit code, or the error envelope when the request or the start failed.
 */
import type { SandboxEnv } from "./sandbox-env.js";

export interface ExecCallResult {
  status: number;
  stdout: string;
  stderr: string;
  exitCode?: number;
  error?: { code: string; message: string; detail: Record<string, unknown> | null };
}

export async function execCall(env: SandboxEnv, tenant: string, id: string, body: Record<string, unknown>): Promise<ExecCallResult> {
  const r = await fetch(`${env.srv.url}/api/tenants/${tenant}/sandboxes/${id}/exec`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.srv.token()}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  const out: ExecCallResult = { status: r.status, stdout: "", stderr: "" };
  if (r.status !== 200) {
    out.error = (JSON.parse(text) as { error: ExecCallResult["error"] }).error;
    return out;
  }
  for (const line of text.split("\n").filter(Boolean)) {
    const f = JSON.parse(line) as { kind: string; data?: string; code?: number; error?: ExecCallResult["error"] };
    if (f.kind === "stdout") out.stdout += Buffer.from(f.data!, "base64").toString("utf8");
    else if (f.kind === "stderr") out.stderr += Buffer.from(f.data!, "base64").toString("utf8");
    else if (f.kind === "exit") out.exitCode = f.code;
    else if (f.kind === "error") out.error = f.error;
  }
  return out;
}
