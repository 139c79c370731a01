// Parses a DN string into attribute values: RFC 4514/2253 (backslash escapes, \HH byte escapes, #hex values) and
// the RFC 1779 style of the legacy rendering (quoted values, ", " and " + " separators, OID.x.y types), as the JDK's
// X500Principal(String) reads them. RDNs come back in string order (most specific first), as written. Used for DNs
// people write down (a client's registered subject DN, a CA's DN: dn-match.ts) and by the rendering tests.

export class DnSyntaxError extends Error {}

export type ParsedValue = { text: string } | { der: Uint8Array };

export interface ParsedAva {
  /** A keyword as written (upper-cased) or a dotted OID (any "OID." prefix removed). */
  type: string;
  value: ParsedValue;
}

const HEX = /^[0-9a-fA-F]{2}$/;

export function parseDn(input: string): ParsedAva[][] {
  const rdns: ParsedAva[][] = [];
  let i = 0;
  const n = input.length;
  const skipSpaces = () => {
    while (i < n && input[i] === " ") i++;
  };
  if (input.trim() === "") return rdns;

  const readType = (): string => {
    skipSpaces();
    const start = i;
    while (i < n && input[i] !== "=") i++;
    if (i >= n) throw new DnSyntaxError(`missing "=" after "${input.slice(start)}"`);
    const type = input.slice(start, i).trim();
    i++; // "="
    if (!/^([A-Za-z][A-Za-z0-9-]*|(OID\.|oid\.)?\d+(\.\d+)*)$/.test(type)) throw new DnSyntaxError(`bad attribute type "${type}"`);
    return type.replace(/^oid\./i, "").toUpperCase();
  };

  const readValue = (): ParsedValue => {
    skipSpaces();
    if (input[i] === "#") {
      i++;
      const start = i;
      while (i < n && /[0-9a-fA-F]/.test(input[i] as string)) i++;
      const hex = input.slice(start, i);
      if (hex.length === 0 || hex.length % 2) throw new DnSyntaxError("bad #hex value");
      skipSpaces();
      return { der: Uint8Array.from(Buffer.from(hex, "hex")) };
    }
    if (input[i] === '"') {
      i++;
      let s = "";
      while (i < n && input[i] !== '"') {
        if (input[i] === "\\" && i + 1 < n) i++;
        s += input[i++];
      }
      if (i >= n) throw new DnSyntaxError("unclosed quoted value");
      i++;
      skipSpaces();
      return { text: s };
    }
    // Unquoted: runs to an unescaped separator. Bytes from \HH escapes are collected and decoded as UTF-8.
    const bytes: number[] = [];
    const flushChar = (c: string) => bytes.push(...new TextEncoder().encode(c));
    let lastEscapedAt = -1;
    while (i < n && input[i] !== "," && input[i] !== "+" && input[i] !== ";") {
      const c = input[i] as string;
      if (c === "\\") {
        const pair = input.slice(i + 1, i + 3);
        if (HEX.test(pair)) {
          bytes.push(parseInt(pair, 16));
          i += 3;
        } else {
          const cp = input.codePointAt(i + 1);
          if (cp === undefined) throw new DnSyntaxError("trailing backslash");
          flushChar(String.fromCodePoint(cp));
          i += cp > 0xffff ? 3 : 2;
        }
        lastEscapedAt = bytes.length;
        continue;
      }
      const cp = input.codePointAt(i) as number;
      flushChar(String.fromCodePoint(cp));
      i += cp > 0xffff ? 2 : 1;
    }
    // Unescaped trailing spaces belong to the separator, escaped ones to the value.
    while (bytes.length > Math.max(lastEscapedAt, 0) && bytes[bytes.length - 1] === 0x20) bytes.pop();
    return { text: new TextDecoder().decode(Uint8Array.from(bytes)) };
  };

  let rdn: ParsedAva[] = [];
  for (;;) {
    const type = readType();
    rdn.push({ type, value: readValue() });
    if (i >= n) break;
    const sep = input[i++];
    if (sep === "+") continue;
    rdns.push(rdn);
    rdn = [];
  }
  rdns.push(rdn);
  return rdns;
}
