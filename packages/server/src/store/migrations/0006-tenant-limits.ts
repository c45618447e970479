export const m0006TenantLimits = {
  version: 6,
  name: "tenant-limits",
  sql: `
-- Per-tenant overrides of the server-wide limit defaults; a field absent from
-- the JSON object follows the default (so a changed default reaches every
-- tenant that did not pin its own value).
CREATE TABLE tenant_limits (
  tenant_id  TEXT NOT NULL PRIMARY KEY REFERENCES tenants(tenant_id) ON DELETE CASCADE,
  limits     TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
`,
};
