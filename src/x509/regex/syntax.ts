// Parser for the part of java.util.regex syntax that can run in linear time (no back-references, look-around,
// atomic groups or possessive quantifiers: each is refused with a message saying so). The result is a small AST.
//
// Supported: literals and escapes (\t \n \r \f \a \e \0oo \xhh \x{h…} \uhhhh \cX \Q…\E, escaped punctuation), . ,
// classes [..] with ranges, negation and \d \D \w \W \s \S, anchors ^ $ \A \z \Z \b \B, groups (…) (?:…) (?<name>…),
// alternation, and * + ? {n} {n,} {n,m} with a lazy ? suffix; (?i) (a no-op: matching is always case-insensitive).

export class RegexSyntaxError extends Error {
  readonly index: number;
  constructor(message: string, index: number) {
    super(`${message} (at position ${index})`);
    this.index = index;
  }
}

/** A set of code points: sorted, non-overlapping [lo, hi] pairs, maybe negated. */
export interface CharClass {
  ranges: number[];
  negated: boolean;
}

export type Node =
  | { k: "empty" }
  | { k: "char"; cls: CharClass }
  | { k: "any" }
  | { k: "cat"; items: Node[] }
  | { k: "alt"; items: Node[] }
  | { k: "group"; capture: number | undefined; body: Node }
  | { k: "repeat"; body: Node; min: number; max: number; greedy: boolean; ques: boolean }
  | { k: "assert"; kind: "begin" | "end" | "endz" | "bol" | "eol" | "word" | "notword" };

export interface Parsed {
  node: Node;
  groups: number;
}

export const MAX_REPEAT = 1000;

const DIGIT = [0x30, 0x39];
const WORD = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
const SPACE = [0x09, 0x0d, 0x20, 0x20];

function normalize(ranges: number[]): number[] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i] as number, ranges[i + 1] as number]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    const last = out.length - 1;
    if (out.length && lo <= (out[last] as number) + 1) out[last] = Math.max(out[last] as number, hi);
    else out.push(lo, hi);
  }
  return out;
}

function complement(ranges: number[]): number[] {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    if ((ranges[i] as number) > next) out.push(next, (ranges[i] as number) - 1);
    next = (ranges[i + 1] as number) + 1;
  }
  if (next <= 0x10ffff) out.push(next, 0x10ffff);
  return out;
}

