// line-editor.test.ts -- every key of the line editor, as a pure function.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";
import type { Key } from "../src/key-decoder.ts";
import type { EditResult, LineState } from "../src/line-editor.ts";

// Since step 04: runs against step 04 and every later step of its track.
for (const step of corpusSteps(4)) {
  describe(step.name, async () => {
    const { displayWidth, emptyLine, feedKey, graphemes, graphemeWidth, showLine, visibleLine } =
      (await import(`${step.dir}src/line-editor.ts`)) as typeof import("../src/line-editor.ts");
    const COLS = 80;

    const text = (t: string): Key => ({ name: "text", text: t });
    const ctrl = (letter: string): Key => ({ name: "ctrl", letter });
    const named = (name: "left" | "right" | "home" | "end" | "up" | "down" | "enter"): Key => ({
      name,
    });
    const BACKSPACE: Key = { name: "backspace" };
    const DELETE: Key = { name: "delete" };

    // Feed keys one after the other; return the last result (and the state).
    function type(keys: Key[], state: LineState = emptyLine(), cols = COLS): EditResult {
      let result: EditResult = { state, output: "" };
      for (const key of keys) result = feedKey(result.state, key, cols);
      return result;
    }

    // A line with `t` typed and the cursor moved `left` characters back.
    function line(t: string, left = 0): LineState {
      return type([text(t), ...Array<Key>(left).fill(named("left"))]).state;
    }

    describe("display width", () => {
      it.each([
        ["a", 1],
        ["é", 1], // Precomposed U+00E9.
        ["e\u0301", 1], // e + combining acute: one character, one column.
        ["中", 2],
        ["한", 2],
        ["Ａ", 2], // Fullwidth A.
        ["ｱ", 1], // Halfwidth katakana.
        ["😀", 2],
        ["👍🏽", 2], // With a skin tone modifier.
        ["👨‍👩‍👧", 2], // A ZWJ family.
        ["🇮🇹", 2], // A flag: two regional indicators.
        ["❤️", 2], // Text heart + VS16: emoji presentation.
        ["❤", 1], // Text heart alone.
        ["\u200b", 0], // Zero width space.
      ])("%s is %i columns", (g, width) => {
        expect(graphemes(g)).toHaveLength(1);
        expect(graphemeWidth(g)).toBe(width);
      });

      it("adds up a mixed string", () => {
        expect(displayWidth("héllo 中文 😀")).toBe(5 + 1 + 4 + 1 + 2);
      });
    });

    describe("inserting and deleting", () => {
      it("inserts at the cursor", () => {
        const s = type([text("helo"), named("left"), text("l")]).state;
        expect(s.text).toBe("hello");
        expect(s.cursor).toBe(4);
      });

      it("counts a multi-byte character as one step of the cursor", () => {
        const s = type([text("aé中😀b"), named("left"), named("left"), text("|")]).state;
        expect(s.text).toBe("aé中|😀b");
      });

      it("joins a combining accent typed after its letter", () => {
        const s = type([text("e"), text("\u0301")]).state;
        expect(s.cursor).toBe(1);
        expect(type([BACKSPACE], s).state.text).toBe("");
      });

      it("backspace removes a whole emoji cluster", () => {
        expect(type([BACKSPACE], line("ok👨‍👩‍👧")).state.text).toBe("ok");
      });

      it("backspace at the start and delete at the end change nothing", () => {
        expect(type([BACKSPACE], line("abc", 3))).toEqual({ state: line("abc", 3), output: "" });
        expect(type([DELETE], line("abc")).output).toBe("");
      });

      it("delete removes the character under the cursor", () => {
        const s = type([DELETE], line("a中b", 2)).state;
        expect(s.text).toBe("ab");
        expect(s.cursor).toBe(1);
      });

      it("ctrl-u kills to the start, ctrl-k to the end", () => {
        expect(type([ctrl("u")], line("hello world", 5)).state).toMatchObject({
          text: "world",
          cursor: 0,
        });
        expect(type([ctrl("k")], line("hello world", 5)).state).toMatchObject({
          text: "hello ",
          cursor: 6,
        });
      });

      it("ctrl-w deletes the word before the cursor and the spaces after it", () => {
        const s1 = type([ctrl("w")], line("say hello  ")).state;
        expect(s1).toMatchObject({ text: "say ", cursor: 4 });
        const s2 = type([ctrl("w")], line("say héllo wörld", 5)).state;
        expect(s2).toMatchObject({ text: "say wörld", cursor: 4 });
        expect(type([ctrl("w")], line("")).output).toBe("");
      });

      it("ignores tab, escape and unknown sequences", () => {
        for (const key of [
          { name: "tab" },
          { name: "escape" },
          { name: "unknown", sequence: "\x1b[5~" },
        ] as Key[]) {
          expect(type([key], line("abc"))).toEqual({ state: line("abc"), output: "" });
        }
      });
    });

    describe("moving", () => {
      it("left/right stop at the ends", () => {
        expect(type([named("right")], line("ab")).output).toBe("");
        expect(type([named("left"), named("left"), named("left")], line("ab")).state.cursor).toBe(
          0,
        );
      });

      it("home/end and ctrl-a/ctrl-e jump to the ends", () => {
        expect(type([named("home")], line("abc")).state.cursor).toBe(0);
        expect(type([ctrl("a")], line("abc")).state.cursor).toBe(0);
        expect(type([named("end")], line("abc", 2)).state.cursor).toBe(3);
        expect(type([ctrl("e")], line("abc", 2)).state.cursor).toBe(3);
      });

      it("places the cursor by display width, not by characters or bytes", () => {
        expect(visibleLine(line("中文"), COLS).cursorColumn).toBe(4);
        expect(visibleLine(line("中文", 1), COLS).cursorColumn).toBe(2);
        expect(visibleLine(line("héllo 中文😀", 1), COLS).cursorColumn).toBe(10);
        expect(visibleLine(line("e\u0301e\u0301"), COLS).cursorColumn).toBe(2);
      });
    });

    describe("enter and quitting", () => {
      it("enter submits the line, hides the row and starts an empty line", () => {
        const r = type([named("enter")], line("hi there", 3));
        expect(r.submit).toBe("hi there");
        expect(r.output).toBe("\r\x1b[2K");
        expect(r.state).toMatchObject({ text: "", cursor: 0 });
      });

      it("enter on an empty line sends nothing", () => {
        const r = type([named("enter")]);
        expect(r.submit).toBeUndefined();
        expect(r.output).toBe("");
      });

      it("ctrl-d quits on an empty line and deletes otherwise", () => {
        expect(type([ctrl("d")]).quit).toBe("eof");
        const r = type([ctrl("d")], line("abc", 1));
        expect(r.quit).toBeUndefined();
        expect(r.state.text).toBe("ab");
      });

      it("ctrl-c quits even with text on the line", () => {
        expect(type([ctrl("c")], line("half typed")).quit).toBe("interrupt");
      });
    });

    describe("history", () => {
      const sent = type([text("one"), named("enter"), text("two"), named("enter")]).state;

      it("up recalls older lines, down comes back to the draft", () => {
        let s = type([text("draft")], sent).state;
        s = type([named("up")], s).state;
        expect(s).toMatchObject({ text: "two", cursor: 3 });
        s = type([named("up")], s).state;
        expect(s.text).toBe("one");
        expect(type([named("up")], s).output).toBe(""); // Nothing older.
        s = type([named("down"), named("down")], s).state;
        expect(s.text).toBe("draft");
        expect(type([named("down")], s).output).toBe(""); // Nothing newer.
      });

      it("does not store the same line twice in a row", () => {
        const s = type([named("up"), named("enter")], sent).state;
        expect(s.history).toEqual(["one", "two"]);
      });

      it("keeps at most 100 lines", () => {
        let s = emptyLine();
        for (let i = 0; i < 150; i++) s = type([text(`line ${i}`), named("enter")], s).state;
        expect(s.history).toHaveLength(100);
        expect(s.history[0]).toBe("line 50");
      });
    });

    describe("drawing", () => {
      it("draws the line, erases the rest of the row and places the cursor", () => {
        expect(showLine(line("abc", 2), COLS)).toBe("\rabc\x1b[K\r\x1b[1C");
        expect(showLine(line("abc", 3), COLS)).toBe("\rabc\x1b[K\r");
      });

      it("every edit redraws the row", () => {
        expect(type([text("x")], line("ab")).output).toBe("\rabx\x1b[K\r\x1b[3C");
      });

      it("scrolls a long line sideways so it fits in columns-1 and the cursor is visible", () => {
        const long = "abcdefghijklmnopqrstuvwxyz"; // 26 characters in a 10-column terminal.
        const atEnd = visibleLine(line(long), 10);
        expect(atEnd).toEqual({ text: "rstuvwxyz", cursorColumn: 9 });
        const atStart = visibleLine(type([named("home")], line(long)).state, 10);
        expect(atStart).toEqual({ text: "abcdefghi", cursorColumn: 0 });
        const inMiddle = visibleLine(line(long, 10), 10); // Cursor before "q".
        expect(inMiddle.text.startsWith("hijklmnop")).toBe(true);
        expect(inMiddle.cursorColumn).toBe(9);
      });

      it("never cuts a wide character at the edge of the window", () => {
        const v = visibleLine(type([named("home")], line("中文中文中文")).state, 10);
        expect(v.text).toBe("中文中文"); // 8 columns: a fifth would need 10 > 9.
        const end = visibleLine(line("a中文中文中文"), 10);
        expect(displayWidth(end.text)).toBeLessThanOrEqual(9);
        expect(end.cursorColumn).toBe(displayWidth(end.text));
      });
    });
  });
}
