export const m0001Init = {
  version: 1,
  name: "init",
  sql: `
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters (name, value) VALUES ('resource_version', 0);

CREATE TABLE tenants (
  tenant_id  TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
);

CREATE TABLE api_keys (
  tenant_id    TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
  key_id       TEXT NOT NULL,
  name         TEXT,
  secret_hash  BLOB NOT NULL,
  created_at   TEXT NOT NULL,
  last_used_at TEXT,
  PRIMARY KEY (tenant_id, key_id)
);
CREATE UNIQUE INDEX api_keys_by_key_id ON api_keys(key_id);
`,
};