export function parse(src: string): Parsed {
  const cps = [...src].map((c) => c.codePointAt(0) as number);
  let i = 0;
  let groups = 0;
  const peek = () => cps[i];
  const at = (c: string) => cps[i] === c.codePointAt(0);
  const fail = (msg: string, pos = i): never => {
    throw new RegexSyntaxError(msg, pos);
  };

  function hexDigits(n: number): number {
    let v = 0;
    for (let k = 0; k < n; k++) {
      const c = cps[i++];
      const d = c === undefined ? -1 : parseInt(String.fromCodePoint(c), 16);
      if (Number.isNaN(d) || d < 0) fail("bad hexadecimal escape", i - 1);
      v = v * 16 + d;
    }
    return v;
  }

  /** An escape after "\" that stands for one character, or a class (\d…), or undefined for assertions. */
  function escape(inClass: boolean): number | number[] {
    const start = i - 1;
    const c = cps[i++];
    if (c === undefined) return fail("trailing backslash", start);
    const ch = String.fromCodePoint(c);
    switch (ch) {
      case "t": return 0x09;
      case "n": return 0x0a;
      case "r": return 0x0d;
      case "f": return 0x0c;
      case "a": return 0x07;
      case "e": return 0x1b;
      case "d": return DIGIT;
      case "D": return complement(DIGIT);
      case "w": return WORD;
      case "W": return complement(WORD);
      case "s": return SPACE;
      case "S": return complement(SPACE);
      case "0": {
        let v = 0;
        let n = 0;
        while (n < 3 && cps[i] !== undefined && (cps[i] as number) >= 0x30 && (cps[i] as number) <= 0x37 && v * 8 + ((cps[i] as number) - 0x30) <= 0o377) {
          v = v * 8 + ((cps[i++] as number) - 0x30);
          n++;
        }
        if (n === 0) fail("illegal octal escape", start);
        return v;
      }
      case "x": {
        if (at("{")) {
          i++;
          let v = 0;
          let n = 0;
          while (cps[i] !== undefined && !at("}")) {
            v = v * 16 + hexDigits(1);
            n++;
            if (v > 0x10ffff) fail("hexadecimal code point out of range", start);
          }
          if (!at("}") || n === 0) fail("unclosed \\x{…}", start);
          i++;
          return v;
        }
        return hexDigits(2);
      }
      case "u": return hexDigits(4);
      case "c": {
        const x = cps[i++];
        if (x === undefined) return fail("\\c needs a character", start);
        return x ^ 64;
      }
      default:
        break;
    }
    if (/[1-9]/.test(ch) || ch === "k") fail("back-references cannot run in linear time and are not supported", start);
    if (ch === "p" || ch === "P") fail("Unicode properties (\\p{…}) are not supported", start);
    if (!inClass && "bBAzZG".includes(ch)) {
      if (ch === "G") fail("\\G is not supported", start);
      i--;
      return [];
    }
    if (/[A-Za-z]/.test(ch)) fail(`unsupported escape \\${ch}`, start);
    return c;
  }

  function parseClass(): CharClass {
    const start = i - 1;
    let negated = false;
    if (at("^")) {
      negated = true;
      i++;
    }
    const ranges: number[] = [];
    let first = true;
    for (;;) {
      const c = peek();
      if (c === undefined) fail("unclosed character class", start);
      if (at("]") && !first) {
        i++;
        break;
      }
      if (at("]") && first) fail("empty character class", start);
      if (at("[")) fail("nested character classes are not supported", i);
      if (at("&") && cps[i + 1] === 0x26) fail("class intersection (&&) is not supported", i);
      first = false;
      let lo: number | number[];
      i++;
      lo = c === 0x5c ? escape(true) : (c as number);
      if (Array.isArray(lo)) {
        ranges.push(...lo);
        continue;
      }
      if (at("-") && cps[i + 1] !== undefined && cps[i + 1] !== 0x5d) {
        i++;
        let hi: number | number[];
        const h = cps[i++] as number;
        hi = h === 0x5c ? escape(true) : h;
        if (Array.isArray(hi)) fail("a range cannot end in a class escape", i - 1);
        if ((hi as number) < lo) fail("range out of order in character class", i - 1);
        ranges.push(lo, hi as number);
      } else {
        ranges.push(lo, lo);
      }
    }
    return { ranges: normalize(ranges), negated };
  }

  function quantifier(): { min: number; max: number; ques?: boolean } | undefined {
    const c = peek();
    if (c === 0x2a) { i++; return { min: 0, max: Infinity }; }
    if (c === 0x2b) { i++; return { min: 1, max: Infinity }; }
    if (c === 0x3f) { i++; return { min: 0, max: 1, ques: true }; }
    if (c !== 0x7b) return undefined;
    const start = i;
    i++;
    const num = () => {
      let v = -1;
      while (peek() !== undefined && (peek() as number) >= 0x30 && (peek() as number) <= 0x39) v = (v < 0 ? 0 : v * 10) + ((cps[i++] as number) - 0x30);
      return v;
    };
    const min = num();
    if (min < 0) fail("illegal repetition", start);
    let max = min;
    if (at(",")) {
      i++;
      const m = num();
      max = m < 0 ? Infinity : m;
    }
    if (!at("}")) fail("illegal repetition", start);
    i++;
    if (max < min) fail("illegal repetition range", start);
    if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) fail(`repetition counts above ${MAX_REPEAT} are not supported`, start);
    return { min, max };
  }

  function parseAtom(): Node | undefined {
    const start = i;
    const c = peek();
    if (c === undefined || at("|") || at(")")) return undefined;
    i++;
    switch (c) {
      case 0x2e: return { k: "any" };
      case 0x5e: return { k: "assert", kind: "bol" };
      case 0x24: return { k: "assert", kind: "eol" };
      case 0x5b: return { k: "char", cls: parseClass() };
      case 0x2a: case 0x2b: case 0x3f: return fail("dangling quantifier", start);
      case 0x7b: return fail("illegal repetition", start);
      case 0x28: {
        let capture: number | undefined;
        if (at("?")) {
          i++;
          const k = peek();
          if (k === 0x3a) i++;
          else if (k === 0x3c && cps[i + 1] !== 0x3d && cps[i + 1] !== 0x21) {
            i++;
            const nameStart = i;
            while (peek() !== undefined && /[A-Za-z0-9]/.test(String.fromCodePoint(peek() as number))) i++;
            if (!at(">") || i === nameStart) fail("bad group name", start);
            i++;
            capture = ++groups;
          } else if (k === 0x3d || k === 0x21 || k === 0x3c) fail("look-around cannot run in linear time and is not supported", start);
          else if (k === 0x3e) fail("atomic groups are not supported", start);
          else {
            // Inline flags: only (?i) is accepted, and it changes nothing (matching is case-insensitive anyway).
            const flagStart = i;
            while (peek() !== undefined && /[a-zA-Z-]/.test(String.fromCodePoint(peek() as number))) i++;
            const flags = String.fromCodePoint(...cps.slice(flagStart, i));
            if (flags === "i" && at(")")) {
              i++;
              return { k: "empty" };
            }
            fail(`inline flags (?${flags}…) are not supported`, start);
          }
        } else {
          capture = ++groups;
        }
        const body = parseAlt();
        if (!at(")")) fail("unclosed group", start);
        i++;
        return { k: "group", capture, body };
      }
      case 0x5c: {
        if (at("Q")) {
          i++;
          const items: Node[] = [];
          while (peek() !== undefined && !(at("\\") && cps[i + 1] === 0x45)) items.push(literal(cps[i++] as number));
          if (peek() !== undefined) i += 2;
          return { k: "cat", items };
        }
        const e = escape(false);
        if (Array.isArray(e)) {
          if (e.length) return { k: "char", cls: { ranges: normalize(e), negated: false } };
          const a = String.fromCodePoint(cps[i++] as number);
          const kind = ({ b: "word", B: "notword", A: "begin", z: "end", Z: "endz" } as const)[a as "b" | "B" | "A" | "z" | "Z"];
          return { k: "assert", kind };
        }
        return literal(e);
      }
      default:
        return literal(c);
    }
  }

  const literal = (c: number): Node => ({ k: "char", cls: { ranges: [c, c], negated: false } });

  function parseSeq(): Node {
    const items: Node[] = [];
    for (;;) {
      const start = i;
      const atom = parseAtom();
      if (!atom) break;
      const q = quantifier();
      if (!q) {
        items.push(atom);
        continue;
      }
      if (atom.k === "assert") fail("a quantifier cannot follow an anchor", start);
      let greedy = true;
      if (at("?")) {
        greedy = false;
        i++;
      } else if (at("+")) {
        fail("possessive quantifiers are not supported", i);
      }
      if (quantifier() !== undefined) fail("dangling quantifier", i);
      items.push({ k: "repeat", body: atom, min: q.min, max: q.max, greedy, ques: q.ques === true });
    }
    return items.length === 1 ? (items[0] as Node) : items.length === 0 ? { k: "empty" } : { k: "cat", items };
  }

  function parseAlt(): Node {
    const items = [parseSeq()];
    while (at("|")) {
      i++;
      items.push(parseSeq());
    }
    return items.length === 1 ? (items[0] as Node) : { k: "alt", items };
  }

  const node = parseAlt();
  if (i < cps.length) fail(at(")") ? "unmatched closing parenthesis" : "unexpected character", i);
  return { node, groups };
}
