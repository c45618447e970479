export const m0011TenantEgress = {
  version: 11,
  name: "tenant-egress",
  sql: `
-- Each tenant's egress ceiling (issue 17), set by the operator; absent = the default.
CREATE TABLE tenant_egress (
  tenant_id  TEXT PRIMARY KEY REFERENCES tenants(tenant_id) ON DELETE CASCADE,
  ceiling    TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
`,
};
