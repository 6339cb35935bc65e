// line-editor.ts -- the line being typed: a state and a key in, a new state and screen bytes out.
//
// This is smallchat's InputBuffer grown into a small line editor. Like the
// C version it owns the last row of the screen: it can hide the line (so
// the client can print a message there) and show it again. Unlike it, the
// cursor can move inside the line, and the line may hold any character.
//
// The editor is pure: it never touches a socket or a terminal. feedKey()
// takes the current state and one key and returns the new state plus the
// bytes that bring the screen up to date, and maybe a finished line. So
// every key can be tested with a plain assertion, and the client is glue.
//
// Two ideas carry the file. A character is what the user sees as one
// character: a grapheme cluster ("é" written as e + accent, a flag, a family
// emoji are each one), found with Intl.Segmenter; the cursor moves over
// those, never inside one. And a character has a width on screen: 中 and
// most emoji take two columns, an accent zero, which is what the cursor
// column is computed from.

import type { Key } from "./key-decoder.ts";

/* ============================ State ======================================= */

export interface LineState {
  readonly text: string;
  readonly cursor: number; // In characters (grapheme clusters), 0 to their count.
  readonly history: readonly string[]; // Lines sent, oldest first.
  readonly historyIndex: number; // history.length: editing the new line, not a recalled one.
  readonly draft: string; // The new line, kept while Up/Down browse the history.
}

export interface EditResult {
  state: LineState;
  output: string; // Bytes to write to the terminal; "" when nothing changed.
  submit?: string; // Enter was pressed on this line.
  quit?: "interrupt" | "eof"; // Ctrl-C, or Ctrl-D on an empty line.
}

// Enough to scroll back through a conversation, small enough not to matter.
const HISTORY_MAX = 100;

export function emptyLine(): LineState {
  return { text: "", cursor: 0, history: [], historyIndex: 0, draft: "" };
}

/* ============================ Characters and columns ======================
 * How wide a character is on screen is decided by the terminal, with its
 * own Unicode tables; we can only agree with it. We follow what modern
 * terminals do: East Asian Wide and Fullwidth characters and emoji take two
 * columns, combining marks and invisible format characters zero, the rest
 * one. Where a terminal disagrees (older ones draw emoji one column wide),
 * the cursor lands a column off; nothing breaks, and the next redraw starts
 * from column 0 again.
 * ======================================================================== */

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

// East Asian Wide (W) and Fullwidth (F) blocks, from Unicode's
// EastAsianWidth.txt, merged into ranges. Emoji are found by the regular
// expressions below instead.
const WIDE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], // Hangul Jamo initial consonants.
  [0x2329, 0x232a], // Angle brackets.
  [0x2e80, 0x303e], // CJK radicals, Kangxi, CJK symbols and punctuation.
  [0x3041, 0x33ff], // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, CJK compat.
  [0x3400, 0x4dbf], // CJK Unified Ideographs Extension A.
  [0x4e00, 0x9fff], // CJK Unified Ideographs.
  [0xa000, 0xa4cf], // Yi.
  [0xa960, 0xa97f], // Hangul Jamo Extended-A.
  [0xac00, 0xd7a3], // Hangul syllables.
  [0xf900, 0xfaff], // CJK compatibility ideographs.
  [0xfe10, 0xfe19], // Vertical forms.
  [0xfe30, 0xfe6f], // CJK compatibility forms, small form variants.
  [0xff00, 0xff60], // Fullwidth ASCII.
  [0xffe0, 0xffe6], // Fullwidth signs.
  [0x16fe0, 0x16fe4], // Ideographic symbols.
  [0x17000, 0x18cff], // Tangut, Khitan.
  [0x1b000, 0x1b2ff], // Kana supplement and extensions, Nushu.
  [0x1f200, 0x1f2ff], // Enclosed ideographic supplement.
  [0x20000, 0x2fffd], // CJK Extension B and beyond.
  [0x30000, 0x3fffd], // CJK Extension G and beyond.
];

