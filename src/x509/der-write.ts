// A small DER writer (X.690), for what x509-idp sends: OCSP requests. Values are built bottom-up as byte arrays.

export type Der = Uint8Array;

export function concat(parts: readonly Der[]): Der {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function lengthOctets(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return [0x80 | bytes.length, ...bytes];
}

/** An element with a one-byte identifier (every tag x509-idp writes is below 31). */
export function tlv(identifier: number, content: Der): Der {
  const len = lengthOctets(content.length);
  const out = new Uint8Array(1 + len.length + content.length);
  out[0] = identifier;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}

export const sequence = (...items: Der[]): Der => tlv(0x30, concat(items));
export const octetString = (content: Der): Der => tlv(0x04, content);
export const nullValue = (): Der => Uint8Array.of(0x05, 0x00);
/** [n] EXPLICIT: a constructed context-specific element around `inner`. */
export const explicit = (n: number, inner: Der): Der => tlv(0xa0 | n, inner);

/** An INTEGER from its content octets as they appear in a certificate (already two's complement). */
export const integerFromContent = (content: Der): Der => tlv(0x02, content);

export function oid(dotted: string): Der {
  const arcs = dotted.split(".").map((a) => BigInt(a));
  if (arcs.length < 2) throw new Error(`not an OID: ${dotted}`);
  const out: number[] = [];
  const push = (v: bigint) => {
    const chunk: number[] = [Number(v & 0x7fn)];
    for (let x = v >> 7n; x > 0n; x >>= 7n) chunk.unshift(Number(x & 0x7fn) | 0x80);
    out.push(...chunk);
  };
  push((arcs[0] as bigint) * 40n + (arcs[1] as bigint));
  for (const a of arcs.slice(2)) push(a);
  return tlv(0x06, Uint8Array.from(out));
}

/** AlgorithmIdentifier with NULL parameters (as RFC 6960 examples and OpenSSL write hash algorithms). */
export const algorithmIdentifier = (dotted: string): Der => sequence(oid(dotted), nullValue());
