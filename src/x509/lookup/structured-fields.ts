// RFC 8941 Structured Field Values, as far as certificate fields need them: Items and Lists whose members are bare
// items with parameters (RFC 9440's Client-Cert and Client-Cert-Chain, HAProxy's `:base64:` values). Inner lists and
// dictionaries are recognised only to be refused. Parsing follows RFC 8941 §4.2: any deviation fails the whole field.

export type BareItem =
  | { type: "binary"; bytes: Uint8Array }
  | { type: "string"; value: string }
  | { type: "token"; value: string }
  | { type: "number"; value: number }
  | { type: "boolean"; value: boolean };

export interface SfItem {
  item: BareItem;
  params: Map<string, BareItem>;
}

export class StructuredFieldError extends Error {}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const KEY_START = /[a-z*]/;
const KEY_CHAR = /[a-z0-9_\-.*]/;
const TOKEN_START = /[A-Za-z*]/;
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/;

class Cursor {
  pos = 0;
  readonly s: string;
  constructor(s: string) {
    this.s = s;
  }
  get done(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): string {
    return this.s[this.pos] ?? "";
  }
  skipSp(): void {
    while (this.s[this.pos] === " ") this.pos++;
  }
  skipOws(): void {
    while (this.s[this.pos] === " " || this.s[this.pos] === "\t") this.pos++;
  }
  fail(what: string): never {
    throw new StructuredFieldError(`${what} at position ${this.pos}`);
  }
}

function byteSequence(c: Cursor): BareItem {
  c.pos++; // ":"
  const end = c.s.indexOf(":", c.pos);
  if (end < 0) c.fail("unterminated byte sequence");
  const text = c.s.slice(c.pos, end);
  if (!BASE64.test(text) || text.replace(/=+$/, "").length % 4 === 1) c.fail("invalid base64 in a byte sequence");
  c.pos = end + 1;
  const b = Buffer.from(text, "base64");
  return { type: "binary", bytes: new Uint8Array(b.buffer, b.byteOffset, b.length) };
}

function string(c: Cursor): BareItem {
  c.pos++; // '"'
  let out = "";
  for (;;) {
    if (c.done) c.fail("unterminated string");
    const ch = c.peek();
    c.pos++;
    if (ch === "\\") {
      const next = c.peek();
      if (next !== '"' && next !== "\\") c.fail("invalid escape in a string");
      out += next;
      c.pos++;
    } else if (ch === '"') {
      return { type: "string", value: out };
    } else {
      const code = ch.charCodeAt(0);
      if (code < 0x20 || code > 0x7e) c.fail("invalid character in a string");
      out += ch;
    }
  }
}

function number(c: Cursor): BareItem {
  const m = /^-?\d{1,15}(?:\.\d{1,3})?/.exec(c.s.slice(c.pos));
  if (!m) c.fail("invalid number");
  const text = m[0];
  if (text.includes(".") && text.replace("-", "").indexOf(".") > 12) c.fail("invalid decimal");
  c.pos += text.length;
  return { type: "number", value: Number(text) };
}

function bareItem(c: Cursor): BareItem {
  const ch = c.peek();
  if (ch === ":") return byteSequence(c);
  if (ch === '"') return string(c);
  if (ch === "-" || (ch >= "0" && ch <= "9")) return number(c);
  if (ch === "?") {
    const v = c.s[c.pos + 1];
    if (v !== "0" && v !== "1") c.fail("invalid boolean");
    c.pos += 2;
    return { type: "boolean", value: v === "1" };
  }
  if (TOKEN_START.test(ch)) {
    const start = c.pos;
    while (!c.done && TOKEN_CHAR.test(c.peek())) c.pos++;
    return { type: "token", value: c.s.slice(start, c.pos) };
  }
  if (ch === "(") c.fail("inner lists are not allowed here");
  return c.fail("expected an item");
}

function parameters(c: Cursor): Map<string, BareItem> {
  const params = new Map<string, BareItem>();
  while (c.peek() === ";") {
    c.pos++;
    c.skipSp();
    if (!KEY_START.test(c.peek())) c.fail("invalid parameter name");
    const start = c.pos;
    while (!c.done && KEY_CHAR.test(c.peek())) c.pos++;
    const key = c.s.slice(start, c.pos);
    let value: BareItem = { type: "boolean", value: true };
    if (c.peek() === "=") {
      c.pos++;
      value = bareItem(c);
    }
    params.set(key, value);
  }
  return params;
}

function member(c: Cursor): SfItem {
  const item = bareItem(c);
  return { item, params: parameters(c) };
}

/** An Item field (RFC 8941 §4.2: leading and trailing spaces allowed, nothing else around it). */
export function parseItem(input: string): SfItem {
  const c = new Cursor(input);
  c.skipSp();
  const m = member(c);
  c.skipSp();
  if (!c.done) c.fail("unexpected characters after the item");
  return m;
}

/** A List field; an empty field is an empty list. */
export function parseList(input: string): SfItem[] {
  const c = new Cursor(input);
  c.skipSp();
  const out: SfItem[] = [];
  while (!c.done) {
    out.push(member(c));
    c.skipOws();
    if (c.done) break;
    if (c.peek() !== ",") c.fail("expected a comma between list members");
    c.pos++;
    c.skipOws();
    if (c.done) c.fail("trailing comma");
  }
  return out;
}

/** The bytes of a field that must be a Byte Sequence item. */
export function byteSequenceItem(input: string): Uint8Array {
  const { item } = parseItem(input);
  if (item.type !== "binary") throw new StructuredFieldError(`a ${item.type} where a byte sequence is required`);
  return item.bytes;
}
