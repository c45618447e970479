export const m0004Services = {
  version: 4,
  name: "services",
  sql: `
CREATE TABLE services (
  tenant_id        TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
  name             TEXT NOT NULL,
  generation       INTEGER NOT NULL,
  resource_version TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  labels           TEXT NOT NULL,
  spec             TEXT NOT NULL,
  state            TEXT NOT NULL,
  state_changed_at TEXT NOT NULL,
  sandbox_id       TEXT,
  restart_count    INTEGER NOT NULL DEFAULT 0,
  exit_code        INTEGER,
  message          TEXT,
  PRIMARY KEY (tenant_id, name)
);
-- The supervisor's boot question: which services were meant to be running.
CREATE INDEX services_by_state ON services(state);
`,
};
