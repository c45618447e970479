/**
 * A sandbox as an object: what `nimbus.sandboxes.create({ image })` and
 * `nimbus.sandboxes.connect(id)` return. It holds the id and the last view
 * of the resource, and reaches the routes through the client's APIs; it
 * owns nothing on the server beyond the sandbox itself, which `delete()`
 * (or leaving an `await using` scope) removes.
 */
import type { FilesApi } from "../files.js";
import type { ProcessesApi } from "../processes.js";
import { NimbusNotFoundError } from "../errors.js";
import type { SandboxesApi } from "../sandboxes.js";
import type { LifecycleState, Sandbox } from "../types/index.js";
import { Commands } from "./commands.js";
import { Pty } from "./pty.js";
import { SandboxFiles } from "./sandbox-files.js";

export class SandboxHandle implements AsyncDisposable {
  readonly id: string;
  readonly tenantId: string | undefined;
  /** Run commands inside the sandbox. */
  readonly commands: Commands;
  readonly files: SandboxFiles;
  /** Interactive terminals in the sandbox. */
  readonly pty: Pty;
  #resource: Sandbox;
  readonly #sandboxes: SandboxesApi;

  constructor(apis: { sandboxes: SandboxesApi; files: FilesApi; processes: ProcessesApi }, resource: Sandbox, tenantId: string | undefined) {
    this.id = resource.metadata.id;
    this.tenantId = tenantId;
    this.#resource = resource;
    this.#sandboxes = apis.sandboxes;
    this.commands = new Commands(apis, this.id, tenantId);
    this.files = new SandboxFiles(apis.files, this.id, tenantId);
    this.pty = new Pty(apis.processes, this.id, tenantId);
  }

  /** The resource as last read (see {@link refresh}). */
  get resource(): Sandbox {
    return this.#resource;
  }

  get state(): LifecycleState {
    return this.#resource.status.lifecycleState;
  }

  /** Reads the sandbox again. */
  async refresh(signal?: AbortSignal): Promise<Sandbox> {
    this.#resource = await this.#sandboxes.get({ id: this.id, tenantId: this.tenantId, signal });
    return this.#resource;
  }

  /** Waits until the sandbox reaches `until` (throws if it ends failed/stopped instead). */
  async wait(until: LifecycleState = "ready", options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Sandbox> {
    this.#resource = await this.#sandboxes.wait({ id: this.id, tenantId: this.tenantId, until, timeoutMs: options.timeoutMs, signal: options.signal });
    return this.#resource;
  }

  /** Stops the main process (SIGTERM, then SIGKILL after the grace period); the sandbox stays until deleted. */
  async stop(options: { gracePeriodMs?: number; signal?: AbortSignal } = {}): Promise<Sandbox> {
    this.#resource = await this.#sandboxes.stop({ id: this.id, tenantId: this.tenantId, gracePeriodMs: options.gracePeriodMs, signal: options.signal });
    return this.#resource;
  }

  /**
   * Moves the TTL deadline: by `seconds` from the current one (or from now
   * when there is none). Also counts as activity for the idle timeout.
   */
  async extend(seconds: number, signal?: AbortSignal): Promise<Sandbox> {
    this.#resource = await this.#sandboxes.extend({ id: this.id, tenantId: this.tenantId, addSeconds: seconds, signal });
    return this.#resource;
  }

  /** Deletes the sandbox; one already gone is not an error. */
  async delete(signal?: AbortSignal): Promise<void> {
    try {
      await this.#sandboxes.delete({ id: this.id, tenantId: this.tenantId, signal });
    } catch (err) {
      if (!(err instanceof NimbusNotFoundError)) throw err;
    }
  }

  /** `await using sb = await nimbus.sandboxes.create({ image })` deletes the sandbox when the scope ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.delete();
  }
}
