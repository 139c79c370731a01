// X.501 Name (RFC 5280 §4.1.2.4):
//   Name ::= RDNSequence;  RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
//   RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
//   AttributeTypeAndValue ::= SEQUENCE { type AttributeType (OID), value ANY DEFINED BY type }
// Decoded in encoding order (most general RDN first); values are kept as bytes, decoding decides nothing.
import { decodeOid, DerError, expect, readTlv, TAG, type Tlv } from "./der.ts";

export interface Ava {
  readonly oid: string;
  /** Universal tag number of the value, or -1 when the value is not a universal primitive (then it is never text). */
  readonly tag: number;
  /** The value's contents. */
  readonly content: Uint8Array;
  /** The value element re-encoded as the JDK does for "#hex" (identifier, minimal length, contents). */
  readonly valueDer: Uint8Array;
}

/** An AVA over the certificate's bytes: its contents and "#hex" encoding are cut out only when read. */
class ParsedAva implements Ava {
  readonly oid: string;
  readonly tag: number;
  readonly #buf: Uint8Array;
  readonly #value: Tlv;
  #content: Uint8Array | undefined;
  #der: Uint8Array | undefined;

  constructor(oid: string, buf: Uint8Array, value: Tlv) {
    this.oid = oid;
    this.#buf = buf;
    this.#value = value;
    this.tag = value.cls === 0 && !value.constructed ? value.num : -1;
  }

  get content(): Uint8Array {
    return (this.#content ??= this.#buf.subarray(this.#value.cs, this.#value.end));
  }

  get valueDer(): Uint8Array {
    return (this.#der ??= reencode(this.#buf, this.#value, this.content));
  }
}

export type Rdn = readonly Ava[];

export interface Name {
  /** The Name as received. */
  readonly der: Uint8Array;
  /** RDNs in encoding order. */
  readonly rdns: readonly Rdn[];
}

function minimalLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return [0x80 | bytes.length, ...bytes];
}

function reencode(buf: Uint8Array, t: Tlv, content: Uint8Array): Uint8Array {
  // Identifier octets as received (a high tag number keeps its form), then DER length, then contents.
  let idEnd = t.start + 1;
  if (((buf[t.start] as number) & 0x1f) === 0x1f) while (((buf[idEnd++] as number) & 0x80) !== 0);
  const len = minimalLength(content.length);
  const out = new Uint8Array(idEnd - t.start + len.length + content.length);
  out.set(buf.subarray(t.start, idEnd), 0);
  out.set(len, idEnd - t.start);
  out.set(content, idEnd - t.start + len.length);
  return out;
}

function parseAva(buf: Uint8Array, t: Tlv): Ava {
  expect(t, TAG.SEQUENCE, "AttributeTypeAndValue", t.start);
  const type = readTlv(buf, t.cs, t.end);
  const oidTlv = expect(type, TAG.OID, "attribute type", t.start);
  if (type.end === t.end) throw new DerError("attribute without a value", t.start);
  const value = readTlv(buf, type.end, t.end);
  if (value.end !== t.end) throw new DerError("extra data in AttributeTypeAndValue", value.end);
  return new ParsedAva(decodeOid(buf, oidTlv), buf, value);
}

/** Parses the Name element `t` of `buf`. */
export function parseName(buf: Uint8Array, t: Tlv): Name {
  expect(t, TAG.SEQUENCE, "Name", t.start);
  const rdns: Rdn[] = [];
  for (let p = t.cs; p < t.end; ) {
    const set = expect(readTlv(buf, p, t.end), TAG.SET, "RelativeDistinguishedName", p);
    if (set.cs === set.end) throw new DerError("empty RelativeDistinguishedName", set.start);
    const avas: Ava[] = [];
    for (let q = set.cs; q < set.end; ) {
      const a = readTlv(buf, q, set.end);
      avas.push(parseAva(buf, a));
      q = a.end;
    }
    rdns.push(avas);
    p = set.end;
  }
  return { der: buf.subarray(t.start, t.end), rdns };
}

/** Parses a DER-encoded Name on its own (e.g. a configured CA subject). */
export function decodeName(der: Uint8Array): Name {
  const t = readTlv(der, 0, der.length);
  if (t.end !== der.length) throw new DerError("trailing data after Name", t.end);
  return parseName(der, t);
}

/** Every value of attribute `oid`, in encoding order. */
export function attributeValues(name: Name, oid: string): Ava[] {
  const out: Ava[] = [];
  for (const rdn of name.rdns) for (const ava of rdn) if (ava.oid === oid) out.push(ava);
  return out;
}
