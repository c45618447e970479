/**
 * Wire schemas of the admin tenant routes: tenants and their API keys,
 * limits, egress ceilings and secrets (never a secret's value).
 */
import { Type, type TSchema } from "@sinclair/typebox";
import { strictObject } from "./common.js";
import { LifetimeSchema } from "./sandbox.js";

export const ApiKeySchema = strictObject({
  id: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: "date-time" }),
  lastUsedAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
});

const MAX_COUNT = 1_000_000;

const FIELDS = {
  memoryLimitBytes: Type.Integer({
    minimum: 16 * 1024 * 1024,
    maximum: 2 ** 50,
    description: "memory of all the tenant's sandboxes together, bytes (kernel-enforced)",
  }),
  cpuCount: Type.Number({ minimum: 0.01, maximum: 4096, description: "CPU of all the tenant's sandboxes together, cores (at most the host's)" }),
  pidsLimit: Type.Integer({ minimum: 16, maximum: 4_194_304, description: "processes of all the tenant's sandboxes together" }),
  maxSandboxes: Type.Integer({ minimum: 0, maximum: MAX_COUNT, description: "active sandboxes" }),
  maxSessions: Type.Integer({ minimum: 0, maximum: MAX_COUNT, description: "open sessions" }),
  maxWebSockets: Type.Integer({ minimum: 0, maximum: MAX_COUNT, description: "open WebSocket connections" }),
  maxExecs: Type.Integer({ minimum: 0, maximum: MAX_COUNT, description: "exec processes running at once" }),
  maxPulls: Type.Integer({
    minimum: 0,
    maximum: MAX_COUNT,
    description: "distinct images being pulled at once for the tenant's sandboxes, and pulls at once through its pull route",
  }),
};

export const TenantLimitsSchema = strictObject(FIELDS);
const pin = <T extends TSchema>(s: T) => Type.Optional(Type.Union([s, Type.Null()]));
export const TenantLimitsPatchSchema = strictObject(
  {
    memoryLimitBytes: pin(FIELDS.memoryLimitBytes),
    cpuCount: pin(FIELDS.cpuCount),
    pidsLimit: pin(FIELDS.pidsLimit),
    maxSandboxes: pin(FIELDS.maxSandboxes),
    maxSessions: pin(FIELDS.maxSessions),
    maxWebSockets: pin(FIELDS.maxWebSockets),
    maxExecs: pin(FIELDS.maxExecs),
    maxPulls: pin(FIELDS.maxPulls),
  },
  "fields to pin; null returns a field to the server default; absent fields are unchanged",
);
export const TenantLimitsViewSchema = strictObject({
  limits: TenantLimitsSchema,
  defaults: TenantLimitsSchema,
  overrides: Type.Partial(TenantLimitsSchema),
});

const Port = Type.Union([Type.Integer({ minimum: 1, maximum: 65535 }), Type.String({ pattern: "^\\d{1,5}-\\d{1,5}$" })]);
export const EgressCeilingBody = strictObject({
  hosts: Type.Array(Type.String({ minLength: 1, maxLength: 255 }), {
    maxItems: 256,
    description: "*, host names, *.suffix patterns, or (with allowAddresses) IPs and CIDRs",
  }),
  ports: Type.Array(Port, { maxItems: 64, description: "ports or from-to ranges" }),
  allowAddresses: Type.Boolean({ description: "whether sandbox rules may name literal addresses" }),
});
export const EgressCeilingViewSchema = strictObject({
  hosts: Type.Array(Type.String()),
  ports: Type.Array(Port),
  allowAddresses: Type.Boolean(),
  custom: Type.Boolean({ description: "false while the tenant runs under the default ceiling" }),
  updatedAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
});

export const SecretViewSchema = strictObject({
  name: Type.String(),
  hosts: Type.Array(Type.String()),
  header: Type.String(),
  format: Type.String(),
  createdAt: Type.String({ format: "date-time" }),
  updatedAt: Type.String({ format: "date-time" }),
});

/** A created key: the listed fields plus the key itself, shown only once. */
export const CreatedApiKeySchema = strictObject({ ...ApiKeySchema.properties, key: Type.String() });

/** A tenant's default sandbox lifetime (ext, admin). */
export const TenantLifetimeViewSchema = strictObject({ tenantId: Type.String(), lifetime: LifetimeSchema });
