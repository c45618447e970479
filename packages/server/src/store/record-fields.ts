/** The fields records of several tables share, declared once for their row types. */

/** What every record of a tenant keeps about itself: whose it is, when it was made and last changed. */
export interface TenantRecordTimes {
  tenantId: string;
  createdAt: string;
  updatedAt: string;
}

/** A record that also counts its spec's revisions (`generation`) and any change (`resourceVersion`). */
export interface VersionedRecord extends TenantRecordTimes {
  generation: number;
  resourceVersion: string;
}
