// A compiled pattern and its matcher: Java's depth-first backtracking search, memoised so that no state is explored
// twice. That gives exactly Java's Matcher.find() result (same search order) in time proportional to input length ×
// program size whatever the pattern — no catastrophic backtracking. Matching is case-insensitive the way Java's
// CASE_INSENSITIVE is (ASCII letters only), unless the pattern is compiled case-sensitive.
import { parse, type CharClass, type Node } from "./syntax.ts";

const CHAR = 0;
const ANY = 1;
const SPLIT = 2;
const JMP = 3;
const SAVE = 4;
const ASSERT = 5;
const MATCH = 6;
/** Remembers where an iteration of a * or + loop started (in a hidden capture slot). */
const MARK = 7;
/** End of a loop iteration: go on (y) only if it consumed input, else leave the repetition (z) — Java's Loop node. */
const PROGRESS = 8;

type AssertKind = Extract<Node, { k: "assert" }>["kind"];
const ASSERTS: AssertKind[] = ["begin", "end", "endz", "bol", "eol", "word", "notword"];

/** Largest compiled program accepted: bounds the work per input character. */
export const MAX_PROGRAM = 1000;

/**
 * Most work one search may do: program size × input length. At the 12–30 million steps per second this engine does
 * on a 2-core server, a search stays under 10 ms; real DNs (a few hundred characters) are far below the bound.
 */
export const STEP_BUDGET = 100_000;

/** Deepest nesting of repetitions whose body can match empty (each doubles the matcher's state space). */
export const MAX_NULLABLE_NESTING = 6;

export class PatternTooComplexError extends Error {}

interface Program {
  op: Uint8Array;
  x: Int32Array;
  y: Int32Array;
  z: Int32Array;
  classes: CharClass[];
  slots: number;
  /** For each instruction, the progress slots of the nullable loops around it (innermost last). */
  enclosing: Int32Array[];
  /** log2 of the number of distinct progress states an instruction can be in. */
  depth: number;
}

/** Whether `n` can match the empty string (only such loop bodies need the progress check). */
function nullable(n: Node): boolean {
  switch (n.k) {
    case "empty":
    case "assert":
      return true;
    case "char":
    case "any":
      return false;
    case "cat":
      return n.items.every(nullable);
    case "alt":
      return n.items.some(nullable);
    case "group":
      return nullable(n.body);
    case "repeat":
      return n.min === 0 || nullable(n.body);
  }
}

/**
 * A body of fixed structure that can only match the empty string (empties, anchors, x{0}). java.util.regex runs
 * `(body)*`, `(body)+` and `(body){n,m}` through GroupCurly when the body is deterministic, and GroupCurly stops at a
 * zero-length optional iteration without recording the group; `(body)?` is a plain branch and does record it.
 */
function zeroWidthFixed(n: Node): boolean {
  switch (n.k) {
    case "empty":
    case "assert":
      return true;
    case "group":
      return zeroWidthFixed(n.body);
    case "cat":
      return n.items.every(zeroWidthFixed);
    case "repeat":
      return n.min === n.max && !n.ques && (n.max === 0 || zeroWidthFixed(n.body));
    default:
      return false;
  }
}

