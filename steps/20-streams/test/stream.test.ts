// stream.test.ts -- the log alone: IDs, ranges, XDEL and trimming against Redis 7.0.15's answers.
//
// Expected values marked "redis:" were recorded from a private redis-server
// 7.0.15 with redis-cli; "*" IDs use an injected clock so they are exact.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";
import type { Stream, StreamId } from "../src/stream.ts";

// Since step 20: runs against step 20 and every later step of its track.
for (const step of corpusSteps(20)) {
  describe(step.name, async () => {
    const {
      compareIds,
      decrId,
      formatId,
      incrId,
      MAX_ID,
      MIN_ID,
      parseRangeEnd,
      parseRangeStart,
      parseStrictId,
      parseXaddId,
      Stream,
      StreamError,
      U64_MAX,
    } = (await import(`${step.dir}src/stream.ts`)) as typeof import("../src/stream.ts");
    const b = (s: string) => Buffer.from(s);
    const id = (s: string): StreamId => {
      const [ms, seq] = s.split("-") as [string, string];
      return { ms: BigInt(ms), seq: BigInt(seq) };
    };
    const ids = (xs: { id: StreamId }[]) => xs.map((x) => formatId(x.id));
    const fv = (...xs: string[]) => xs.map(b);
    const MAX = "18446744073709551615";

    // A clock the test moves by hand.
    function fakeClock(start = 1_000_000) {
      const c = { now: start, fn: () => c.now };
      return c;
    }

    // Redis's reply line for whatever `f` throws, or "ok".
    function reply(f: () => unknown): string {
      try {
        f();
        return "ok";
      } catch (e) {
        if (e instanceof StreamError) return e.reply;
        throw e;
      }
    }
    const INVALID = "ERR Invalid stream ID specified as stream command argument";

    function streamOf(n: number, opts = {}): Stream {
      const s = new Stream(opts);
      for (let i = 1; i <= n; i++) s.add({ kind: "explicit", id: id(`${i}-0`) }, fv("f", "v"));
      return s;
    }

    describe("IDs at the unsigned 64-bit edges", () => {
      it("compare exactly where JS numbers would not", () => {
        expect(compareIds(id(`${MAX}-${MAX}`), id(`${MAX}-18446744073709551614`))).toBe(1);
        expect(compareIds(id("9007199254740993-0"), id("9007199254740992-0"))).toBe(1);
        expect(formatId(MAX_ID)).toBe(`${MAX}-${MAX}`);
      });

      it("step across the seq boundary and refuse to go past the ends", () => {
        expect(formatId(incrId(id(`5-${MAX}`))!)).toBe("6-0");
        expect(formatId(decrId(id("6-0"))!)).toBe(`5-${MAX}`);
        expect(incrId(MAX_ID)).toBeNull();
        expect(decrId(MIN_ID)).toBeNull();
      });

      it.each([
        [`${MAX}-${MAX}`, `${MAX}-${MAX}`],
        [" 1-1", "1-1"],
        ["+2-1", "2-1"],
        ["03-1", "3-1"],
        ["4- 1", "4-1"],
        ["5-+3", "5-3"],
        ["6-01", "6-1"],
        ["8", "8-0"],
        ["10--0", "10-0"],
        ["13--18446744073709551615", "13-1"],
        ["14-\t7", "14-7"],
        [MAX, `${MAX}-0`],
      ])("redis: XADD accepts %j as %s", (arg, want) => {
        const p = parseXaddId(arg);
        expect(p.kind).toBe("explicit");
        expect(p.kind === "explicit" && formatId(p.id)).toBe(want);
      });

      it.each([
        "-0",
        "7-1 ",
        "-",
        "+",
        "9-",
        "-9223372036854775809",
        "11--5",
        "12-18446744073709551616",
        "18446744073709551616-1",
        "-1",
        "",
        "1-2-3",
        "x",
        `${"1".repeat(130)}`,
      ])("redis: XADD refuses %j as an invalid ID", (arg) => {
        expect(reply(() => parseXaddId(arg))).toBe(INVALID);
      });

      it("parses * and <ms>-* for XADD, and strict IDs elsewhere", () => {
        expect(parseXaddId("*")).toEqual({ kind: "auto" });
        expect(parseXaddId(`${MAX}-*`)).toEqual({ kind: "auto-seq", ms: U64_MAX });
        expect(reply(() => parseStrictId("5-*"))).toBe(INVALID);
        expect(reply(() => parseStrictId("+"))).toBe(INVALID);
        expect(formatId(parseStrictId("7"))).toBe("7-0");
      });

      it("range bounds: - + incomplete and exclusive", () => {
        expect(parseRangeStart("-")).toEqual(MIN_ID);
        expect(parseRangeEnd("+")).toEqual(MAX_ID);
        expect(parseRangeStart("+")).toEqual(MAX_ID); // XRANGE s + - is simply empty
        expect(formatId(parseRangeStart("5"))).toBe("5-0");
        expect(formatId(parseRangeEnd("5"))).toBe(`5-${MAX}`);
        expect(formatId(parseRangeStart("(5"))).toBe("5-1");
        // An incomplete exclusive bound is completed first, then stepped: "(5"
        // as an end is "before 5-MAX", so it still includes 5-0 and 5-3.
        expect(formatId(parseRangeEnd("(5"))).toBe("5-18446744073709551614");
        expect(formatId(parseRangeStart(`(5-${MAX}`))).toBe("6-0");
        // redis: XRANGE p ( +, XRANGE p (- +, and the two ends of the ID space
        expect(reply(() => parseRangeStart("("))).toBe(INVALID);
        expect(reply(() => parseRangeStart("(-"))).toBe(INVALID);
        expect(reply(() => parseRangeStart(`(${MAX}-${MAX}`))).toBe(
          "ERR invalid start ID for the interval",
        );
        expect(reply(() => parseRangeEnd("(0-0"))).toBe("ERR invalid end ID for the interval");
      });
    });

    describe("XADD", () => {
      it("redis: the ID errors, with the stream untouched after each", () => {
        const s = new Stream();
        expect(formatId(s.add(parseXaddId(`5-${MAX}`), fv("f", "v")))).toBe(`5-${MAX}`);
        expect(reply(() => s.add(parseXaddId("5-*"), fv("f", "v")))).toBe(
          "ERR Elements are too large to be stored",
        );
        expect(reply(() => s.add(parseXaddId("4-*"), fv("f", "v")))).toBe(
          "ERR The ID specified in XADD is equal or smaller than the target stream top item",
        );
        expect(reply(() => s.add(parseXaddId(`5-${MAX}`), fv("f", "v")))).toMatch(
          /equal or smaller/,
        );
        expect(formatId(s.add(parseXaddId("6-*"), fv("f", "v")))).toBe("6-0");
        expect(reply(() => s.add(parseXaddId("0-0"), fv("f", "v")))).toBe(
          "ERR The ID specified in XADD must be greater than 0-0",
        );
        expect(reply(() => s.add(parseXaddId("0"), fv("f", "v")))).toMatch(/greater than 0-0/);
        expect(s.length).toBe(2);
        expect(formatId(s.add(parseXaddId(`${MAX}-${MAX}`), fv("f", "v")))).toBe(`${MAX}-${MAX}`);
        const exhausted =
          "ERR The stream has exhausted the last possible ID, unable to add more items";
        expect(reply(() => s.add(parseXaddId("*"), fv("f", "v")))).toBe(exhausted);
        expect(reply(() => s.add(parseXaddId(`${MAX}-*`), fv("f", "v")))).toBe(exhausted);
        expect(s.length).toBe(3);
        expect(s.entriesAdded).toBe(3);
      });

      it("redis: 0-* on an empty stream is 0-1", () => {
        expect(formatId(new Stream().add(parseXaddId("0-*"), fv("f", "v")))).toBe("0-1");
      });

      it("* uses the clock, counts within a millisecond, survives a clock going back", () => {
        const clock = fakeClock(1000);
        const s = new Stream({ clock: clock.fn });
        const add = () => formatId(s.add({ kind: "auto" }, fv("f", "v")));
        expect(add()).toBe("1000-0");
        expect(add()).toBe("1000-1");
        clock.now = 1005;
        expect(add()).toBe("1005-0");
        clock.now = 900; // NTP stepped the clock back
        expect(add()).toBe("1005-1");
        expect(add()).toBe("1005-2");
        clock.now = 1006;
        expect(add()).toBe("1006-0");
      });

      it("* after an explicit ID beyond the clock continues from that ID", () => {
        const s = new Stream({ clock: () => 10 });
        s.add(parseXaddId(`20-${MAX}`), fv("f", "v"));
        expect(formatId(s.add({ kind: "auto" }, fv("f", "v")))).toBe("21-0");
      });
    });

    describe("Ranges and XDEL", () => {
      it("XRANGE/XREVRANGE with incomplete, exclusive and counted bounds", () => {
        const s = new Stream();
        for (const x of ["1-1", "2-1", "3-1", "4-1", "5-3", "6-1", "8-0"]) {
          s.add(parseXaddId(x), fv("f", "v"));
        }
        // redis: XRANGE p (4 (6
        expect(ids(s.range(parseRangeStart("(4"), parseRangeEnd("(6")))).toEqual([
          "4-1",
          "5-3",
          "6-1",
        ]);
        expect(ids(s.range(parseRangeStart("5"), parseRangeEnd("5")))).toEqual(["5-3"]);
        expect(ids(s.range(MIN_ID, MAX_ID, 2))).toEqual(["1-1", "2-1"]);
        expect(ids(s.range(MIN_ID, MAX_ID, 2, true))).toEqual(["8-0", "6-1"]);
        expect(ids(s.range(id("3-0"), id("6-0"), 0, true))).toEqual(["5-3", "4-1", "3-1"]);
        expect(s.range(MAX_ID, MIN_ID)).toEqual([]);
        expect(s.get(id("6-1"))?.fields.map(String)).toEqual(["f", "v"]);
      });

      it("redis: incomplete exclusive bounds, XRANGE p - (5 and XRANGE p (5 +", () => {
        const s = new Stream();
        for (const x of ["4-1", "5-0", "5-3", `5-${MAX}`, "6-0"])
          s.add(parseXaddId(x), fv("f", "v"));
        expect(ids(s.range(parseRangeStart("-"), parseRangeEnd("(5")))).toEqual([
          "4-1",
          "5-0",
          "5-3",
        ]);
        expect(ids(s.range(parseRangeStart("(5"), parseRangeEnd("+")))).toEqual([
          "5-3",
          `5-${MAX}`,
          "6-0",
        ]);
      });

      it("works at the top of the ID space", () => {
        const s = new Stream();
        s.add(parseXaddId(`${MAX}-18446744073709551614`), fv("a", "1"));
        s.add(parseXaddId(`${MAX}-${MAX}`), fv("b", "2"));
        expect(ids(s.range(parseRangeStart(MAX), parseRangeEnd("+")))).toEqual([
          `${MAX}-18446744073709551614`,
          `${MAX}-${MAX}`,
        ]);
        expect(ids(s.range(parseRangeStart(`(${MAX}-18446744073709551614`), MAX_ID))).toEqual([
          `${MAX}-${MAX}`,
        ]);
        expect(ids(s.range(MIN_ID, MAX_ID, 1, true))).toEqual([`${MAX}-${MAX}`]);
      });

      it("redis: XDEL bookkeeping (the counters XINFO STREAM will report)", () => {
        const s = streamOf(5);
        expect(s.delete([id("2-0"), id("2-0"), id("9-0")])).toBe(1);
        expect(s.delete([id("1-0")])).toBe(1);
        expect(s.length).toBe(3);
        expect(formatId(s.lastId)).toBe("5-0");
        expect(formatId(s.maxDeletedId)).toBe("2-0");
        expect(s.entriesAdded).toBe(5);
        expect(formatId(s.firstId)).toBe("3-0");
        expect(ids(s.range(MIN_ID, MAX_ID))).toEqual(["3-0", "4-0", "5-0"]);
        s.delete([id("5-0")]);
        expect(formatId(s.lastId)).toBe("5-0"); // the top ID survives its entry
        expect(formatId(s.lastEntryId()!)).toBe("4-0");
        expect(reply(() => s.add(parseXaddId("5-0"), fv("f", "v")))).toMatch(/equal or smaller/);
        s.delete([id("3-0"), id("4-0")]);
        expect(s.length).toBe(0);
        expect(s.firstId).toEqual(MIN_ID);
        expect(s.lastEntryId()).toBeUndefined();
        expect(s.range(MIN_ID, MAX_ID)).toEqual([]);
      });

      it("stays sorted and searchable through heavy deletion and compaction", () => {
        const s = streamOf(5000);
        const gone: StreamId[] = [];
        for (let i = 1; i <= 5000; i++) if (i % 3 !== 0) gone.push(id(`${i}-0`));
        expect(s.delete(gone)).toBe(gone.length);
        expect(s.length).toBe(1666);
        expect(ids(s.range(id("2990-0"), id("3000-0")))).toEqual([
          "2991-0",
          "2994-0",
          "2997-0",
          "3000-0",
        ]);
        expect(s.has(id("3000-0"))).toBe(true);
        expect(s.has(id("3001-0"))).toBe(false);
      });
    });

    describe("Trimming (100-entry nodes, as Redis's defaults)", () => {
      it("redis: MAXLEN ~ 10 on 250 entries removes two whole nodes", () => {
        const s = streamOf(250);
        expect(s.trim({ strategy: "maxlen", maxlen: 10, approx: true })).toBe(200);
        expect(s.length).toBe(50);
        expect(formatId(s.firstId)).toBe("201-0");
        // What is left is one node: another ~ trim cannot drop it.
        expect(s.trim({ strategy: "maxlen", maxlen: 1, approx: true })).toBe(0);
      });

      it("redis: ~ keeps more than asked, LIMIT stops before a node, MINID ~ then =", () => {
        const s = streamOf(250);
        expect(s.trim({ strategy: "maxlen", maxlen: 160, approx: true })).toBe(0);
        expect(s.trim({ strategy: "maxlen", maxlen: 120, approx: true, limit: 50 })).toBe(0);
        expect(s.trim({ strategy: "maxlen", maxlen: 120, approx: true, limit: 100 })).toBe(100);
        expect(s.length).toBe(150);
        expect(s.trim({ strategy: "minid", minid: id("230-0"), approx: true })).toBe(100);
        expect(s.trim({ strategy: "minid", minid: id("230-0"), approx: false })).toBe(29);
        expect(s.length).toBe(21);
        expect(formatId(s.firstId)).toBe("230-0");
        expect(formatId(s.maxDeletedId)).toBe("0-0"); // trimming is not XDEL
      });

      it("redis: exact MAXLEN after XDEL in a middle node", () => {
        const s = streamOf(250);
        expect(s.delete([id("101-0"), id("150-0")])).toBe(2);
        expect(s.trim({ strategy: "maxlen", maxlen: 180, approx: false })).toBe(68);
        expect(s.length).toBe(180);
        expect(formatId(s.maxDeletedId)).toBe("150-0");
        expect(formatId(s.firstId)).toBe("69-0");
        // Three nodes left: 69..100 (32 live), 101..200 (98), 201..250 (50).
        expect(s.trim({ strategy: "maxlen", maxlen: 148, approx: true })).toBe(32);
        expect(s.trim({ strategy: "maxlen", maxlen: 50, approx: true })).toBe(98);
      });

      it("XADD with MAXLEN trims after adding; MAXLEN 0 leaves an empty stream", () => {
        const s = streamOf(3);
        const added = s.add(parseXaddId("4-0"), fv("f", "v"), {
          strategy: "maxlen",
          maxlen: 2,
          approx: false,
        });
        expect(formatId(added)).toBe("4-0");
        expect(ids(s.range(MIN_ID, MAX_ID))).toEqual(["3-0", "4-0"]);
        s.add(parseXaddId("5-0"), fv("f", "v"), { strategy: "maxlen", maxlen: 0, approx: false });
        expect(s.length).toBe(0);
        expect(s.entriesAdded).toBe(5);
        expect(formatId(s.lastId)).toBe("5-0");
        expect(compareIds(s.add(parseXaddId("*"), fv("f", "v")), id("5-0"))).toBe(1);
      });

      it("a node emptied by XDEL is dropped, and the next XADD opens a new one", () => {
        const s = streamOf(101); // nodes: 1..100, 101
        s.delete([id("101-0")]);
        for (let i = 102; i <= 202; i++) s.add(parseXaddId(`${i}-0`), fv("f", "v"));
        // 102..201 fill a new node and 202 opens another, so ~ drops two
        // whole nodes. Had 102 joined 101's node, that node would have
        // closed at 200 and ~ would have kept 201 too.
        expect(s.trim({ strategy: "maxlen", maxlen: 1, approx: true })).toBe(200);
        expect(ids(s.range(MIN_ID, MAX_ID))).toEqual(["202-0"]);
      });

      it("trims 100,000 entries from the front cheaply", () => {
        const s = streamOf(100_000);
        const t0 = performance.now();
        for (let keep = 99_000; keep >= 0; keep -= 1000) {
          s.trim({ strategy: "maxlen", maxlen: keep, approx: false });
        }
        expect(s.length).toBe(0);
        expect(performance.now() - t0).toBeLessThan(2000);
      });
    });
  });
}
