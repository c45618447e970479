export const m0010Secrets = {
  version: 10,
  name: "secrets",
  sql: `
-- Tenant secrets (issue 17): the value only sealed (host/secret-box.ts), never in clear.
CREATE TABLE secrets (
  tenant_id    TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  sealed_value TEXT NOT NULL,
  hosts        TEXT NOT NULL,
  header       TEXT NOT NULL,
  format       TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (tenant_id, name)
);
`,
};
