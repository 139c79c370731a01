// IDP_TRUSTED_PROXIES: the addresses (CIDR blocks) whose forwarded header fields x509-idp believes. Everything a
// proxy tells (client certificate, client address, scheme, host) is read only from a TCP peer inside this list.
import net from "node:net";

export class TrustedProxies {
  readonly #list = new net.BlockList();
  readonly cidrs: readonly string[];

  /** Throws Error with a message naming the bad entry. */
  constructor(cidrs: readonly string[]) {
    this.cidrs = cidrs;
    for (const entry of cidrs) {
      const [address = "", bits, extra] = entry.split("/");
      const family = net.isIPv4(address) ? "ipv4" : net.isIPv6(address) ? "ipv6" : undefined;
      const max = family === "ipv4" ? 32 : 128;
      const prefix = bits === undefined ? max : Number(bits);
      if (!family || extra !== undefined || (bits !== undefined && !/^\d{1,3}$/.test(bits)) || prefix > max) {
        throw new Error(`"${entry}" is not an IP address or CIDR block (e.g. 10.0.0.0/8, 192.0.2.7, fd00::/8)`);
      }
      this.#list.addSubnet(address, prefix, family);
    }
  }

  static parse(list: string | undefined): TrustedProxies {
    return new TrustedProxies((list ?? "").split(/[\s,]+/).filter((s) => s !== ""));
  }

  get empty(): boolean {
    return this.cidrs.length === 0;
  }

  /** Whether a peer address (as Node reports it, IPv4-mapped IPv6 included) is a trusted proxy. */
  contains(address: string | undefined): boolean {
    if (!address || this.cidrs.length === 0) return false;
    const plain = unmapped(address);
    return this.#list.check(plain, net.isIPv4(plain) ? "ipv4" : "ipv6");
  }
}

/** "::ffff:192.0.2.1" (an IPv4 peer on a dual-stack socket) → "192.0.2.1". */
export function unmapped(address: string): string {
  return address.startsWith("::ffff:") && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}