function compile(node: Node, groups: number): Program {
  const op: number[] = [];
  const x: number[] = [];
  const y: number[] = [];
  const z: number[] = [];
  const classes: CharClass[] = [];
  const enclosing: Int32Array[] = [];
  let slots = (groups + 1) * 2;
  let loops = new Int32Array(0);
  let depth = 0;
  const emit = (o: number, a = 0, b = 0) => {
    if (op.length >= MAX_PROGRAM) throw new PatternTooComplexError(`the pattern compiles to more than ${MAX_PROGRAM} steps`);
    op.push(o);
    x.push(a);
    y.push(b);
    z.push(0);
    enclosing.push(loops);
    return op.length - 1;
  };
  const gen = (n: Node): void => {
    switch (n.k) {
      case "empty":
        return;
      case "char":
        classes.push(n.cls);
        emit(CHAR, classes.length - 1);
        return;
      case "any":
        emit(ANY);
        return;
      case "cat":
        for (const item of n.items) gen(item);
        return;
      case "alt": {
        // SPLIT L1, next; L1: a; JMP end; next: SPLIT L2, … — earlier alternatives win, as in Java.
        const jumps: number[] = [];
        n.items.forEach((item, idx) => {
          if (idx < n.items.length - 1) {
            const split = emit(SPLIT);
            x[split] = op.length;
            gen(item);
            jumps.push(emit(JMP));
            y[split] = op.length;
          } else gen(item);
        });
        for (const j of jumps) x[j] = op.length;
        return;
      }
      case "group":
        if (n.capture === undefined) return gen(n.body);
        emit(SAVE, n.capture * 2);
        gen(n.body);
        emit(SAVE, n.capture * 2 + 1);
        return;
      case "assert":
        emit(ASSERT, ASSERTS.indexOf(n.kind));
        return;
      case "repeat": {
        if (!n.ques && n.body.k === "group" && n.body.capture !== undefined && n.max > n.min && zeroWidthFixed(n.body.body)) {
          // See zeroWidthFixed: the optional iterations can never be recorded, so only the mandatory ones remain.
          return gen({ ...n, max: n.min });
        }
        if (!nullable(n.body)) {
          // Every iteration consumes input: plain unrolling and a loop.
          for (let k = 0; k < n.min; k++) gen(n.body);
          if (n.max === Infinity) {
            const split = emit(SPLIT);
            gen(n.body);
            emit(JMP, split);
            const out = op.length;
            if (n.greedy) { x[split] = split + 1; y[split] = out; } else { x[split] = out; y[split] = split + 1; }
            return;
          }
          const splits: number[] = [];
          for (let k = n.min; k < n.max; k++) {
            splits.push(emit(SPLIT));
            gen(n.body);
          }
          const out = op.length;
          for (const sp of splits) {
            if (n.greedy) { x[sp] = sp + 1; y[sp] = out; } else { x[sp] = out; y[sp] = sp + 1; }
          }
          return;
        }
        // The body can match empty (java.util.regex's Loop): each iteration is bracketed by MARK and PROGRESS, and an
        // iteration that consumed nothing — even a mandatory one — ends the repetition.
        const slot = slots++;
        const outer = loops;
        loops = Int32Array.from([...outer, slot]);
        depth = Math.max(depth, loops.length);
        if (depth > MAX_NULLABLE_NESTING) throw new PatternTooComplexError(`repetitions of optional parts are nested more than ${MAX_NULLABLE_NESTING} deep`);
        const exits: number[] = [];
        const iteration = (again?: number) => {
          emit(MARK, slot);
          gen(n.body);
          const progress = emit(PROGRESS, slot);
          y[progress] = again ?? progress + 1;
          exits.push(progress);
        };
        for (let k = 0; k < n.min; k++) iteration();
        const splits: number[] = [];
        if (n.max === Infinity) {
          const split = emit(SPLIT);
          splits.push(split);
          iteration(split);
        } else {
          for (let k = n.min; k < n.max; k++) {
            splits.push(emit(SPLIT));
            iteration();
          }
        }
        const out = op.length;
        for (const e of exits) z[e] = out;
        for (const sp of splits) {
          if (n.greedy) { x[sp] = sp + 1; y[sp] = out; } else { x[sp] = out; y[sp] = sp + 1; }
        }
        loops = outer;
        return;
      }
    }
  };
  emit(SAVE, 0);
  gen(node);
  emit(SAVE, 1);
  emit(MATCH);
  return { op: Uint8Array.from(op), x: Int32Array.from(x), y: Int32Array.from(y), z: Int32Array.from(z), classes, slots, enclosing, depth };
}

const isLineTerminator = (c: number | undefined) => c === 0x0a || c === 0x0d || c === 0x85 || c === 0x2028 || c === 0x2029;
/**
 * \b's notion of a word character in the JDK that Keycloak's tests run on (17): '_' or Character.isLetterOrDigit,
 * i.e. letters and decimal digits of any script (JDK 19 narrowed it to ASCII, like \w).
 */
