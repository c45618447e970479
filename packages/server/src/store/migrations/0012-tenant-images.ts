export const m0012TenantImages = {
  version: 12,
  name: "tenant-images",
  sql: `
-- Per-tenant image references (issue 15, finding 18). Content stays shared by
-- digest in the image store; a tenant sees and uses only the references here
-- (made by its own pulls, checked against the registry with its own
-- credentials) and the ones the operator marked public.
CREATE TABLE tenant_images (
  tenant_id  TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
  reference  TEXT NOT NULL,
  digest     TEXT NOT NULL,
  pulled_at  TEXT NOT NULL,
  PRIMARY KEY (tenant_id, reference)
);
CREATE INDEX tenant_images_digest ON tenant_images (digest);

-- Images the operator marked public: usable by every tenant. Not tenant data.
CREATE TABLE public_images (
  reference  TEXT PRIMARY KEY,
  digest     TEXT NOT NULL,
  marked_at  TEXT NOT NULL
);
`,
};
