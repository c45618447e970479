export const m0002Sandboxes = {
  version: 2,
  name: "sandboxes",
  sql: `
CREATE TABLE sandboxes (
  tenant_id        TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
  sandbox_id       TEXT NOT NULL,
  generation       INTEGER NOT NULL,
  resource_version TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  labels           TEXT NOT NULL,
  profile          TEXT NOT NULL,
  spec             TEXT NOT NULL,
  service_name     TEXT,
  lifecycle_state  TEXT NOT NULL,
  state_changed_at TEXT NOT NULL,
  reason           TEXT,
  message          TEXT,
  exit_code        INTEGER,
  phases           TEXT NOT NULL,
  image_digest     TEXT,
  endpoints        TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (tenant_id, sandbox_id)
);
CREATE INDEX sandboxes_by_state ON sandboxes(tenant_id, lifecycle_state);
CREATE INDEX sandboxes_by_service ON sandboxes(tenant_id, service_name);
`,
};
