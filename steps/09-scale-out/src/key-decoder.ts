// key-decoder.ts -- turn the bytes a raw terminal sends into key presses.
//
// In raw mode the terminal hands us bytes exactly as the keyboard produced
// them: "a" is one byte, "é" two, "中" three, an emoji four, and the arrow
// keys are not bytes at all but little escape sequences: ESC [ A is Up. A
// read returns whatever has arrived so far, so any of these can be cut in
// two between reads (over ssh it happens, and a paste can stop anywhere).
// smallchat-client.c compares a whole 3-byte read with ESC [ A to ignore Up,
// and hopes. This decoder keeps the unfinished tail of a read and waits for
// the rest, so the line editor only ever sees whole keys.
//
// One ambiguity cannot be solved by waiting: ESC alone is a key too. When a
// read ends right after an ESC, nobody can tell whether the rest of a
// sequence is on its way or the user pressed Escape. feed() keeps it; the
// caller decides with a short timer and calls flush(). The decoder itself has
// no timers and does no I/O, so a test can feed it bytes one at a time.

/* ============================ Keys ========================================
 * What the line editor receives. Printable characters come as text (a run
 * of them at once, so a paste is one key and not a thousand redraws); keys
 * that edit or move are named; anything else is "unknown" and ignored by
 * the editor, never inserted: an unknown sequence typed into a chat line
 * would reach everybody else's terminal.
 * ======================================================================== */

export type SpecialKey =
  | "enter"
  | "backspace"
  | "delete"
  | "tab"
  | "escape"
  | "left"
  | "right"
  | "up"
  | "down"
  | "home"
  | "end";

export type Key =
  | { name: "text"; text: string }
  | { name: "ctrl"; letter: string } // Ctrl-A is { name: "ctrl", letter: "a" }.
  | { name: SpecialKey }
  | { name: "unknown"; sequence: string };

// The longest escape sequence we wait for. A real key sends fewer than ten
// bytes; past this, a stray ESC [ followed by junk is not swallowing input.
const MAX_SEQUENCE = 32;

/* ============================ Escape sequences ============================
 * Two families cover every key we care about, in every common terminal:
 *   CSI  ESC [ <parameters 0x30-0x3F> <final 0x40-0x7E>   ESC [ A, ESC [ 3 ~
 *   SS3  ESC O <one letter>                                ESC O H (Home)
 * The final letter says which key; for "~" keys, the first number does.
 * Modifiers (ESC [ 1 ; 5 C is Ctrl-Right) are read and ignored: Ctrl-Right
 * moves right.
 * ======================================================================== */

const FINAL_KEYS: Record<string, SpecialKey> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
};

const TILDE_KEYS: Record<string, SpecialKey> = {
  "1": "home",
  "7": "home",
  "4": "end",
  "8": "end",
  "3": "delete",
};

// Decode the escape sequence starting at buf[i] (an ESC). Returns the key
// and how many UTF-16 units it used, or null when the sequence is not
// complete yet (more bytes may come).
function decodeEscape(buf: string, i: number): { key: Key; length: number } | null {
  const next = buf[i + 1];
  if (next === undefined) return null;
  if (next === "[") {
    let j = i + 2;
    while (j < buf.length && isCsiParameter(buf.charCodeAt(j)) && j - i < MAX_SEQUENCE) j++;
    const final = buf[j];
    if (final === undefined) return null;
    const code = final.charCodeAt(0);
    if (code < 0x40 || code > 0x7e) {
      // Not a CSI after all (or a runaway one): give up on it, keep the rest.
      return { key: { name: "unknown", sequence: buf.slice(i, j) }, length: j - i };
    }
    const sequence = buf.slice(i, j + 1);
    const params = buf.slice(i + 2, j);
    const named = final === "~" ? TILDE_KEYS[params.split(";")[0] ?? ""] : FINAL_KEYS[final];
    return { key: named ? { name: named } : { name: "unknown", sequence }, length: j - i + 1 };
  }
  if (next === "O") {
    const final = buf[i + 2];
    if (final === undefined) return null;
    const named = FINAL_KEYS[final];
    return {
      key: named ? { name: named } : { name: "unknown", sequence: buf.slice(i, i + 3) },
      length: 3,
    };
  }
  if (next === "\x1b") {
    // ESC ESC: the first one was the Escape key; the second starts anew.
    return { key: { name: "escape" }, length: 1 };
  }
  // ESC + character is what Alt+character sends. We bind no Alt keys; the
  // length covers a whole code point, so Alt+emoji is not cut in half.
  const length = 1 + (buf.codePointAt(i + 1)! > 0xffff ? 2 : 1);
  return { key: { name: "unknown", sequence: buf.slice(i, i + length) }, length };
}

