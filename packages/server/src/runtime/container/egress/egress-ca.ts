// runtime/container/egress/egress-ca.ts — the per-server certificate authority the
// egress proxy uses when it must look inside HTTPS (a rule with methods or path
// prefixes, or a secret bound to the host). Created once under the data dir: the
// key 0600 in a 0700 directory, the certificate beside it for sandboxes to trust.
// Leaf certificates are minted per host name on first use and kept in memory.
// Keys come from node:crypto; certificates are signed by the `openssl` command
// (OpenSSL 3's `req -x509 -CA`), because Node has no X.509 writer and the npm
// writers need a global reflection polyfill.

import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { runChecked } from "../exec.js";

export interface CaFiles {
  /** PEM of the CA certificate: what sandboxes trust. */
  certPem: string;
  certPath: string;
  keyPath: string;
}

export interface LeafCert {
  keyPem: string;
  certPem: string;
  expiresAtMs: number;
}

const CA_DAYS = 3650;
const LEAF_DAYS = 7;
/** A leaf is minted again this long before it expires. */
const LEAF_RENEW_MS = 24 * 3600 * 1000;
const HOST = /^(?=.{1,253}$)(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)*(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function newKeyPem(): string {
  return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/** Writes `data` to a new file that is 0600 from its first byte. */
function writePrivate(path: string, data: string): void {
  const fd = openSync(path, "wx", 0o600);
  try {
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

export class EgressCa {
  private readonly leaves = new Map<string, LeafCert>();
  private readonly minting = new Map<string, Promise<LeafCert>>();

  private constructor(
    readonly files: CaFiles,
    private readonly dir: string,
  ) {}

  /** The CA under `dir` (e.g. `<data-dir>/egress-ca`), created on first use. */
  static async open(dir: string, commonName = "Nimbus egress CA"): Promise<EgressCa> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const keyPath = join(dir, "ca.key");
    const certPath = join(dir, "ca.crt");
    if (!existsSync(certPath) || !existsSync(keyPath)) {
      // Made in a scratch dir and renamed in, so a crash never leaves half a CA.
      const scratch = mkdtempSync(join(dir, ".new-"));
      try {
        writePrivate(join(scratch, "ca.key"), newKeyPem());
        await runChecked("openssl", [
          "req",
          "-x509",
          "-new",
          "-key",
          join(scratch, "ca.key"),
          "-out",
          join(scratch, "ca.crt"),
          "-days",
          String(CA_DAYS),
          "-subj",
          `/CN=${commonName.replace(/[/=+,]/g, " ")}`,
          "-addext",
          "basicConstraints=critical,CA:TRUE,pathlen:0",
          "-addext",
          "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        renameSync(join(scratch, "ca.key"), keyPath);
        renameSync(join(scratch, "ca.crt"), certPath);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    }
    chmodSync(keyPath, 0o600);
    return new EgressCa({ certPem: readFileSync(certPath, "utf8"), certPath, keyPath }, dir);
  }

  /** A certificate for `host` signed by this CA (cached; minted once per host at a time). */
  async leafFor(host: string): Promise<LeafCert> {
    const name = host.toLowerCase();
    if (!HOST.test(name)) throw new Error(`not a host name: ${JSON.stringify(host)}`);
    const cached = this.leaves.get(name);
    if (cached && cached.expiresAtMs - Date.now() > LEAF_RENEW_MS) return cached;
    const pending = this.minting.get(name);
    if (pending) return pending;
    const p = this.mint(name).finally(() => this.minting.delete(name));
    this.minting.set(name, p);
    return p;
  }

  private async mint(name: string): Promise<LeafCert> {
    const scratch = mkdtempSync(join(this.dir, ".leaf-"));
    try {
      const keyPem = newKeyPem();
      writePrivate(join(scratch, "leaf.key"), keyPem);
      await runChecked("openssl", [
        "req",
        "-x509",
        "-new",
        "-key",
        join(scratch, "leaf.key"),
        "-out",
        join(scratch, "leaf.crt"),
        "-days",
        String(LEAF_DAYS),
        "-CA",
        this.files.certPath,
        "-CAkey",
        this.files.keyPath,
        "-subj",
        `/CN=${name}`,
        "-addext",
        `subjectAltName=DNS:${name}`,
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "extendedKeyUsage=serverAuth",
      ]);
      const certPem = readFileSync(join(scratch, "leaf.crt"), "utf8");
      const leaf = { keyPem, certPem, expiresAtMs: Date.parse(new X509Certificate(certPem).validTo) };
      this.leaves.set(name, leaf);
      return leaf;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
}
