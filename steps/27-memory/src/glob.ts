// glob.ts -- Redis's glob patterns: PSUBSCRIBE, CONFIG GET, later KEYS and SCAN MATCH.
//
// `*` any run of bytes, `?` any one byte, `[abc]` `[^abc]` `[a-z]` a set,
// `\x` the byte x itself. This is a port of stringmatchlen() from Redis's
// util.c, corners included, because a pattern that matches a channel in
// Redis must match it here too: an unterminated `[abc` still works as a set,
// a reversed range `[z-a]` means `[a-z]`, a `\` inside a set escapes the next
// byte, a trailing `\` matches itself, and patterns deeper than 1000 stars
// match nothing (Redis's guard against patterns built to take forever).
//
// Bytes, not characters: patterns and subjects are Buffers. One C detail
// shows through: `char` is signed on the machines Redis runs on, so in a
// range a byte >= 0x80 compares as a negative number, and `[a-\xff]` does
// not contain `\xff`. `nocase` folds only A-Z, as tolower() in the C locale.

const STAR = 0x2a; // *
const QUESTION = 0x3f; // ?
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const CARET = 0x5e; // ^
const BACKSLASH = 0x5c; // \
const DASH = 0x2d; // -

const MAX_NESTING = 1000;

function lower(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b + 32 : b;
}

// A byte as C's signed char sees it.
function signed(b: number): number {
  return b > 127 ? b - 256 : b;
}

// One shared flag per top-level match: once the rest of the pattern after a
// `*` matched nowhere in the rest of the subject, no earlier `*` can help.
interface State {
  skipLongerMatches: boolean;
}

function match(
  p: Buffer,
  pi: number,
  s: Buffer,
  si: number,
  nocase: boolean,
  st: State,
  nesting: number,
): boolean {
  if (nesting > MAX_NESTING) return false;
  const pEnd = p.length;
  const sEnd = s.length;
  while (pi < pEnd && si < sEnd) {
    const pc = p[pi]!;
    if (pc === STAR) {
      while (pi + 1 < pEnd && p[pi + 1] === STAR) pi++;
      if (pi + 1 === pEnd) return true; // A trailing star matches the rest.
      while (si < sEnd) {
        if (match(p, pi + 1, s, si, nocase, st, nesting + 1)) return true;
        if (st.skipLongerMatches) return false;
        si++;
      }
      st.skipLongerMatches = true;
      return false;
    } else if (pc === QUESTION) {
      si++;
    } else if (pc === OPEN) {
      pi++;
      const not = p[pi] === CARET;
      if (not) pi++;
      let found = false;
      const sc = s[si]!;
      while (true) {
        if (p[pi] === BACKSLASH && pEnd - pi >= 2) {
          pi++;
          if (p[pi] === sc) found = true;
        } else if (p[pi] === CLOSE) {
          break;
        } else if (pi >= pEnd) {
          pi--; // An unterminated set ends with the pattern.
          break;
        } else if (pEnd - pi >= 3 && p[pi + 1] === DASH) {
          let start = signed(p[pi]!);
          let end = signed(p[pi + 2]!);
          let c = signed(sc);
          if (start > end) [start, end] = [end, start];
          if (nocase) {
            start = lower(start);
            end = lower(end);
            c = lower(c);
          }
          pi += 2;
          if (c >= start && c <= end) found = true;
        } else if (nocase ? lower(p[pi]!) === lower(sc) : p[pi] === sc) {
          found = true;
        }
        pi++;
      }
      if (not) found = !found;
      if (!found) return false;
      si++;
    } else {
      let lit = pc;
      if (pc === BACKSLASH && pEnd - pi >= 2) lit = p[++pi]!;
      if (nocase ? lower(lit) !== lower(s[si]!) : lit !== s[si]) return false;
      si++;
    }
    pi++;
    if (si === sEnd) {
      while (p[pi] === STAR) pi++;
      break;
    }
  }
  return pi >= pEnd && si === sEnd;
}

// Does `subject` match `pattern`? Case-insensitive (A-Z only) with `nocase`.
export function globMatch(pattern: Buffer, subject: Buffer, nocase = false): boolean {
  return match(pattern, 0, subject, 0, nocase, { skipLongerMatches: false }, 0);
}
