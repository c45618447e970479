/**
 * Which registry destinations may be dialled. A reference (or a registry's
 * token realm, or a redirect) can name any host, so every connection the
 * registry client makes is checked on the address actually dialled: literal
 * IPs before connecting, names in the socket's `lookup` (resolve, classify,
 * then connect to that very address, so DNS rebinding cannot swap it).
 * Loopback, link-local, metadata, private, shared, ULA, multicast and
 * reserved addresses are refused unless the operator allows them: the hosts
 * of mirrors and insecure registries, `--registry-allow host[:port]`, or
 * `--registry-allow-private` (every class but cloud metadata).
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { classifyAddress } from "../net/address-class.js";
import { ImageError } from "./errors.js";
import { isLoopbackHost } from "./http-util.js";

export interface DestinationOptions {
  /** Dial loopback, link-local and private addresses (not cloud metadata) for any registry. @default false */
  allowPrivate?: boolean;
  /** `host` or `host:port` the operator names: dialled whatever their address. */
  allow?: string[];
  /** `host:port` spoken to over plain HTTP (insecure registries, http mirrors): operator-allowed too. */
  plainHttp?: string[];
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function hostOnly(hostPort: string): string {
  if (hostPort.startsWith("[")) return hostPort.slice(1, hostPort.indexOf("]"));
  const colon = hostPort.lastIndexOf(":");
  return colon > 0 && hostPort.indexOf(":") === colon ? hostPort.slice(0, colon) : hostPort;
}

export class DestinationPolicy {
  private readonly allowed: Set<string>;
  private readonly plain: Set<string>;
  private readonly allowPrivate: boolean;

  constructor(opts: DestinationOptions = {}) {
    this.plain = new Set((opts.plainHttp ?? []).map((h) => h.toLowerCase()));
    this.allowed = new Set([...(opts.allow ?? []), ...this.plain].map((h) => h.toLowerCase()));
    this.allowPrivate = opts.allowPrivate ?? false;
  }

  /** Named by the operator (as `host:port`, or as `host` for any port). */
  operatorAllowed(hostPort: string): boolean {
    const h = hostPort.toLowerCase();
    return this.allowed.has(h) || this.allowed.has(hostOnly(h));
  }

  /** Plain HTTP is allowed for insecure registries and http mirrors, and for operator-allowed loopback registries. */
  plainHttpAllowed(hostPort: string): boolean {
    const h = hostPort.toLowerCase();
    return this.plain.has(h) || (isLoopbackHost(h) && (this.operatorAllowed(h) || this.allowPrivate));
  }

  private refusal(what: string, hostPort: string): ImageError {
    return new ImageError(
      "forbidden_destination",
      `refused to contact ${hostPort}: ${what}; the operator can allow it with --registry-allow ${hostPort} or --registry-allow-private`,
      { registry: hostPort },
    );
  }

  /** Whether an address of this class may be dialled for `hostPort`. */
  private addressOk(address: string, hostPort: string): boolean {
    if (this.operatorAllowed(hostPort)) return true;
    const cls = classifyAddress(address);
    if (cls === "public") return true;
    return this.allowPrivate && cls !== "metadata" && cls !== "invalid";
  }

  /** Checks a URL before any connection: the scheme, and a literal IP host. */
  checkUrl(url: URL): void {
    if (url.protocol !== "https:" && url.protocol !== "http:") throw this.refusal(`the scheme ${url.protocol} is not http(s)`, url.host);
    const name = hostOnly(url.host);
    const literal = classifyAddress(name);
    if (literal !== "invalid" && !this.addressOk(name, url.host)) throw this.refusal(`its address is ${literal}`, url.host);
    if (literal === "invalid" && name === "localhost" && !this.addressOk("127.0.0.1", url.host)) throw this.refusal("it is loopback", url.host);
  }

  /** A `lookup` for sockets to `hostPort`: resolves, drops addresses that may not be dialled, refuses if none is left. */
  lookupFor(hostPort: string) {
    return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void => {
      dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
        if (err) return callback(err, "");
        const ok = addresses.filter((a) => this.addressOk(a.address, hostPort));
        if (ok.length === 0) {
          const classes = [...new Set(addresses.map((a) => classifyAddress(a.address)))].join(", ");
          return callback(this.refusal(`it resolves only to ${classes || "no"} addresses`, hostPort), "");
        }
        if (options.all) return callback(null, ok);
        callback(null, ok[0]!.address, ok[0]!.family);
      });
    };
  }
}
