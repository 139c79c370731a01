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
      i++;
      for (;;) {
        if (i >= n) throw new XfccError("unterminated quoted value");
        const ch = input[i] as string;
        if (ch === "\\") {
          if (i + 1 >= n) throw new XfccError("unterminated quoted value");
          value += input[i + 1];
          i += 2;
        } else if (ch === '"') {
          i++;
          break;
        } else {
          value += ch;
          i++;
        }
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