function isCsiParameter(code: number): boolean {
  return code >= 0x20 && code <= 0x3f; // Parameters 0x30-0x3F and intermediates 0x20-0x2F.
}

/* ============================ Control bytes ===============================
 * The bytes below 0x20 are the keys of a 1960s teletype. Ctrl-<letter>
 * sends the letter's code minus 0x60 (Ctrl-A is 1), which is why Ctrl-M and
 * Enter are the same key, and Ctrl-H and Backspace on old terminals.
 * ======================================================================== */

function decodeControl(code: number, char: string): Key {
  switch (code) {
    case 0x0d: // Enter: raw mode turned ICRNL off, so we get "\r" and not "\n".
    case 0x0a: // Ctrl-J, or "\n" in pasted text: also a line end.
      return { name: "enter" };
    case 0x7f: // What the Backspace key sends today (DEL).
    case 0x08: // What it sent on some old terminals (Ctrl-H).
      return { name: "backspace" };
    case 0x09:
      return { name: "tab" };
    default:
      if (code >= 0x01 && code <= 0x1a) {
        return { name: "ctrl", letter: String.fromCharCode(code + 0x60) };
      }
      return { name: "unknown", sequence: char }; // NUL, Ctrl-\ ... Ctrl-_, and C1 codes.
  }
}

/* ============================ The decoder ================================= */

export class KeyDecoder {
  // UTF-8 first: TextDecoder with { stream: true } keeps the first bytes of
  // a character cut by a read and prepends them to the next read, so "é"
  // split in two still comes out as "é". Invalid bytes become U+FFFD.
  private readonly utf8 = new TextDecoder("utf-8");
  // Decoded text not turned into keys yet: an escape sequence in progress.
  private pending = "";

  // Feed the bytes of one read; return the keys they complete, in order.
  feed(bytes: Uint8Array): Key[] {
    this.pending += this.utf8.decode(bytes, { stream: true });
    return this.decode(false);
  }

  // No more bytes came soon enough: whatever is pending is a key on its own
  // (a lone ESC is the Escape key; a cut-off sequence becomes unknown).
  flush(): Key[] {
    return this.decode(true);
  }

  // True when an escape sequence has started but not finished: the caller
  // should call flush() if nothing arrives shortly.
  get waiting(): boolean {
    return this.pending.length > 0;
  }

  private decode(final: boolean): Key[] {
    const buf = this.pending;
    const keys: Key[] = [];
    let textStart = -1; // Start of a run of printable characters, if in one.
    const endText = (at: number) => {
      if (textStart !== -1) keys.push({ name: "text", text: buf.slice(textStart, at) });
      textStart = -1;
    };
    let i = 0;
    while (i < buf.length) {
      const code = buf.charCodeAt(i);
      if (code === 0x1b) {
        endText(i);
        const esc = decodeEscape(buf, i);
        if (esc === null) {
          if (!final) break; // Wait for the rest of the sequence.
          const rest = buf.slice(i);
          keys.push(rest === "\x1b" ? { name: "escape" } : { name: "unknown", sequence: rest });
          i = buf.length;
          break;
        }
        keys.push(esc.key);
        i += esc.length;
      } else if (code < 0x20 || code === 0x7f || (code >= 0x80 && code <= 0x9f)) {
        endText(i);
        keys.push(decodeControl(code, buf[i]!));
        i++;
      } else {
        if (textStart === -1) textStart = i;
        i++;
      }
    }
    endText(i);
    this.pending = buf.slice(i);
    return keys;
  }
}
