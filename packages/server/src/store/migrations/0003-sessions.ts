export const m0003Sessions = {
  version: 3,
  name: "sessions",
  sql: `
CREATE TABLE sessions (
  tenant_id         TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
  session_id        TEXT NOT NULL,
  generation        INTEGER NOT NULL,
  resource_version  TEXT NOT NULL,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  target            TEXT NOT NULL,
  target_snapshot   TEXT NOT NULL,
  target_sandbox_id TEXT NOT NULL,
  service_name      TEXT,
  channels          TEXT NOT NULL,
  lifecycle_state   TEXT NOT NULL,
  expires_at        TEXT NOT NULL,
  state_changed_at  TEXT NOT NULL,
  closed_at         TEXT,
  close_reason      TEXT,
  PRIMARY KEY (tenant_id, session_id)
);
CREATE INDEX sessions_by_state ON sessions(tenant_id, lifecycle_state);
CREATE INDEX sessions_by_sandbox ON sessions(tenant_id, target_sandbox_id, lifecycle_state);
CREATE INDEX sessions_by_service ON sessions(tenant_id, service_name, lifecycle_state);
-- The lease scheduler's one cross-tenant question: the earliest open deadline.
CREATE INDEX sessions_open_deadlines ON sessions(expires_at) WHERE lifecycle_state = 'open';
`,
};
