/** Tenant secrets (ext): what the API shows of one (never its value). */
export interface Secret {
  name: string;
  /** Exact host names or `*.suffix` patterns the value may be sent to. */
  hosts: string[];
  /** The request header the egress proxy puts the value in. */
  header: string;
  /** How the value is written into the header; `{value}` stands for it. */
  format: string;
  createdAt: string;
  updatedAt: string;
}
