/**
 * A sandbox as an object: what `nimbus.sandboxes.create({ image })` and
 * `nimbus.sandboxes.connect(id)` return. It holds the id and the last view
 * of the resource, and reaches the routes through the client's APIs; it
 * owns nothing on the server beyond the sandbox itself, which `delete()`
 * (or leaving an `await using` scope) removes.
 */
import type { FilesApi } from "../files.js";
import { NimbusNotFoundError } from "../errors.js";
import type { SandboxesApi } from "../sandboxes.js";
import type { LifecycleState, Sandbox } from "../types/index.js";
import { Commands } from "./commands.js";

/**
 * The sandbox's files, by absolute path inside it.
 *
 * @example
 * await sb.files.write("/app/main.py", "print('hi')\n");
 * const text = await sb.files.read("/app/main.py");
 */
export class SandboxFiles {
  readonly #files: FilesApi;
  readonly #id: string;
  readonly #tenantId: string | undefined;

  constructor(files: FilesApi, id: string, tenantId: string | undefined) {
    this.#files = files;
    this.#id = id;
    this.#tenantId = tenantId;
  }

  /** The file as UTF-8 text, or as bytes with `{ format: "bytes" }`. */
  async read(path: string, options?: { format?: "text"; signal?: AbortSignal }): Promise<string>;
  async read(path: string, options: { format: "bytes"; signal?: AbortSignal }): Promise<Buffer>;
  async read(path: string, options: { format?: "text" | "bytes"; signal?: AbortSignal } = {}): Promise<string | Buffer> {
    const { data } = await this.#files.read({ sandboxId: this.#id, tenantId: this.#tenantId, path, signal: options.signal });
    return options.format === "bytes" ? data : data.toString("utf8");
  }

  /** Creates or replaces the file (owned by the sandbox's user). */
  async write(path: string, data: string | Uint8Array, options: { mode?: number; signal?: AbortSignal } = {}): Promise<{ sizeBytes: number; sha256: string }> {
    return this.#files.write({
      sandboxId: this.#id,
      tenantId: this.#tenantId,
      path,
      data: typeof data === "string" ? Buffer.from(data) : data,
      mode: options.mode,
      signal: options.signal,
    });
  }
}

export class SandboxHandle implements AsyncDisposable {
  readonly id: string;
  readonly tenantId: string | undefined;
  /** Run commands inside the sandbox. */
  readonly commands: Commands;
  readonly files: SandboxFiles;
  #resource: Sandbox;
  readonly #sandboxes: SandboxesApi;

  constructor(apis: { sandboxes: SandboxesApi; files: FilesApi }, resource: Sandbox, tenantId: string | undefined) {
    this.id = resource.metadata.id;
    this.tenantId = tenantId;
    this.#resource = resource;
    this.#sandboxes = apis.sandboxes;
    this.commands = new Commands(apis.sandboxes, this.id, tenantId);
    this.files = new SandboxFiles(apis.files, this.id, tenantId);
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