const WORD_CHAR = /[\p{L}\p{Nd}_]/u;
const isWord = (c: number | undefined) => c !== undefined && (c < 0x80 ? (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (c >= 0x61 && c <= 0x7a) : WORD_CHAR.test(String.fromCodePoint(c)));

function inRanges(ranges: number[], c: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) {
    if (c < (ranges[i] as number)) return false;
    if (c <= (ranges[i + 1] as number)) return true;
  }
  return false;
}

function classMatches(cls: CharClass, c: number, fold: boolean): boolean {
  let hit = inRanges(cls.ranges, c);
  // Java's CASE_INSENSITIVE (without UNICODE_CASE) folds ASCII letters only.
  if (!hit && fold && ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a))) hit = inRanges(cls.ranges, c ^ 0x20);
  return hit !== cls.negated;
}

export interface Match {
  /** The whole match. */
  value: string;
  /** Capturing groups 1…n; undefined for a group that did not take part. */
  groups: (string | undefined)[];
}

/** Keycloak's default expression, also its fixed one for serials and thumbprints: "the value up to the end". */
const WHOLE_VALUE = "(.*?)(?:$)";

/**
 * Java's find() for (.*?)(?:$) in closed form. `$` (no MULTILINE) holds at the end, before one final line terminator,
 * and before a final "\r\n"; `.` stops at line terminators; the lazy group takes the first start from which the
 * earliest such position is reachable: just after the last line terminator before it.
 */
function wholeValue(s: string): Match {
  const n = s.length;
  let end = n;
  if (n >= 2 && s.charCodeAt(n - 2) === 0x0d && s.charCodeAt(n - 1) === 0x0a) end = n - 2;
  else if (n >= 1 && isLineTerminator(s.charCodeAt(n - 1))) end = n - 1;
  let start = end;
  while (start > 0 && !isLineTerminator(s.charCodeAt(start - 1))) start--;
  const value = s.slice(start, end);
  return { value, groups: [value] };
}

export class Pattern {
  readonly source: string;
  readonly groupCount: number;
  readonly #prog: Program;
  readonly #closedForm: ((s: string) => Match) | undefined;
  readonly #fold: boolean;

  /**
   * `specialise: false` always runs the general engine (tests compare the two). `caseSensitive`: without Java's
   * CASE_INSENSITIVE (Keycloak's client-x509 compiles its subject DN pattern without flags).
   */
  constructor(source: string, options: { specialise?: boolean; caseSensitive?: boolean } = {}) {
    this.#fold = options.caseSensitive !== true;
    const { node, groups } = parse(source);
    this.source = source;
    this.groupCount = groups;
    this.#prog = compile(node, groups);
    this.#closedForm = options.specialise !== false && source === WHOLE_VALUE ? wholeValue : undefined;
  }

  /** Instructions in the compiled program (the work per input character is at most this). */
  get size(): number {
    return this.#prog.op.length;
  }

