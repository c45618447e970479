/**
 * The one record of "this sandbox is in use" (issue 18): whatever a tenant
 * does with a sandbox — an open session, stdio or exec IO, a process started
 * through the processes API, traffic through the service proxy — calls
 * `touch`, which moves its idle deadline (sandbox-lifetimes.ts implements it).
 * Callers never learn whether the sandbox has an idle timeout: touch is cheap
 * either way.
 */
export interface SandboxActivity {
  touch(tenantId: string, sandboxId: string): void;
}

/** For parts built without lifetimes (unit tests). */
export const NO_ACTIVITY: SandboxActivity = { touch: () => undefined };
