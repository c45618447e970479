/**
 * The named wire types: the schemas the SDK's types are generated from
 * (scripts/gen-wire-types.mjs writes packages/nimbus/src/wire.ts). A
 * schema listed here becomes `export type <Name>` there; where one listed
 * schema is nested in another, the generated type refers to it by name.
 * Add a route's request and response schemas here when the SDK needs them,
 * then run `npm run gen:wire`.
 */
import type { TSchema } from "@sinclair/typebox";
import {
  ChannelFrameSchema,
  CollectionMetadataSchema,
  ConditionSchema,
  EndpointSchema,
  ErrorEnvelopeSchema,
  ExecFrameSchema,
  HeartbeatSchema,
  LabelsSchema,
  RedactedSchema,
  ResourceMetadataSchema,
  TimestampSchema,
  WireErrorSchema,
} from "./common.js";
import { EgressDenialSchema, NimbusEventSchema } from "./event.js";
import { FileEntrySchema } from "./files.js";
import { ProcessInfoSchema } from "./process.js";
import { ImageConfigSchema, ImageLayerSchema, ImageSchema, PruneResultSchema } from "./image.js";
import {
  EgressDecisionSchema,
  EgressLogEntrySchema,
  HealthSchema,
  LifecycleStateSchema,
  ReadinessSchema,
  RedactedProcessSchema,
  SandboxOwnerSchema,
  SandboxProfileSchema,
  SandboxReasonSchema,
  SandboxResource,
  SandboxSpecSchema,
  SandboxStatusSchema,
} from "./sandbox.js";
import { ReadinessProbeSchema, RestartReceiptResource, ServiceDefinitionResource, ServiceStateSchema, ServiceViewResource } from "./service.js";
import { SessionChannelSchema, SessionResource, SessionStateSchema, TargetSnapshotSchema } from "./session.js";
import {
  ApiKeySchema,
  CreatedApiKeySchema,
  EgressCeilingViewSchema,
  SecretViewSchema,
  TenantLifetimeViewSchema,
  TenantLimitsSchema,
  TenantLimitsViewSchema,
} from "./tenant.js";

const spec = SandboxSpecSchema.properties;

export const WIRE_SCHEMAS: Record<string, TSchema> = {
  Timestamp: TimestampSchema,
  Labels: LabelsSchema,
  ResourceMetadata: ResourceMetadataSchema,
  CollectionMetadata: CollectionMetadataSchema,
  Condition: ConditionSchema,
  Endpoint: EndpointSchema,
  Redacted: RedactedSchema,
  WireError: WireErrorSchema,
  ErrorEnvelope: ErrorEnvelopeSchema,
  Heartbeat: HeartbeatSchema,

  SandboxProfile: SandboxProfileSchema,
  SandboxOwner: SandboxOwnerSchema,
  SandboxRoot: spec.root,
  ResourceSpec: spec.resources,
  EgressRule: spec.network.properties.egress!.items,
  NetworkSpec: spec.network,
  PortSpec: spec.ports.items,
  LifetimeSpec: spec.lifetime,
  LifecycleState: LifecycleStateSchema,
  Readiness: ReadinessSchema,
  Health: HealthSchema,
  SandboxReason: SandboxReasonSchema,
  RedactedProcess: RedactedProcessSchema,
  SandboxStatus: SandboxStatusSchema,
  Sandbox: SandboxResource,
  EgressDecision: EgressDecisionSchema,
  EgressLogEntry: EgressLogEntrySchema,

  SessionState: SessionStateSchema,
  ChannelFrame: ChannelFrameSchema,
  ExecFrame: ExecFrameSchema,
  SessionChannel: SessionChannelSchema,
  TargetSnapshot: TargetSnapshotSchema,
  Session: SessionResource,

  ServiceState: ServiceStateSchema,
  ReadinessProbe: ReadinessProbeSchema,
  ServiceDefinition: ServiceDefinitionResource,
  ServiceView: ServiceViewResource,
  ServiceRestartReceipt: RestartReceiptResource,

  NimbusEvent: NimbusEventSchema,
  EgressDenial: EgressDenialSchema,

  ApiKey: ApiKeySchema,
  CreatedApiKey: CreatedApiKeySchema,
  TenantLimits: TenantLimitsSchema,
  TenantLimitsView: TenantLimitsViewSchema,
  EgressCeilingView: EgressCeilingViewSchema,
  TenantLifetimeView: TenantLifetimeViewSchema,
  Secret: SecretViewSchema,

  ImageLayer: ImageLayerSchema,
  ImageConfig: ImageConfigSchema,
  ImageRecord: ImageSchema,
  PruneResult: PruneResultSchema,

  FileEntry: FileEntrySchema,
  ProcessInfo: ProcessInfoSchema,
};
