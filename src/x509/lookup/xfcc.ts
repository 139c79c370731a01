// Envoy's `x-forwarded-client-cert` (XFCC) syntax: elements separated by ",", one per proxy hop; each element is
// "key=value" pairs separated by ";"; a value containing "," ";" "=" or a quote is a double-quoted string in which
// `\"` and `\\` stand for themselves. A real parser, because a naive split lets a quoted Subject such as
// `"CN=a,Cert=…"` inject fields (authentik's parser has that flaw, peers.md §4).

export type XfccElement = Map<string, string[]>;

export class XfccError extends Error {}

/** Keys that may appear once per element (URI and DNS repeat, one per SAN). */
const SINGLE = new Set(["by", "hash", "cert", "chain", "subject"]);

export function parseXfcc(input: string): XfccElement[] {
  const elements: XfccElement[] = [];
  let el: XfccElement = new Map();
  let i = 0;
  const n = input.length;
  const skipWs = () => {
    while (i < n && (input[i] === " " || input[i] === "\t")) i++;
  };
  // The next quote or backslash at or after a position; n when there is none.
  const positionOf = (ch: string, from: number) => {
    const at = input.indexOf(ch, from);
    return at < 0 ? n : at;
  };
  let nextQuote = -1;
  let nextEscape = -1;
  for (;;) {
    skipWs();
    const keyStart = i;
    while (i < n && input[i] !== "=" && input[i] !== ";" && input[i] !== "," && input[i] !== '"') i++;
    const key = input.slice(keyStart, i).trim().toLowerCase();
    if (key === "" || input[i] !== "=") throw new XfccError(`expected key=value at position ${keyStart}`);
    if (!/^[a-z0-9_-]+$/.test(key)) throw new XfccError(`invalid key "${key}" at position ${keyStart}`);
    i++; // "="
    skipWs();
    let value = "";
    if (input[i] === '"') {
      // Copied in runs between escapes: a Chain value is kilobytes long. The next quote and backslash are searched
      // for only when passed, so many escapes or many short values stay linear in the field's length.
      let start = ++i;
      for (;;) {
        if (nextQuote < i) nextQuote = positionOf('"', i);
        if (nextQuote === n) throw new XfccError("unterminated quoted value");
        if (nextEscape < i) nextEscape = positionOf("\\", i);
        if (nextEscape > nextQuote) {
          value += input.slice(start, nextQuote);
          i = nextQuote + 1;
          break;
        }
        if (nextEscape + 1 >= n) throw new XfccError("unterminated quoted value");
        value += input.slice(start, nextEscape) + input[nextEscape + 1];
        i = start = nextEscape + 2;
      }
      skipWs();
      if (i < n && input[i] !== ";" && input[i] !== ",") throw new XfccError(`unexpected character after a quoted value at position ${i}`);
    } else {
      const start = i;
      while (i < n && input[i] !== ";" && input[i] !== ",") {
        if (input[i] === '"' || input[i] === "=") throw new XfccError(`unquoted ${input[i]} in a value at position ${i}`);
        i++;
      }
      value = input.slice(start, i).trim();
    }
    const values = el.get(key);
    if (values && SINGLE.has(key)) throw new XfccError(`${key} appears twice in one element`);
    if (values) values.push(value);
    else el.set(key, [value]);
    if (i >= n) break;
    if (input[i] === ",") {
      elements.push(el);
      el = new Map();
    }
    i++; // ";" or ","
  }
  elements.push(el);
  return elements;
}