const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}/u; // Drawn as emoji by default: 😀 🇮🇹 ⌚.
const EMOJI = /^\p{Emoji}/u;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]/u; // Combining marks, ZWJ, zero width space...

// Columns taken by one grapheme cluster: the width of its first code point,
// except that an emoji variation selector (U+FE0F) makes a text symbol like
// ❤ into an emoji, two columns wide.
export function graphemeWidth(g: string): number {
  const cp = g.codePointAt(0);
  if (cp === undefined) return 0;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0; // Control codes: never drawn.
  if (cp === 0xad) return 1; // The soft hyphen is a format character that terminals draw.
  if (ZERO_WIDTH.test(g)) return 0;
  if (EMOJI_PRESENTATION.test(g)) return 2;
  if (g.includes("\ufe0f") && EMOJI.test(g)) return 2;
  for (const [lo, hi] of WIDE_RANGES) {
    if (cp < lo) break;
    if (cp <= hi) return 2;
  }
  return 1;
}

export function displayWidth(text: string): number {
  let width = 0;
  for (const g of graphemes(text)) width += graphemeWidth(g);
  return width;
}

/* ============================ Drawing =====================================
 * The input line lives on one screen row and never wraps. A line wider than
 * the terminal is shown through a window that scrolls sideways to keep the
 * cursor in view, the way linenoise does. Why not let it wrap? Then the
 * editor must know how many rows the line takes to erase it, and that
 * depends on exactly where the terminal wrapped each wide character and on
 * resizes we hear about late. One row is always right.
 *
 * The window is at most columns-1 wide: writing the last column leaves the
 * terminal in a "pending wrap" state where the next byte lands on a new
 * row, and the cursor needs a column to sit in after the last character.
 * ======================================================================== */

// What fits on the row: the visible slice of the line and the cursor column.
export function visibleLine(
  state: LineState,
  columns: number,
): { text: string; cursorColumn: number } {
  const room = Math.max(1, columns - 1);
  const chars = graphemes(state.text);
  const widths = chars.map(graphemeWidth);
  const cursor = Math.min(state.cursor, chars.length);
  // Start the window as far left as it can while the cursor stays in view.
  let start = 0;
  let cursorColumn = 0;
  for (let i = 0; i < cursor; i++) cursorColumn += widths[i]!;
  while (cursorColumn > room) cursorColumn -= widths[start++]!;
  // Then show as many characters after the cursor as fit.
  let end = cursor;
  let used = cursorColumn;
  while (end < chars.length && used + widths[end]! <= room) used += widths[end++]!;
  return { text: chars.slice(start, end).join(""), cursorColumn };
}