  /** The longest input a search may take within STEP_BUDGET (which also bounds the memo's size). */
  get maxInputLength(): number {
    return Math.floor(STEP_BUDGET / (this.#prog.op.length << this.#prog.depth)) - 1;
  }

  fits(input: string): boolean {
    return this.#closedForm !== undefined || input.length <= this.maxInputLength;
  }

  /**
   * Java's Matcher.find() from the start of `input`: the first match in Java's priority order. The search is the same
   * depth-first backtracking Java does, except that a state (instruction, progress bits of enclosing empty-capable
   * loops, position) known to fail is never explored twice: whether a state can reach a match does not depend on
   * how it was reached, so the work is bounded by program size × 2^depth × input length.
   */
  find(input: string): Match | undefined {
    if (this.#closedForm) return this.#closedForm(input);
    const { op, x, y, z, classes, slots, enclosing, depth } = this.#prog;
    const fold = this.#fold;
    const cps: number[] = [];
    const offsets: number[] = [];
    for (let i = 0; i < input.length; ) {
      const cp = input.codePointAt(i) as number;
      offsets.push(i);
      cps.push(cp);
      i += cp > 0xffff ? 2 : 1;
    }
    offsets.push(input.length);
    const n = cps.length;
    const width = n + 1;
    const failed = new Uint8Array(((op.length << depth) * width + 7) >> 3);
    const caps = new Int32Array(slots).fill(-1);
    // Choice points (pc, pos, undo depth) and the undo log of capture writes (slot, previous value).
    const choices: number[] = [];
    const undo: number[] = [];
    let matched = false;

    const assertion = (kind: number, pos: number): boolean => {
      switch (ASSERTS[kind]) {
        case "begin":
        case "bol":
          return pos === 0;
        case "end":
          return pos === n;
        case "eol":
        case "endz":
          // Java's Dollar without MULTILINE: at the end, or before one final line terminator (or "\r\n").
          if (pos === n) return true;
          if (pos === n - 2) return cps[pos] === 0x0d && cps[pos + 1] === 0x0a;
          if (pos === n - 1) return isLineTerminator(cps[pos]) && !(cps[pos] === 0x0a && pos > 0 && cps[pos - 1] === 0x0d);
          return false;
        case "word":
          return isWord(cps[pos - 1]) !== isWord(cps[pos]);
        case "notword":
          return isWord(cps[pos - 1]) === isWord(cps[pos]);
        default:
          return false;
      }
    };

    search: for (let start = 0; start <= n; start++) {
      let pc = 0;
      let pos = start;
      choices.length = 0;
      undo.length = 0;
      caps.fill(-1); // writes made after the last choice point of a failed start are not undone by backtracking
      for (;;) {
        let ok = true;
        let key = pc;
        if (depth > 0) {
          const loops = enclosing[pc] as Int32Array;
          let bits = 0;
          for (let i = 0; i < loops.length; i++) if (caps[loops[i] as number] === pos) bits |= 1 << i;
          key = (pc << depth) | bits;
        }
        const bit = key * width + pos;
        const byte = failed[bit >> 3] as number;
        if (byte & (1 << (bit & 7))) ok = false;
        else {
          failed[bit >> 3] = byte | (1 << (bit & 7)); // a state is entered once: if it could match, the search ends there
          switch (op[pc]) {
            case CHAR: {
              const c = cps[pos];
              if (c !== undefined && classMatches(classes[x[pc] as number] as CharClass, c, fold)) { pos++; pc++; } else ok = false;
              break;
            }
            case ANY: {
              const c = cps[pos];
              if (c !== undefined && !isLineTerminator(c)) { pos++; pc++; } else ok = false;
              break;
            }
            case SPLIT:
              choices.push(y[pc] as number, pos, undo.length);
              pc = x[pc] as number;
              break;
            case JMP:
              pc = x[pc] as number;
              break;
            case SAVE:
            case MARK: {
              const slot = x[pc] as number;
              undo.push(slot, caps[slot] as number);
              caps[slot] = pos;
              pc++;
              break;
            }
            case PROGRESS:
              pc = caps[x[pc] as number] === pos ? (z[pc] as number) : (y[pc] as number);
              break;
            case ASSERT:
              if (assertion(x[pc] as number, pos)) pc++; else ok = false;
              break;
            case MATCH:
              matched = true;
              break search;
          }
        }
        if (ok) continue;
        // Backtrack to the most recent choice, undoing the capture writes made since.
        if (choices.length === 0) break;
        const mark = choices.pop() as number;
        pos = choices.pop() as number;
        pc = choices.pop() as number;
        while (undo.length > mark) {
          const old = undo.pop() as number;
          caps[undo.pop() as number] = old;
        }
      }
    }
    if (!matched) return undefined;
    const text = (g: number) => {
      const s = caps[g * 2] ?? -1;
      const e = caps[g * 2 + 1] ?? -1;
      return s < 0 || e < 0 ? undefined : input.slice(offsets[s], offsets[e]);
    };
    const groups: (string | undefined)[] = [];
    for (let g = 1; g <= this.groupCount; g++) groups.push(text(g));
    return { value: text(0) ?? "", groups };
  }
}
