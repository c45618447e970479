export const m0013RegistryCredentials = {
  version: 13,
  name: "registry-credentials",
  sql: `
-- A tenant's registry credentials (issue 15, finding 18), one per registry
-- host; the password only sealed (host/secret-box.ts), never in clear.
CREATE TABLE registry_credentials (
  tenant_id       TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
  registry        TEXT NOT NULL,
  username        TEXT NOT NULL,
  sealed_password TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  PRIMARY KEY (tenant_id, registry)
);
`,
};
