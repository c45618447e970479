export const m0009EgressLog = {
  version: 9,
  name: "egress-log",
  sql: `
-- The egress decision log (issue 17): one row per connection attempt or DNS
-- query of a sandbox, kept as a bounded ring per sandbox and for a bounded time.
CREATE TABLE egress_log (
  seq          INTEGER PRIMARY KEY,
  tenant_id    TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
  sandbox_id   TEXT NOT NULL,
  at           TEXT NOT NULL,
  kind         TEXT NOT NULL,
  name         TEXT,
  address      TEXT,
  port         INTEGER,
  protocol     TEXT NOT NULL,
  decision     TEXT NOT NULL,
  rule         TEXT,
  reason       TEXT,
  bytes_up     INTEGER,
  bytes_down   INTEGER,
  duration_ms  INTEGER
);
CREATE INDEX egress_log_by_sandbox ON egress_log(tenant_id, sandbox_id, seq);
CREATE INDEX egress_log_by_time ON egress_log(at);
`,
};
