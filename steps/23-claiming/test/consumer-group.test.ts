// consumer-group.test.ts -- consumer groups, their PELs and claims against Redis 7.0.15's answers.
//
// Expected values marked "redis:" were recorded from a private redis-server
// 7.0.15 with redis-cli; idle times use an injected clock so they are exact.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";
import type { Stream, StreamId } from "../src/stream.ts";

// Since step 22: runs against step 22 and every later step of its track.
for (const step of corpusSteps(23)) {
  describe(step.name, async () => {
    const {
      formatId,
      MAX_ID,
      MIN_ID,
      parseGroupId,
      parseReadId,
      parseXaddId,
      Stream,
      StreamError,
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

    describe("The IDs of XREADGROUP and XGROUP", () => {
      it("XREADGROUP: > is new entries, the largest ID too, and $ is refused", () => {
        expect(parseReadId(">", true)).toEqual({ kind: "new" });
        expect(parseReadId("0", true)).toEqual({ kind: "after", id: MIN_ID });
        // redis: XREADGROUP with the largest ID behaves as ">"
        expect(parseReadId(`${MAX}-${MAX}`, true)).toEqual({ kind: "new" });
        expect(parseReadId(`${MAX}-${MAX}`, false)).toEqual({ kind: "after", id: MAX_ID });
        expect(reply(() => parseReadId("$", true))).toMatch(/^ERR The \$ ID is meaningless/);
        expect(reply(() => parseReadId("-", true))).toBe(INVALID);
      });

      it("XGROUP CREATE is strict, SETID is lenient (Redis 7.0)", () => {
        expect(parseGroupId("$", "create")).toBe("$");
        expect(reply(() => parseGroupId("-", "create"))).toBe(INVALID);
        expect(parseGroupId("+", "setid")).toEqual(MAX_ID);
      });
    });

    describe("Consumer groups", () => {
      it("redis: FORCE, JUSTID, RETRYCOUNT, deleted entries, XAUTOCLAIM cursors, lag", () => {
        const clock = fakeClock();
        const s = new Stream({ clock: clock.fn });
        for (let i = 1; i <= 5; i++) s.add(parseXaddId(`${i}-0`), fv("f", `v${i}`));
        const g = s.createGroup("g", MIN_ID);
        expect(g.info()).toMatchObject({ consumers: 0, pending: 0, entriesRead: null, lag: 5 });
        expect(ids(g.readNew("alice", 2)!)).toEqual(["1-0", "2-0"]);
        expect(g.info()).toMatchObject({ consumers: 1, pending: 2, entriesRead: 2, lag: 3 });
        expect(formatId(g.lastId)).toBe("2-0");

        // redis: XCLAIM s g bob 0 4-0 FORCE -> the entry, delivery count 2
        clock.now += 15;
        const c1 = g.claim("bob", 0, [id("4-0")], { force: true });
        expect(c1.map((e) => [formatId(e.id), e.fields?.map(String)])).toEqual([
          ["4-0", ["f", "v4"]],
        ]);
        // redis: with JUSTID the count stays 1
        expect(ids(g.claim("bob", 0, [id("5-0")], { force: true, justId: true }))).toEqual(["5-0"]);
        clock.now += 4;
        expect(
          g
            .pendingRange({ start: MIN_ID, end: MAX_ID, count: 10 })
            .map((p) => [formatId(p.id), p.consumer, p.idle, p.deliveries]),
        ).toEqual([
          ["1-0", "alice", 19, 1],
          ["2-0", "alice", 19, 1],
          ["4-0", "bob", 4, 2],
          ["5-0", "bob", 4, 1],
        ]);

        // redis: XCLAIM s g carol 0 1-0 9-0 RETRYCOUNT 7 JUSTID -> 1-0
        expect(
          ids(g.claim("carol", 0, [id("1-0"), id("9-0")], { retryCount: 7, justId: true })),
        ).toEqual(["1-0"]);
        expect(g.pendingRange({ start: id("1-0"), end: id("1-0"), count: 1 })[0]?.deliveries).toBe(
          7,
        );

        // redis: XDEL s 2-0; XAUTOCLAIM s g dave 0 0 COUNT 2 -> 4-0, [1-0], [2-0]
        s.delete([id("2-0")]);
        const a1 = g.autoclaim("dave", 0, MIN_ID, 2);
        expect(formatId(a1.next)).toBe("4-0");
        expect(ids(a1.claimed)).toEqual(["1-0"]);
        expect(a1.deleted.map(formatId)).toEqual(["2-0"]);
        // redis: XPENDING s g -> 3 1-0 5-0 [[bob 2] [dave 1]]
        const sum = g.pendingSummary();
        expect([sum.count, formatId(sum.min!), formatId(sum.max!), sum.consumers]).toEqual([
          3,
          "1-0",
          "5-0",
          [
            { name: "bob", count: 2 },
            { name: "dave", count: 1 },
          ],
        ]);
        // redis: XAUTOCLAIM s g dave 0 0 COUNT 10 JUSTID -> 0-0, [1-0 4-0 5-0], []
        const a2 = g.autoclaim("dave", 0, MIN_ID, 10, true);
        expect(formatId(a2.next)).toBe("0-0");
        expect(ids(a2.claimed)).toEqual(["1-0", "4-0", "5-0"]);
        expect(a2.deleted).toEqual([]);
        // redis: consumers 4 pending 3 last-delivered-id 2-0 entries-read 2 lag nil
        expect(g.info()).toMatchObject({ consumers: 4, pending: 3, entriesRead: 2, lag: null });
        expect(s.info().groups).toBe(1);
      });

      it("redis: XREADGROUP > with nothing new returns nil and creates no consumer", () => {
        const s = streamOf(1);
        const g = s.createGroup("g", MIN_ID);
        expect(g.readNew("c1")).not.toBeNull();
        expect(g.readNew("c2")).toBeNull();
        expect(g.consumers().map((c) => c.name)).toEqual(["c1"]);
        // History is always answered, and creates the consumer.
        expect(g.readHistory("c3", MIN_ID)).toEqual([]);
        expect(g.consumers().map((c) => c.name)).toEqual(["c1", "c3"]);
      });

      it("history re-delivers the consumer's own entries after the given ID", () => {
        const clock = fakeClock();
        const s = new Stream({ clock: clock.fn });
        for (let i = 1; i <= 3; i++) s.add(parseXaddId(`${i}-0`), fv("f", `${i}`));
        const g = s.createGroup("g", "$");
        expect(g.readNew("c")).toBeNull(); // created at $: nothing new yet
        g.setId(MIN_ID);
        expect(ids(g.readNew("c", 0)!)).toEqual(["1-0", "2-0", "3-0"]);
        s.delete([id("2-0")]);
        clock.now += 50;
        const h = g.readHistory("c", MIN_ID);
        expect(h.map((e) => [formatId(e.id), e.fields?.map(String) ?? null])).toEqual([
          ["1-0", ["f", "1"]],
          ["2-0", null],
          ["3-0", ["f", "3"]],
        ]);
        expect(ids(g.readHistory("c", id("1-0"), 1))).toEqual(["2-0"]);
        const p = g.pendingRange({ start: MIN_ID, end: MAX_ID, count: 10 });
        // Re-delivered entries restart their idle time and count again; the
        // deleted one is left as it was.
        expect(p.map((x) => [formatId(x.id), x.idle, x.deliveries])).toEqual([
          ["1-0", 0, 2],
          ["2-0", 50, 1],
          ["3-0", 0, 2],
        ]);
      });

      it("NOACK delivers without pending; ACK counts only what was pending", () => {
        const s = streamOf(4);
        const g = s.createGroup("g", MIN_ID);
        expect(ids(g.readNew("a", 2, true)!)).toEqual(["1-0", "2-0"]);
        expect(g.pendingSummary()).toEqual({
          count: 0,
          min: undefined,
          max: undefined,
          consumers: [],
        });
        expect(ids(g.readNew("a")!)).toEqual(["3-0", "4-0"]);
        expect(g.ack([id("3-0"), id("3-0"), id("1-0"), id("9-0")])).toBe(1);
        expect(g.pendingSummary().count).toBe(1);
      });

      it("SETID back re-delivers an entry to a new owner with a fresh count", () => {
        const s = streamOf(2);
        const g = s.createGroup("g", MIN_ID);
        g.readNew("a");
        g.readHistory("a", MIN_ID); // deliveries: 2
        g.setId(MIN_ID);
        expect(g.info().entriesRead).toBeNull();
        expect(ids(g.readNew("b", 1)!)).toEqual(["1-0"]);
        const p = g.pendingRange({ start: MIN_ID, end: MAX_ID, count: 10 });
        expect(p.map((x) => [formatId(x.id), x.consumer, x.deliveries])).toEqual([
          ["1-0", "b", 1],
          ["2-0", "a", 2],
        ]);
        expect(g.consumer("a", false)!.pending).toBe(1);
      });

      it("XPENDING IDLE and consumer filters; XCLAIM min-idle, IDLE, TIME", () => {
        const clock = fakeClock(10_000);
        const s = new Stream({ clock: clock.fn });
        for (let i = 1; i <= 4; i++) s.add(parseXaddId(`${i}-0`), fv("f", "v"));
        const g = s.createGroup("g", MIN_ID);
        g.readNew("a", 2);
        clock.now += 100;
        g.readNew("b", 2);
        clock.now += 50;
        const idle = (o: { minIdle?: number; consumer?: string }) =>
          ids(g.pendingRange({ start: MIN_ID, end: MAX_ID, count: 10, ...o }));
        expect(idle({ minIdle: 100 })).toEqual(["1-0", "2-0"]);
        expect(idle({ consumer: "b" })).toEqual(["3-0", "4-0"]);
        expect(idle({ consumer: "nobody" })).toEqual([]);
        expect(g.pendingRange({ start: MIN_ID, end: MAX_ID, count: 0 })).toEqual([]);

        // Too recent for min-idle 100: not claimed, and no consumer created.
        expect(g.claim("c", 100, [id("3-0")])).toEqual([]);
        expect(g.consumer("c")).toBeUndefined();
        expect(ids(g.claim("c", 100, [id("1-0"), id("3-0")], { idle: 30 }))).toEqual(["1-0"]);
        expect(g.pendingRange({ start: id("1-0"), end: id("1-0"), count: 1 })[0]).toMatchObject({
          consumer: "c",
          idle: 30,
          deliveries: 2,
        });
        g.claim("c", 0, [id("2-0")], { time: clock.now - 500 });
        expect(g.pendingRange({ start: id("2-0"), end: id("2-0"), count: 1 })[0]?.idle).toBe(500);
        // A TIME in the future is clamped to now.
        g.claim("c", 0, [id("4-0")], { time: clock.now + 500 });
        expect(g.pendingRange({ start: id("4-0"), end: id("4-0"), count: 1 })[0]?.idle).toBe(0);
        // LASTID only moves the group forward.
        g.claim("c", 0, [], { lastId: id("9-0") });
        expect(formatId(g.lastId)).toBe("9-0");
        g.claim("c", 0, [], { lastId: id("1-0") });
        expect(formatId(g.lastId)).toBe("9-0");
      });

      it("redis: FORCE claims a never-delivered entry whatever min-idle says", () => {
        const clock = fakeClock();
        const s = streamOf(2, { clock: clock.fn });
        const g = s.createGroup("g", MIN_ID);
        g.readNew("x", 1);
        clock.now += 22;
        // redis: XCLAIM f g c 100000 1-0 2-0 FORCE JUSTID -> 2-0 only
        expect(
          ids(g.claim("c", 100_000, [id("1-0"), id("2-0")], { force: true, justId: true })),
        ).toEqual(["2-0"]);
        expect(
          g
            .pendingRange({ start: MIN_ID, end: MAX_ID, count: 10 })
            .map((p) => [formatId(p.id), p.consumer, p.idle, p.deliveries]),
        ).toEqual([
          ["1-0", "x", 22, 1],
          ["2-0", "c", 0, 1],
        ]);
      });

      it("create, BUSYGROUP, destroy, createconsumer, delconsumer", () => {
        const s = streamOf(3);
        const g = s.createGroup("g", "$");
        expect(formatId(g.lastId)).toBe("3-0");
        expect(reply(() => s.createGroup("g", MIN_ID))).toBe(
          "BUSYGROUP Consumer Group name already exists",
        );
        expect(g.createConsumer("x")).toBe(true);
        expect(g.createConsumer("x")).toBe(false);
        g.setId(MIN_ID, 0);
        g.readNew("y");
        expect(g.deleteConsumer("y")).toBe(3);
        expect(g.deleteConsumer("y")).toBe(0);
        expect(g.pendingSummary().count).toBe(0);
        expect(s.destroyGroup("g")).toBe(true);
        expect(s.destroyGroup("g")).toBe(false);
        expect(s.group("g")).toBeUndefined();
      });
    });

    describe("Work queue: 3 consumers, 10,000 entries", () => {
      it("every entry is acknowledged exactly once, a dead consumer's work is claimed", () => {
        const clock = fakeClock();
        const s = new Stream({ clock: clock.fn });
        const g = s.createGroup("workers", "$");
        const acked = new Map<string, number>();
        const ack = (eid: StreamId) => {
          expect(g.ack([eid])).toBe(1);
          acked.set(formatId(eid), (acked.get(formatId(eid)) ?? 0) + 1);
        };
        const N = 10_000;
        let produced = 0;
        // Producer and consumers interleave: 50 entries, then each consumer
        // takes a batch of 7. After entry 3000 "carol" hangs: she still takes
        // work but never finishes (acknowledges) any of it.
        while (produced < N) {
          for (let i = 0; i < 50 && produced < N; i++, produced++) {
            s.add({ kind: "auto" }, fv("job", String(produced)));
            if (produced % 7 === 0) clock.now++;
          }
          for (const who of ["alice", "bob", "carol"]) {
            const got = g.readNew(who, 7) ?? [];
            if (who === "carol" && produced > 3000) continue;
            for (const e of got) ack(e.id);
          }
        }
        // Drain what is left; carol is gone from here on.
        for (;;) {
          const a = g.readNew("alice", 100);
          const bb = g.readNew("bob", 100);
          if (!a && !bb) break;
          for (const e of [...(a ?? []), ...(bb ?? [])]) ack(e.id);
        }
        // carol acknowledged only what she got before entry 3000.
        const stuck = g.consumer("carol", false)!.pending;
        expect(stuck).toBeGreaterThan(500);
        expect(g.pendingSummary().count).toBe(stuck);

        // Nothing is idle enough yet; after a minute bob sweeps with XAUTOCLAIM.
        expect(g.autoclaim("bob", 60_000, MIN_ID, 100).claimed).toEqual([]);
        clock.now += 60_000;
        let cursor = MIN_ID;
        let sweeps = 0;
        do {
          const r = g.autoclaim("bob", 60_000, cursor, 100);
          for (const e of r.claimed) ack(e.id);
          cursor = r.next;
          sweeps++;
        } while (!(cursor.ms === 0n && cursor.seq === 0n));
        expect(sweeps).toBe(Math.ceil(stuck / 100));

        expect(acked.size).toBe(N);
        expect([...acked.values()].every((n) => n === 1)).toBe(true);
        expect(g.pendingSummary().count).toBe(0);
        expect(g.deleteConsumer("carol")).toBe(0);
        expect(g.info()).toMatchObject({ pending: 0, entriesRead: N, lag: 0 });
        expect(s.length).toBe(N);
      });
    });
  });
}
