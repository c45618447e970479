/**
 * Schema migrations, applied in order at boot (see db.ts). Never edit a
 * shipped migration; add a new one. Every table carries `tenant_id`, leading
 * its primary key or indexes, so every query is tenant-scoped.
 */
import { m0001Init } from "./0001-init.js";
import { m0002Sandboxes } from "./0002-sandboxes.js";
import { m0003Sessions } from "./0003-sessions.js";
import { m0004Services } from "./0004-services.js";
import { m0006TenantLimits } from "./0006-tenant-limits.js";
import { m0009EgressLog } from "./0009-egress-log.js";
import { m0010Secrets } from "./0010-secrets.js";
import { m0011TenantEgress } from "./0011-tenant-egress.js";
import { m0012TenantImages } from "./0012-tenant-images.js";
import { m0013RegistryCredentials } from "./0013-registry-credentials.js";
import { m0014Processes } from "./0014-processes.js";
import { m0015Lifetimes } from "./0015-lifetimes.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  m0001Init,
  m0002Sandboxes,
  m0003Sessions,
  m0004Services,
  m0006TenantLimits,
  m0009EgressLog,
  m0010Secrets,
  m0011TenantEgress,
  m0012TenantImages,
  m0013RegistryCredentials,
  m0014Processes,
  m0015Lifetimes,
];
