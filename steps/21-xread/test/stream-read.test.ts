// stream-read.test.ts -- what step 21 adds to the log: XREAD's IDs, reading after an ID, the stream's info.
//
// Expected values marked "redis:" were recorded from a private redis-server
// 7.0.15 with redis-cli (XREAD, XINFO STREAM). Step 20's stream.test.ts
// covers the rest of the Stream.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";
import type { Stream, StreamId } from "../src/stream.ts";

// Since step 21: runs against step 21 and every later step of its track.
for (const step of corpusSteps(21)) {
  describe(step.name, async () => {
    const { formatId, MAX_ID, MIN_ID, parseReadId, parseXaddId, Stream, StreamError } =
      (await import(`${step.dir}src/stream.ts`)) as typeof import("../src/stream.ts");
    const id = (s: string): StreamId => {
      const [ms, seq] = s.split("-") as [string, string];
      return { ms: BigInt(ms), seq: BigInt(seq) };
    };
    const ids = (xs: { id: StreamId }[]) => xs.map((x) => formatId(x.id));
    const fv = (...xs: string[]) => xs.map((x) => Buffer.from(x));
    const MAX = "18446744073709551615";

    function reply(f: () => unknown): string {
      try {
        f();
        return "ok";
      } catch (e) {
        if (e instanceof StreamError) return e.reply;
        throw e;
      }
    }

    function streamOf(n: number): Stream {
      const s = new Stream();
      for (let i = 1; i <= n; i++) s.add({ kind: "explicit", id: id(`${i}-0`) }, fv("f", "v"));
      return s;
    }

    it("XREAD IDs: $, explicit, and > refused", () => {
      expect(parseReadId("$")).toEqual({ kind: "last" });
      expect(parseReadId("0")).toEqual({ kind: "after", id: MIN_ID });
      expect(parseReadId(`${MAX}-${MAX}`)).toEqual({ kind: "after", id: MAX_ID });
      expect(reply(() => parseReadId(">"))).toBe(
        "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
      );
      expect(reply(() => parseReadId("-"))).toBe(
        "ERR Invalid stream ID specified as stream command argument",
      );
    });

    it("readAfter: strictly after the ID, oldest first, COUNT, nothing after the last ID", () => {
      const s = new Stream();
      for (const x of ["1-1", "2-1", "3-1", "4-1", "5-3", "6-1", "8-0"]) {
        s.add(parseXaddId(x), fv("f", "v"));
      }
      expect(ids(s.readAfter(id("5-3")))).toEqual(["6-1", "8-0"]);
      expect(ids(s.readAfter(id("5-0")))).toEqual(["5-3", "6-1", "8-0"]);
      expect(ids(s.readAfter(MIN_ID, 2))).toEqual(["1-1", "2-1"]);
      expect(s.readAfter(id("8-0"))).toEqual([]);
      expect(s.readAfter(MAX_ID)).toEqual([]);
      s.delete([id("6-1")]);
      expect(ids(s.readAfter(id("5-3")))).toEqual(["8-0"]);
    });

    it("redis: XINFO STREAM's counters after XDEL", () => {
      const s = streamOf(5);
      s.delete([id("2-0"), id("2-0"), id("9-0")]);
      s.delete([id("1-0")]);
      const info = s.info();
      expect(info.length).toBe(3);
      expect(formatId(info.lastGeneratedId)).toBe("5-0");
      expect(formatId(info.maxDeletedEntryId)).toBe("2-0");
      expect(info.entriesAdded).toBe(5);
      expect(formatId(info.recordedFirstEntryId)).toBe("3-0");
      expect(formatId(info.firstEntry!.id)).toBe("3-0");
      expect(formatId(info.lastEntry!.id)).toBe("5-0");
      s.delete([id("5-0")]);
      expect(formatId(s.info().lastEntry!.id)).toBe("4-0");
      expect(formatId(s.info().lastGeneratedId)).toBe("5-0");
      s.delete([id("3-0"), id("4-0")]);
      expect(s.info().length).toBe(0);
      expect(s.info().recordedFirstEntryId).toEqual(MIN_ID);
      expect(s.info().firstEntry).toBeUndefined();
      expect(s.info().lastEntry).toBeUndefined();
      expect(s.info().radixTreeKeys).toBe(0);
    });

    describe("radix-tree-keys: the nodes ~ trims by (100 entries, as Redis's defaults)", () => {
      it("redis: MAXLEN ~ 10 on 250 entries leaves one node", () => {
        const s = streamOf(250);
        expect(s.info().radixTreeKeys).toBe(3);
        s.trim({ strategy: "maxlen", maxlen: 10, approx: true });
        const info = s.info();
        expect(info.length).toBe(50);
        expect(info.radixTreeKeys).toBe(1);
        expect(formatId(info.recordedFirstEntryId)).toBe("201-0");
      });

      it("redis: after ~, LIMIT, MINID ~ and then =", () => {
        const s = streamOf(250);
        s.trim({ strategy: "maxlen", maxlen: 120, approx: true, limit: 100 });
        s.trim({ strategy: "minid", minid: id("230-0"), approx: true });
        s.trim({ strategy: "minid", minid: id("230-0"), approx: false });
        const info = s.info();
        expect(info.length).toBe(21);
        expect(info.radixTreeKeys).toBe(1);
        expect(formatId(info.recordedFirstEntryId)).toBe("230-0");
        expect(formatId(info.maxDeletedEntryId)).toBe("0-0"); // trimming is not XDEL
      });

      it("redis: exact MAXLEN after XDEL in a middle node", () => {
        const s = streamOf(250);
        s.delete([id("101-0"), id("150-0")]);
        s.trim({ strategy: "maxlen", maxlen: 180, approx: false });
        const info = s.info();
        expect(info.length).toBe(180);
        expect(info.radixTreeKeys).toBe(3);
        expect(formatId(info.maxDeletedEntryId)).toBe("150-0");
        expect(formatId(info.recordedFirstEntryId)).toBe("69-0");
      });

      it("a node emptied by XDEL is dropped, and the next XADD opens a new one", () => {
        const s = streamOf(101); // nodes: 1..100, 101
        expect(s.info().radixTreeKeys).toBe(2);
        s.delete([id("101-0")]);
        expect(s.info().radixTreeKeys).toBe(1);
        s.add(parseXaddId("102-0"), fv("f", "v"));
        expect(s.info().radixTreeKeys).toBe(2);
      });
    });
  });
}
