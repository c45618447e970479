export const m0015Lifetimes = {
  version: 15,
  name: "lifetimes",
  sql: `
-- Sandbox lifetimes (issue 18): the deadlines are stored so a restarted server
-- re-arms them, and one that passed while it was down fires at start.
ALTER TABLE sandboxes ADD COLUMN expires_at TEXT;
ALTER TABLE sandboxes ADD COLUMN idle_expires_at TEXT;
-- The operator's default lifetime for a tenant's new sandboxes (a JSON object
-- {ttlSeconds?, idleTimeoutSeconds?, onExpire}); absent = no default.
CREATE TABLE tenant_lifetimes (
  tenant_id  TEXT PRIMARY KEY REFERENCES tenants(tenant_id) ON DELETE CASCADE,
  lifetime   TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
`,
};
