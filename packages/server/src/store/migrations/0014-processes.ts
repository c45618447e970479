export const m0014Processes = {
  version: 14,
  name: "processes",
  sql: `
-- Processes started on demand in sandboxes (issue 18). Running ones and, for a
-- while, ended ones with their exit codes; pruned by the domain (processes.ts).
CREATE TABLE processes (
  tenant_id   TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
  sandbox_id  TEXT NOT NULL,
  process_id  TEXT NOT NULL,
  spec        TEXT NOT NULL,
  detach      INTEGER NOT NULL,
  timeout_ms  INTEGER,
  state       TEXT NOT NULL,
  pid         INTEGER,
  exit_code   INTEGER,
  signal      TEXT,
  reason      TEXT,
  created_at  TEXT NOT NULL,
  ended_at    TEXT,
  PRIMARY KEY (tenant_id, sandbox_id, process_id)
);
CREATE INDEX processes_by_state ON processes (state, ended_at);
`,
};
