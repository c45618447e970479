/**
 * The metadata every sandbox and session resource carries (contract §1),
 * taken from its record.
 */
import type { ResourceMetadata } from "@nimbus/nimbus";

export function resourceMetadata(row: ResourceMetadata): ResourceMetadata {
  const { tenantId, id, generation, resourceVersion, createdAt, updatedAt } = row;
  return { tenantId, id, generation, resourceVersion, createdAt, updatedAt };
}
