/** A tenant's registry credentials (ext): what the API shows (never the password). */
export interface RegistryCredential {
  /** `host[:port]`; Docker Hub is `docker.io`. */
  registry: string;
  username: string;
  createdAt: string;
  updatedAt: string;
}
