// key-decoder.test.ts -- bytes in, keys out, however the bytes are cut.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";
import type { Key } from "../src/key-decoder.ts";

// Since step 04: runs against step 04 and every later step of its track.
for (const step of corpusSteps(4)) {
  describe(step.name, async () => {
    const { KeyDecoder } = (await import(
      `${step.dir}src/key-decoder.ts`
    )) as typeof import("../src/key-decoder.ts");
    const bytes = (s: string) => new TextEncoder().encode(s);

    // Feed `input` as one read, then flush.
    function decodeWhole(input: string): Key[] {
      const d = new KeyDecoder();
      return [...d.feed(bytes(input)), ...d.flush()];
    }

    // Feed `input` one byte per read (flushing only at the very end), and merge
    // adjacent text keys, which a byte-by-byte feed naturally splits.
    function decodeByteByByte(input: string): Key[] {
      const d = new KeyDecoder();
      const keys: Key[] = [];
      for (const b of bytes(input)) keys.push(...d.feed(Uint8Array.of(b)));
      keys.push(...d.flush());
      return mergeText(keys);
    }

    function mergeText(keys: Key[]): Key[] {
      const out: Key[] = [];
      for (const k of keys) {
        const last = out[out.length - 1];
        if (k.name === "text" && last?.name === "text") {
          out[out.length - 1] = { name: "text", text: last.text + k.text };
        } else {
          out.push(k);
        }
      }
      return out;
    }

    describe("KeyDecoder", () => {
      it("groups printable characters into one text key", () => {
        expect(decodeWhole("hello world")).toEqual([{ name: "text", text: "hello world" }]);
      });

      it("decodes a 2-byte UTF-8 character split across two reads", () => {
        const d = new KeyDecoder();
        const [first, second] = [bytes("é").subarray(0, 1), bytes("é").subarray(1)];
        expect(d.feed(first)).toEqual([]);
        expect(d.feed(second)).toEqual([{ name: "text", text: "é" }]);
      });

      it("decodes 3- and 4-byte characters fed one byte at a time", () => {
        const d = new KeyDecoder();
        const keys: Key[] = [];
        for (const b of bytes("中😀")) keys.push(...d.feed(Uint8Array.of(b)));
        expect(mergeText(keys)).toEqual([{ name: "text", text: "中😀" }]);
        expect(d.waiting).toBe(false);
      });

      it("waits for an escape sequence split across reads", () => {
        const d = new KeyDecoder();
        expect(d.feed(bytes("ab\x1b"))).toEqual([{ name: "text", text: "ab" }]);
        expect(d.waiting).toBe(true);
        expect(d.feed(bytes("["))).toEqual([]);
        expect(d.feed(bytes("D"))).toEqual([{ name: "left" }]);
        expect(d.waiting).toBe(false);
      });

      it("emits a lone ESC only on flush()", () => {
        const d = new KeyDecoder();
        expect(d.feed(bytes("\x1b"))).toEqual([]);
        expect(d.flush()).toEqual([{ name: "escape" }]);
        expect(d.waiting).toBe(false);
        expect(d.feed(bytes("x"))).toEqual([{ name: "text", text: "x" }]);
      });

      it("turns a cut-off sequence into an unknown key on flush()", () => {
        const d = new KeyDecoder();
        expect(d.feed(bytes("\x1b[1;"))).toEqual([]);
        expect(d.flush()).toEqual([{ name: "unknown", sequence: "\x1b[1;" }]);
      });

      it.each<[string, string, Key]>([
        ["up", "\x1b[A", { name: "up" }],
        ["down", "\x1b[B", { name: "down" }],
        ["right", "\x1b[C", { name: "right" }],
        ["left", "\x1b[D", { name: "left" }],
        ["home (CSI H)", "\x1b[H", { name: "home" }],
        ["end (CSI F)", "\x1b[F", { name: "end" }],
        ["home (SS3)", "\x1bOH", { name: "home" }],
        ["end (SS3)", "\x1bOF", { name: "end" }],
        ["up (application mode)", "\x1bOA", { name: "up" }],
        ["home (1~)", "\x1b[1~", { name: "home" }],
        ["home (7~)", "\x1b[7~", { name: "home" }],
        ["end (4~)", "\x1b[4~", { name: "end" }],
        ["end (8~)", "\x1b[8~", { name: "end" }],
        ["delete", "\x1b[3~", { name: "delete" }],
        ["ctrl-right as right", "\x1b[1;5C", { name: "right" }],
        ["page up (unbound)", "\x1b[5~", { name: "unknown", sequence: "\x1b[5~" }],
        ["F5 (unbound)", "\x1b[15~", { name: "unknown", sequence: "\x1b[15~" }],
        ["alt-b (unbound)", "\x1bb", { name: "unknown", sequence: "\x1bb" }],
        ["enter", "\r", { name: "enter" }],
        ["line feed", "\n", { name: "enter" }],
        ["backspace (DEL)", "\x7f", { name: "backspace" }],
        ["backspace (^H)", "\x08", { name: "backspace" }],
        ["tab", "\t", { name: "tab" }],
        ["ctrl-a", "\x01", { name: "ctrl", letter: "a" }],
        ["ctrl-c", "\x03", { name: "ctrl", letter: "c" }],
        ["ctrl-w", "\x17", { name: "ctrl", letter: "w" }],
        ["NUL", "\x00", { name: "unknown", sequence: "\x00" }],
      ])("decodes %s", (_name, input, key) => {
        expect(decodeWhole(input)).toEqual([key]);
        expect(decodeByteByByte(input)).toEqual([key]);
      });

      it("keeps keys in order in a mixed read", () => {
        const input = "ab\x1b[Dç\x1b[3~\x01中\r";
        const expected: Key[] = [
          { name: "text", text: "ab" },
          { name: "left" },
          { name: "text", text: "ç" },
          { name: "delete" },
          { name: "ctrl", letter: "a" },
          { name: "text", text: "中" },
          { name: "enter" },
        ];
        expect(decodeWhole(input)).toEqual(expected);
        expect(decodeByteByByte(input)).toEqual(expected);
      });

      it("decodes ESC ESC [ A as Escape then Up", () => {
        expect(decodeWhole("\x1b\x1b[A")).toEqual([{ name: "escape" }, { name: "up" }]);
      });

      it("does not swallow input after a runaway CSI", () => {
        const keys = decodeWhole(`\x1b[${"1".repeat(100)}x`);
        expect(keys[0]?.name).toBe("unknown");
        const last = keys[keys.length - 1];
        expect(last?.name === "text" && last.text.endsWith("x")).toBe(true);
      });

      it("gives U+FFFD for invalid UTF-8 and carries on", () => {
        const d = new KeyDecoder();
        expect(mergeText(d.feed(Uint8Array.of(0xff, 0x61)))).toEqual([
          { name: "text", text: "\ufffda" },
        ]);
      });

      it("never lets a C1 control byte through as text", () => {
        expect(decodeWhole("a\u009bb")).toEqual([
          { name: "text", text: "a" },
          { name: "unknown", sequence: "\u009b" },
          { name: "text", text: "b" },
        ]);
      });
    });
  });
}