// Bytes that draw the line on the current row: go to column 0, write the
// visible text, erase what is left of an older, longer line, and put the
// cursor back (CSI n C moves right n columns; CSI 0 C would move one).
export function showLine(state: LineState, columns: number): string {
  const { text, cursorColumn } = visibleLine(state, columns);
  return `\r${text}\x1b[K\r${cursorColumn > 0 ? `\x1b[${cursorColumn}C` : ""}`;
}

// Bytes that blank the current row and leave the cursor at column 0, where
// the client can print a message before calling showLine() again.
export function hideLine(): string {
  return "\r\x1b[2K";
}

/* ============================ Editing =====================================
 * Each key is a small function of (characters, cursor). Keys follow the
 * shell (Emacs) bindings every terminal user's fingers know.
 * ======================================================================== */

// Handle one key. Called by the client for every key the decoder emits.
export function feedKey(state: LineState, key: Key, columns: number): EditResult {
  const chars = graphemes(state.text);
  const { cursor } = state;
  const unchanged: EditResult = { state, output: "" };

  // A new text and cursor: redraw the whole row. Rewriting ~80 columns per
  // key costs nothing, and is never wrong, unlike patching the screen.
  const edit = (text: string, at: number): EditResult => {
    const next = { ...state, text, cursor: at };
    return { state: next, output: showLine(next, columns) };
  };
  const splice = (from: number, to: number, insert = ""): EditResult =>
    edit(chars.slice(0, from).join("") + insert + chars.slice(to).join(""), from);
  const move = (at: number): EditResult =>
    at === cursor || at < 0 || at > chars.length ? unchanged : edit(state.text, at);

  switch (key.name) {
    case "text": {
      // Count characters after inserting: an accent typed after "e" joins
      // it, so the cursor advances by characters made, not keys typed.
      const before = chars.slice(0, cursor).join("") + key.text;
      return edit(before + chars.slice(cursor).join(""), graphemes(before).length);
    }
    case "backspace":
      return cursor === 0 ? unchanged : splice(cursor - 1, cursor);
    case "delete":
      return cursor === chars.length ? unchanged : splice(cursor, cursor + 1);
    case "left":
      return move(cursor - 1);
    case "right":
      return move(cursor + 1);
    case "home":
      return move(0);
    case "end":
      return move(chars.length);
    case "up":
      return recall(state, state.historyIndex - 1, columns);
    case "down":
      return recall(state, state.historyIndex + 1, columns);
    case "enter":
      return submit(state);
    case "ctrl":
      switch (key.letter) {
        case "a":
          return move(0);
        case "e":
          return move(chars.length);
        case "b":
          return move(cursor - 1);
        case "f":
          return move(cursor + 1);
        case "u": // Kill from the start of the line to the cursor.
          return cursor === 0 ? unchanged : splice(0, cursor);
        case "k": // Kill from the cursor to the end of the line.
          return cursor === chars.length ? unchanged : splice(cursor, chars.length);
        case "w": {
          // Delete the word before the cursor, and the spaces after it.
          let from = cursor;
          while (from > 0 && /^\s$/u.test(chars[from - 1]!)) from--;
          while (from > 0 && !/^\s$/u.test(chars[from - 1]!)) from--;
          return from === cursor ? unchanged : splice(from, cursor);
        }
        case "d": // Ctrl-D: end of input on an empty line, like a shell; else Delete.
          if (chars.length === 0) return { ...unchanged, quit: "eof" };
          return cursor === chars.length ? unchanged : splice(cursor, cursor + 1);
        case "c": // Raw mode turned ISIG off: Ctrl-C is a key, not a SIGINT.
          return { ...unchanged, quit: "interrupt" };
        default:
          return unchanged;
      }
    default:
      // Tab, Escape and unknown sequences: ignored, never inserted.
      return unchanged;
  }
}

// Enter: hand the line to the caller, remember it, start a new empty one.
// The row is hidden; the caller prints "you> ..." there and shows the new line.
function submit(state: LineState): EditResult {
  if (state.text.length === 0) return { state, output: "" }; // Nothing to say.
  const last = state.history[state.history.length - 1];
  const history = last === state.text ? state.history : [...state.history, state.text];
  const trimmed = history.slice(-HISTORY_MAX);
  return {
    state: { text: "", cursor: 0, history: trimmed, historyIndex: trimmed.length, draft: "" },
    output: hideLine(),
    submit: state.text,
  };
}

// Up/Down: show history entry `index`, or the draft past the newest one.
// Leaving the new line for the history saves it as the draft, so Down all
// the way gives back what was being typed.
function recall(state: LineState, index: number, columns: number): EditResult {
  const { history } = state;
  if (index < 0 || index > history.length) return { state, output: "" };
  const draft = state.historyIndex === history.length ? state.text : state.draft;
  const text = index === history.length ? draft : history[index]!;
  const next = { ...state, text, cursor: graphemes(text).length, historyIndex: index, draft };
  return { state: next, output: showLine(next, columns) };
}
