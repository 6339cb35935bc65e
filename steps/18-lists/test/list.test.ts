// list.test.ts -- the deque against Redis 7.0.15's answers and against a plain array.
//
// The expected values in the "as Redis" tests were recorded from a private
// redis-server 7.0.15 with redis-cli (the command is in each test's name).
// The model test drives the List and a naive JS array with the same random
// operations and demands identical results after every step.

import { corpusSteps } from "@smallchat/test/corpus";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PosError } from "../src/list.ts";

// Since step 18: runs against step 18 and every later step of its track.
for (const step of corpusSteps(18)) {
  describe(step.name, async () => {
    const { List, PosError } = (await import(
      `${step.dir}src/list.ts`
    )) as typeof import("../src/list.ts");
    const b = (s: string) => Buffer.from(s);
    const strs = (xs: Buffer[]) => xs.map((x) => x.toString());
    const listOf = (s: string) => {
      const l = new List();
      for (const w of s.split(" ").filter(Boolean)) l.pushBack(b(w));
      return l;
    };

    describe("List as Redis answers", () => {
      it.each([
        ["0 -1", "a b c d e f g"],
        ["-3 -1", "e f g"],
        ["-100 2", "a b c"],
        ["5 100", "f g"],
        ["3 1", ""],
        ["7 8", ""],
        ["-1 -2", ""],
        ["-8 -8", ""],
        ["-7 -7", "a"],
        ["2 -3", "c d e"],
      ])("LRANGE l %s on a..g", (args, want) => {
        const [start, stop] = args.split(" ").map(Number) as [number, number];
        expect(strs(listOf("a b c d e f g").range(start, stop)).join(" ")).toBe(want);
      });

      it("LRANGE clamps 64-bit extremes like any other out-of-range index", () => {
        const l = listOf("a b c");
        const max = Number(2n ** 63n - 1n);
        expect(strs(l.range(-max - 1, max))).toEqual(["a", "b", "c"]);
        expect(l.range(max, -max - 1)).toEqual([]);
      });

      it.each([
        [0, "a"],
        [6, "g"],
        [7, undefined],
        [-1, "g"],
        [-7, "a"],
        [-8, undefined],
      ])("LINDEX l %d", (i, want) => {
        expect(listOf("a b c d e f g").index(i)?.toString()).toBe(want);
      });

      it("LSET in range replaces, out of range reports false (ERR index out of range)", () => {
        const l = listOf("a b c");
        expect(l.set(-1, b("z"))).toBe(true);
        expect(l.set(3, b("q"))).toBe(false);
        expect(l.set(-4, b("q"))).toBe(false);
        expect(strs(l.toArray())).toEqual(["a", "b", "z"]);
      });

      it.each<[string, { rank?: number; count?: number; maxlen?: number }, number[]]>([
        ["a", {}, [0]],
        ["a RANK 2", { rank: 2 }, [2]],
        ["a RANK -1", { rank: -1 }, [6]],
        ["a RANK -3", { rank: -3 }, [2]],
        ["a RANK 5", { rank: 5 }, []],
        ["a COUNT 0", { count: 0 }, [0, 2, 4, 6]],
        ["a COUNT 2", { count: 2 }, [0, 2]],
        ["a RANK 2 COUNT 2", { rank: 2, count: 2 }, [2, 4]],
        ["a RANK -2 COUNT 0", { rank: -2, count: 0 }, [4, 2, 0]],
        ["a MAXLEN 3 COUNT 0", { maxlen: 3, count: 0 }, [0, 2]],
        ["a RANK -1 MAXLEN 2 COUNT 0", { rank: -1, maxlen: 2, count: 0 }, [6]],
        ["a RANK 3 MAXLEN 4", { rank: 3, maxlen: 4 }, []],
      ])("LPOS m %s on [a b a c a d a]", (_name, opts, want) => {
        expect(listOf("a b a c a d a").pos(b("a"), opts)).toEqual(want);
      });

      it("LPOS of a missing value: no match, with and without COUNT", () => {
        const l = listOf("a b a c a d a");
        expect(l.pos(b("z"))).toEqual([]);
        expect(l.pos(b("z"), { count: 0 })).toEqual([]);
      });

      it("LPOS option errors carry Redis's exact text", () => {
        const l = listOf("a");
        const zero = l.pos(b("a"), { rank: 0 });
        expect(zero).toBeInstanceOf(PosError);
        expect((zero as PosError).reply).toBe(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        );
        expect((l.pos(b("a"), { count: -1 }) as PosError).reply).toBe(
          "ERR COUNT can't be negative",
        );
        expect((l.pos(b("a"), { maxlen: -1 }) as PosError).reply).toBe(
          "ERR MAXLEN can't be negative",
        );
      });

      it.each([
        [2, 2, "b c a d a"],
        [-2, 2, "a b a c d"],
        [0, 4, "b c d"],
      ])("LREM m %d a", (count, removed, rest) => {
        const l = listOf("a b a c a d a");
        expect(l.remove(count, b("a"))).toBe(removed);
        expect(strs(l.toArray()).join(" ")).toBe(rest);
      });

      it.each([
        ["1 -2", "b c d e f"],
        ["-2 -1", "f g"],
        ["5 2", ""],
        ["0 100", "a b c d e f g"],
        ["-100 0", "a"],
        ["7 10", ""],
      ])("LTRIM l %s", (args, rest) => {
        const [start, stop] = args.split(" ").map(Number) as [number, number];
        const l = listOf("a b c d e f g");
        const removed = l.trim(start, stop);
        expect(strs(l.toArray()).join(" ")).toBe(rest);
        expect(removed).toBe(7 - l.length);
      });

      it("RPOP l 2 pops tail first; LPOP l 5 stops at the end", () => {
        const l = listOf("a b c");
        expect(strs(l.popBackN(2))).toEqual(["c", "b"]);
        l.pushBack(b("b"));
        l.pushBack(b("c"));
        expect(strs(l.popFrontN(5))).toEqual(["a", "b", "c"]);
        expect(l.length).toBe(0);
        expect(l.popFront()).toBeUndefined();
        expect(l.popBack()).toBeUndefined();
      });

      it("LINSERT: AFTER a, BEFORE a, missing pivot", () => {
        const l = listOf("a b a");
        expect(l.insert("after", b("a"), b("x"))).toBe(4);
        expect(l.insert("before", b("a"), b("y"))).toBe(5);
        expect(l.insert("before", b("q"), b("y"))).toBe(-1);
        expect(strs(l.toArray()).join(" ")).toBe("y a x b a");
      });

      it("compares bytes, not strings: binary elements and 4-byte UTF-8", () => {
        const l = new List();
        l.pushBack(Buffer.from([0, 255, 10]));
        l.pushBack(b("😀"));
        expect(l.pos(Buffer.from([0, 255, 10]))).toEqual([0]);
        expect(l.pos(b("😀"))).toEqual([1]);
        expect(l.pos(Buffer.from([0, 255]))).toEqual([]);
      });
    });

    describe("List ring buffer", () => {
      it("wraps, doubles when full and halves when a quarter full", () => {
        const l = new List();
        expect(l.capacity).toBe(8);
        for (let i = 0; i < 5; i++) l.pushFront(b(`f${i}`)); // head wraps below slot 0
        for (let i = 0; i < 5; i++) l.pushBack(b(`b${i}`));
        expect(l.capacity).toBe(16);
        expect(l.index(0)?.toString()).toBe("f4");
        expect(l.index(-1)?.toString()).toBe("b4");
        for (let i = 0; i < 6; i++) l.popFront();
        expect(l.length).toBe(4);
        expect(l.capacity).toBe(8);
        expect(strs(l.toArray())).toEqual(["b1", "b2", "b3", "b4"]);
      });

      it("gives memory back at once when LREM empties most of it", () => {
        const l = new List();
        for (let i = 0; i < 1000; i++) l.pushBack(b(i % 500 === 0 ? "keep" : "drop"));
        expect(l.capacity).toBe(1024);
        expect(l.remove(0, b("drop"))).toBe(998);
        expect(l.capacity).toBe(8);
        expect(strs(l.toArray())).toEqual(["keep", "keep"]);
      });

      it("100,000 elements pushed at both ends, ranged, indexed and drained", () => {
        const l = new List();
        const n = 100_000;
        for (let i = 0; i < n / 2; i++) {
          l.pushBack(b(String(n / 2 + i)));
          l.pushFront(b(String(n / 2 - 1 - i)));
        }
        expect(l.length).toBe(n);
        const all = l.range(0, -1);
        expect(all.length).toBe(n);
        const want = Array.from({ length: n }, (_, i) => String(i));
        expect(strs(all)).toEqual(want);
        expect(strs(l.range(-100, -1))).toEqual(
          Array.from({ length: 100 }, (_, i) => String(n - 100 + i)),
        );
        expect(l.index(54_321)?.toString()).toBe("54321");
        const drained: string[] = [];
        for (let i = 0; i < n; i++) drained.push(l.popFront()!.toString());
        expect(drained).toEqual(want);
        expect(l.capacity).toBe(8);
      });
    });

    /* ================================ Model test ================================
     * Random operations on the List and on a plain array that does the obvious
     * slow thing for each; after every operation both must agree.
     * ======================================================================== */

    // A naive reference with the same Redis index rules, written independently
    // of list.ts: slice/splice on a plain array.
    class ArrayModel {
      a: string[] = [];
      norm(start: number, stop: number): [number, number] {
        const n = this.a.length;
        const s = Math.max(start < 0 ? n + start : start, 0);
        const e = Math.min(stop < 0 ? n + stop : stop, n - 1);
        return [s, e];
      }
      range(start: number, stop: number): string[] {
        const [s, e] = this.norm(start, stop);
        return s > e ? [] : this.a.slice(s, e + 1);
      }
      trim(start: number, stop: number): void {
        this.a = this.range(start, stop);
      }
      index(i: number): string | undefined {
        const j = i < 0 ? this.a.length + i : i;
        return j >= 0 && j < this.a.length ? this.a[j] : undefined;
      }
      remove(count: number, v: string): number {
        const idx = this.a.map((x, i) => (x === v ? i : -1)).filter((i) => i >= 0);
        const pick = count > 0 ? idx.slice(0, count) : count < 0 ? idx.slice(count) : idx;
        const gone = new Set(pick);
        this.a = this.a.filter((_, i) => !gone.has(i));
        return pick.length;
      }
      pos(v: string, rank: number, count: number | undefined, maxlen: number): number[] {
        const n = this.a.length;
        const order = Array.from({ length: n }, (_, k) => (rank < 0 ? n - 1 - k : k));
        const scanned = maxlen === 0 ? order : order.slice(0, maxlen);
        const hits = scanned.filter((i) => this.a[i] === v).slice(Math.abs(rank) - 1);
        return count === undefined ? hits.slice(0, 1) : count === 0 ? hits : hits.slice(0, count);
      }
    }

    const value = fc.constantFrom("a", "b", "c", "d");
    const idx = fc.integer({ min: -12, max: 12 });
    const op = fc.oneof(
      fc.record({ t: fc.constant("lpush" as const), v: value }),
      fc.record({ t: fc.constant("rpush" as const), v: value }),
      fc.record({ t: fc.constant("lpop" as const), n: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ t: fc.constant("rpop" as const), n: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ t: fc.constant("set" as const), i: idx, v: value }),
      fc.record({ t: fc.constant("insert" as const), before: fc.boolean(), p: value, v: value }),
      fc.record({ t: fc.constant("rem" as const), c: fc.integer({ min: -3, max: 3 }), v: value }),
      fc.record({ t: fc.constant("trim" as const), s: idx, e: idx }),
      fc.record({ t: fc.constant("range" as const), s: idx, e: idx }),
      fc.record({ t: fc.constant("index" as const), i: idx }),
      fc.record({
        t: fc.constant("pos" as const),
        v: value,
        rank: fc.integer({ min: -4, max: 4 }).filter((r) => r !== 0),
        count: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
        maxlen: fc.integer({ min: 0, max: 6 }),
      }),
    );

    describe("List model test", () => {
      it("agrees with a plain array on random operation sequences", () => {
        fc.assert(
          fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
            const l = new List();
            const m = new ArrayModel();
            for (const o of ops) {
              switch (o.t) {
                case "lpush":
                  l.pushFront(b(o.v));
                  m.a.unshift(o.v);
                  break;
                case "rpush":
                  l.pushBack(b(o.v));
                  m.a.push(o.v);
                  break;
                case "lpop":
                  expect(strs(l.popFrontN(o.n))).toEqual(m.a.splice(0, o.n));
                  break;
                case "rpop":
                  expect(strs(l.popBackN(o.n))).toEqual(
                    m.a.splice(Math.max(m.a.length - o.n, 0)).reverse(),
                  );
                  break;
                case "set": {
                  const j = o.i < 0 ? m.a.length + o.i : o.i;
                  const ok = j >= 0 && j < m.a.length;
                  if (ok) m.a[j] = o.v;
                  expect(l.set(o.i, b(o.v))).toBe(ok);
                  break;
                }
                case "insert": {
                  const at = m.a.indexOf(o.p);
                  if (at >= 0) m.a.splice(o.before ? at : at + 1, 0, o.v);
                  expect(l.insert(o.before ? "before" : "after", b(o.p), b(o.v))).toBe(
                    at >= 0 ? m.a.length : -1,
                  );
                  break;
                }
                case "rem":
                  expect(l.remove(o.c, b(o.v))).toBe(m.remove(o.c, o.v));
                  break;
                case "trim":
                  l.trim(o.s, o.e);
                  m.trim(o.s, o.e);
                  break;
                case "range":
                  expect(strs(l.range(o.s, o.e))).toEqual(m.range(o.s, o.e));
                  break;
                case "index":
                  expect(l.index(o.i)?.toString()).toBe(m.index(o.i));
                  break;
                case "pos":
                  expect(l.pos(b(o.v), { rank: o.rank, count: o.count, maxlen: o.maxlen })).toEqual(
                    m.pos(o.v, o.rank, o.count, o.maxlen),
                  );
                  break;
              }
              expect(l.length).toBe(m.a.length);
              // The ring: a power of two, never too small, never too sparse.
              const cap = l.capacity;
              expect(cap & (cap - 1)).toBe(0);
              expect(cap >= Math.max(8, l.length)).toBe(true);
              expect(cap === 8 || cap < 4 * l.length).toBe(true);
              expect(strs(l.toArray())).toEqual(m.a);
            }
          }),
          { numRuns: 300 },
        );
      });
    });
  });
}
