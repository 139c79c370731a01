// A small, strict-enough DER reader over the received bytes (X.690 §8, §10). It never copies: every element is a
// view (offsets) into the original buffer, so thumbprints and "#hex" renderings always use the bytes as received.
// Definite lengths only; anything that runs past its parent is an error, never an out-of-bounds read.

export class DerError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.offset = offset;
  }
}

/** Tag classes (X.690 §8.1.2.2). */
export const UNIVERSAL = 0;
export const CONTEXT = 2;

/** Universal tag numbers used here (X.680 §8.4). */
export const TAG = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  UTF8_STRING: 12,
  SEQUENCE: 16,
  SET: 17,
  NUMERIC_STRING: 18,
  PRINTABLE_STRING: 19,
  T61_STRING: 20,
  VIDEOTEX_STRING: 21,
  IA5_STRING: 22,
  UTC_TIME: 23,
  GENERALIZED_TIME: 24,
  GRAPHIC_STRING: 25,
  VISIBLE_STRING: 26,
  GENERAL_STRING: 27,
  UNIVERSAL_STRING: 28,
  BMP_STRING: 30,
} as const;

/** One element: where it starts, its tag, and where its contents are. */
export interface Tlv {
  /** Offset of the identifier octet. */
  readonly start: number;
  readonly cls: number;
  readonly constructed: boolean;
  readonly num: number;
  /** Offset of the first content octet. */
  readonly cs: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

/** Lengths take at most 4 bytes: nothing in a certificate approaches 4 GiB. */
const MAX_LENGTH_BYTES = 4;

/** Reads the element at `pos`, which must end at or before `limit`. */
export function readTlv(buf: Uint8Array, pos: number, limit: number): Tlv {
  if (pos >= limit) throw new DerError("unexpected end of data", pos);
  const id = buf[pos] as number;
  const cls = id >> 6;
  const constructed = (id & 0x20) !== 0;
  let num = id & 0x1f;
  let p = pos + 1;
  if (num === 0x1f) {
    // High tag number form: base-128, at most 4 bytes (tag numbers below 2^28 are plenty).
    num = 0;
    for (let i = 0; ; i++) {
      if (p >= limit || i === 4) throw new DerError("bad tag", pos);
      const b = buf[p++] as number;
      num = num * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (p >= limit) throw new DerError("missing length", pos);
  let len = buf[p++] as number;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError("indefinite length", pos);
    if (n > MAX_LENGTH_BYTES) throw new DerError("length too large", pos);
    len = 0;
    for (let i = 0; i < n; i++) {
      if (p >= limit) throw new DerError("truncated length", pos);
      len = len * 256 + (buf[p++] as number);
    }
  }
  const end = p + len;
  if (end > limit) throw new DerError("element runs past its container", pos);
  return { start: pos, cls, constructed, num, cs: p, end };
}

/** The elements inside a constructed element (or inside [from, to)). */
export function children(buf: Uint8Array, from: number, to: number): Tlv[] {
  const out: Tlv[] = [];
  for (let p = from; p < to; ) {
    const t = readTlv(buf, p, to);
    out.push(t);
    p = t.end;
  }
  return out;
}

export const isUniversal = (t: Tlv, num: number) => t.cls === UNIVERSAL && t.num === num;
export const isContext = (t: Tlv, num: number) => t.cls === CONTEXT && t.num === num;

export function expect(t: Tlv | undefined, num: number, what: string, at = 0): Tlv {
  if (!t) throw new DerError(`missing ${what}`, at);
  if (!isUniversal(t, num)) throw new DerError(`expected ${what}`, t.start);
  return t;
}

interface CachedOid {
  readonly bytes: Uint8Array;
  readonly text: string;
}
/** Decoded OIDs by a hash of their content octets; entries with the same hash are told apart by their bytes. */
const oidCache = new Map<number, CachedOid[]>();
const OID_CACHE_MAX = 4096;
let oidCacheEntries = 0;

function cachedOid(buf: Uint8Array, from: number, to: number, hash: number): string | undefined {
  const bucket = oidCache.get(hash);
  if (bucket === undefined) return undefined;
  next: for (const e of bucket) {
    if (e.bytes.length !== to - from) continue;
    for (let i = 0; i < e.bytes.length; i++) if (e.bytes[i] !== buf[from + i]) continue next;
    return e.text;
  }
  return undefined;
}

/** Dotted-decimal OID (X.690 §8.19). Arcs beyond 2^53 are decoded exactly with BigInt. */
export function decodeOid(buf: Uint8Array, t: Tlv): string {
  if (t.end === t.cs) throw new DerError("empty OID", t.start);
  if ((buf[t.end - 1] as number) & 0x80) throw new DerError("truncated OID", t.start);
  // Certificates repeat a few dozen OIDs: remember their text by their bytes.
  let hash = t.end - t.cs;
  for (let p = t.cs; p < t.end; p++) hash = (Math.imul(hash, 31) + (buf[p] as number)) | 0;
  const hit = cachedOid(buf, t.cs, t.end, hash);
  if (hit !== undefined) return hit;
  const arcs: string[] = [];
  let v = 0;
  let big: bigint | undefined;
  let first = true;
  for (let p = t.cs; p < t.end; p++) {
    const b = buf[p] as number;
    if (big !== undefined) big = big * 128n + BigInt(b & 0x7f);
    // v * 128 + 127 must stay below 2^53: switch to BigInt from 2^45 on.
    else if (v >= 0x200000000000) big = BigInt(v) * 128n + BigInt(b & 0x7f);
    else v = v * 128 + (b & 0x7f);
    if (b & 0x80) continue;
    if (first) {
      // The first subidentifier holds the first two arcs: X*40+Y (X ≤ 2).
      if (big !== undefined) arcs.push("2", (big - 80n).toString());
      else {
        const x = v < 40 ? 0 : v < 80 ? 1 : 2;
        arcs.push(String(x), String(v - x * 40));
      }
      first = false;
    } else {
      arcs.push(big !== undefined ? big.toString() : String(v));
    }
    v = 0;
    big = undefined;
  }
  const oid = arcs.join(".");
  if (oidCacheEntries < OID_CACHE_MAX) {
    const entry = { bytes: buf.slice(t.cs, t.end), text: oid };
    const bucket = oidCache.get(hash);
    if (bucket) bucket.push(entry);
    else oidCache.set(hash, [entry]);
    oidCacheEntries++;
  }
  return oid;
}

/** A two's-complement INTEGER as a BigInt (X.690 §8.3). */
export function decodeInteger(buf: Uint8Array, t: Tlv): bigint {
  if (t.end === t.cs) throw new DerError("empty INTEGER", t.start);
  let n = 0n;
  for (let p = t.cs; p < t.end; p++) n = (n << 8n) | BigInt(buf[p] as number);
  const bits = BigInt((t.end - t.cs) * 8);
  return (buf[t.cs] as number) & 0x80 ? n - (1n << bits) : n;
}

/** A small non-negative INTEGER as a number (versions, path lengths), or an error when it does not fit. */
export function decodeSmallInt(buf: Uint8Array, t: Tlv): number {
  const n = decodeInteger(buf, t);
  if (n < 0n || n > 0x7fffffffn) throw new DerError("INTEGER out of range", t.start);
  return Number(n);
}

/** BIT STRING contents: the unused-bit count and the bytes after it. */
export function bitString(buf: Uint8Array, t: Tlv): { unused: number; bytes: Uint8Array } {
  if (t.end === t.cs) throw new DerError("empty BIT STRING", t.start);
  const unused = buf[t.cs] as number;
  if (unused > 7) throw new DerError("bad BIT STRING", t.start);
  return { unused, bytes: buf.subarray(t.cs + 1, t.end) };
}

const digits = (buf: Uint8Array, from: number, n: number, at: number): number => {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = (buf[from + i] as number) - 48;
    if (c < 0 || c > 9) throw new DerError("bad time", at);
    v = v * 10 + c;
  }
  return v;
};

/** UTCTime or GeneralizedTime in Zulu form (RFC 5280 §4.1.2.5), as milliseconds since the epoch. */
export function decodeTime(buf: Uint8Array, t: Tlv): number {
  const len = t.end - t.cs;
  let year: number;
  let p = t.cs;
  if (isUniversal(t, TAG.UTC_TIME)) {
    if (len < 11) throw new DerError("bad UTCTime", t.start);
    const yy = digits(buf, p, 2, t.start);
    year = yy >= 50 ? 1900 + yy : 2000 + yy; // RFC 5280 §4.1.2.5.1
    p += 2;
  } else if (isUniversal(t, TAG.GENERALIZED_TIME)) {
    if (len < 13) throw new DerError("bad GeneralizedTime", t.start);
    year = digits(buf, p, 4, t.start);
    p += 4;
  } else {
    throw new DerError("expected a time", t.start);
  }
  const month = digits(buf, p, 2, t.start);
  const day = digits(buf, p + 2, 2, t.start);
  const hour = digits(buf, p + 4, 2, t.start);
  const minute = digits(buf, p + 6, 2, t.start);
  p += 8;
  let second = 0;
  if (p < t.end && buf[p] !== 0x5a) {
    second = digits(buf, p, 2, t.start);
    p += 2;
  }
  let ms = 0;
  if (p < t.end && (buf[p] === 0x2e || buf[p] === 0x2c)) {
    let scale = 100;
    for (p++; p < t.end && buf[p] !== 0x5a; p++) {
      ms += digits(buf, p, 1, t.start) * scale;
      scale /= 10;
    }
    ms = Math.floor(ms);
  }
  if (p !== t.end - 1 || buf[p] !== 0x5a) throw new DerError("time is not in UTC (Z)", t.start);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) throw new DerError("bad time", t.start);
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** The contents of an element as a new hex string (for thumbprint-like values). */
export function hexOf(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i] as number];
  return s;
}
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
