/**
 * `@nimbus/nimbus`: the TypeScript SDK of the Nimbus sandbox server.
 *
 * @example
 * import { Nimbus } from "@nimbus/nimbus";
 * const nimbus = new Nimbus({ endpoint: "http://localhost:8080", tenantId: "demo", token: process.env.NIMBUS_TOKEN });
 */
export { Nimbus, type NimbusOptions } from "./client.js";
export { discoverSettings, credentialsFilePath, type NimbusSettings, type Credential, type DiscoveredSettings } from "./discovery.js";
export {
  NimbusError,
  NimbusNotFoundError,
  NimbusConflictError,
  NimbusPreconditionError,
  NimbusAuthError,
  NimbusRateLimitError,
  NimbusInvalidInputError,
  NimbusUnavailableError,
  NimbusConfigError,
  STATUS_BY_CODE,
  fromWire,
  type NimbusErrorCode,
  type NimbusErrorInit,
} from "./errors.js";
export {
  SandboxesApi,
  type CreateSandboxInput,
  type SandboxRef,
  type ListSandboxesInput,
  type WaitSandboxInput,
  type LogsInput,
  type EgressLogInput,
} from "./sandboxes.js";
export type { ExecOptions, ExecResult } from "./exec.js";
export { SandboxHandle } from "./handle/sandbox-handle.js";
export { SandboxFiles } from "./handle/sandbox-files.js";
export { Commands, type RunOptions, type CommandResult } from "./handle/commands.js";
export { CommandHandle, type StartOptions, type TextChunk } from "./handle/command-handle.js";
export { Pty, PtyHandle, type PtyOptions } from "./handle/pty.js";
export type { OutputChunk, ProcessEnd } from "./handle/process-output.js";
export type { QuickSandboxInput } from "./handle/quick-spec.js";
export { SessionsApi, type OpenSessionInput, type SessionRef, type ListSessionsInput, type AttachInput } from "./sessions.js";
export type { Attachment, ChannelExit } from "./channel.js";
export { imageServiceSpec, type ImageServiceInput } from "./service-spec.js";
export { ServicesApi, type CreateServiceInput, type UpdateServiceInput, type ServiceRef, type WaitServiceInput, type StartServiceInput } from "./services.js";
export {
  FilesApi,
  type FileRef,
  type WriteFileInput,
  type FileContent,
  type FileEntry,
  type FileList,
  type ListFilesInput,
  type MkdirInput,
  type RemoveFileInput,
  type RenameFileInput,
  type UploadArchiveInput,
  type FileWatchEvent,
  type WatchFilesInput,
} from "./files.js";
export { EventsApi, type EventStreamInput } from "./events.js";
export { ImagesApi, TenantImagesApi, type PullInput } from "./images.js";
export { RegistryCredentialsApi, type SetRegistryCredentialInput } from "./registry-credentials.js";
export { TenantsApi, ApiKeysApi, SystemApi, TenantEgressApi, TenantLimitsApi, TenantLifetimeApi } from "./tenants.js";
export { SecretsApi, type SetSecretInput } from "./secrets.js";
export { ProcessesApi, type ProcessRef, type StartProcessInput, type ProcessInfo, type ProcessFrame, type ProcessSignal } from "./processes.js";
export { apiPath, type CallOptions, type RequestSpec, type RawBody, type QueryValue, type Transport } from "./transport.js";
export { SDK_VERSION } from "./version.js";
export type * from "./types/index.js";
