// runtime/container/egress/address-block.ts — IPv4 arithmetic for the sandbox
// block: the gateway (the bridge's address) and host addresses by index.

export interface Block {
  /** The network address as a 32-bit number. */
  base: number;
  prefixLength: number;
}

export function parseBlock(cidr: string): Block {
  const [addr, len] = cidr.split("/");
  const prefixLength = Number(len);
  if (!addr || !Number.isInteger(prefixLength) || prefixLength < 8 || prefixLength > 29) throw new Error(`bad sandbox block ${cidr}: want a.b.c.d/8..29`);
  const n = toNumber(addr);
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return { base: (n & mask) >>> 0, prefixLength };
}

export function toNumber(addr: string): number {
  const parts = addr.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`bad IPv4 address ${addr}`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function toAddress(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

/** The bridge's own address: the block's first host. */
export function gatewayOf(b: Block): string {
  return toAddress(b.base + 1);
}

/** Number of sandbox addresses (all hosts but the gateway and broadcast). */
export function capacityOf(b: Block): number {
  return 2 ** (32 - b.prefixLength) - 3;
}

/** Sandbox address number `i` (0-based): after the gateway. */
export function sandboxAddress(b: Block, i: number): string {
  if (i < 0 || i >= capacityOf(b)) throw new Error(`sandbox address index ${i} outside the block`);
  return toAddress(b.base + 2 + i);
}

export function contains(b: Block, addr: string): boolean {
  const mask = (0xffffffff << (32 - b.prefixLength)) >>> 0;
  return (toNumber(addr) & mask) >>> 0 === b.base;
}
