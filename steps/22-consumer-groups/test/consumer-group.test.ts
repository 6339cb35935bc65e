// consumer-group.test.ts -- consumer groups and their PELs against Redis 7.0.15's answers.
//
// Expected values marked "redis:" were recorded from a private redis-server
// 7.0.15 with redis-cli.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";
import type { Stream, StreamId } from "../src/stream.ts";

// Since step 22: runs against step 22 and every later step of its track.
for (const step of corpusSteps(22)) {
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
        const s = new Stream();
        for (let i = 1; i <= 3; i++) s.add(parseXaddId(`${i}-0`), fv("f", `${i}`));
        const g = s.createGroup("g", "$");
        expect(g.readNew("c")).toBeNull(); // created at $: nothing new yet
        g.setId(MIN_ID);
        expect(ids(g.readNew("c", 0)!)).toEqual(["1-0", "2-0", "3-0"]);
        s.delete([id("2-0")]);
        const h = g.readHistory("c", MIN_ID);
        expect(h.map((e) => [formatId(e.id), e.fields?.map(String) ?? null])).toEqual([
          ["1-0", ["f", "1"]],
          ["2-0", null],
          ["3-0", ["f", "3"]],
        ]);
        expect(ids(g.readHistory("c", id("1-0"), 1))).toEqual(["2-0"]);
        // Reading history acknowledges nothing: all three are still pending.
        expect(g.pel.size).toBe(3);
        expect(g.readHistory("other", MIN_ID)).toEqual([]);
      });

      it("NOACK delivers without pending; ACK counts only what was pending", () => {
        const s = streamOf(4);
        const g = s.createGroup("g", MIN_ID);
        expect(ids(g.readNew("a", 2, true)!)).toEqual(["1-0", "2-0"]);
        expect(g.pel.size).toBe(0);
        expect(g.consumer("a")!.pending).toBe(0);
        expect(ids(g.readNew("a")!)).toEqual(["3-0", "4-0"]);
        expect(g.ack([id("3-0"), id("3-0"), id("1-0"), id("9-0")])).toBe(1);
        expect(g.pel.size).toBe(1);
        expect(ids(g.readHistory("a", MIN_ID))).toEqual(["4-0"]);
      });

      it("SETID back re-delivers an entry to a new owner", () => {
        const s = streamOf(2);
        const g = s.createGroup("g", MIN_ID);
        g.readNew("a");
        g.setId(MIN_ID);
        expect(g.info().entriesRead).toBeNull();
        expect(ids(g.readNew("b", 1)!)).toEqual(["1-0"]);
        expect(ids(g.readHistory("a", MIN_ID))).toEqual(["2-0"]);
        expect(ids(g.readHistory("b", MIN_ID))).toEqual(["1-0"]);
        expect(g.pel.size).toBe(2);
        expect(g.info()).toMatchObject({ consumers: 2, pending: 2, entriesRead: 1, lag: 1 });
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
        expect(g.pel.size).toBe(0);
        expect(s.info().groups).toBe(1);
        expect(s.destroyGroup("g")).toBe(true);
        expect(s.destroyGroup("g")).toBe(false);
        expect(s.group("g")).toBeUndefined();
      });
    });

    describe("Work queue: 3 consumers, 10,000 entries", () => {
      it("every entry goes to one consumer; a dead consumer's entries stay pending", () => {
        const s = new Stream();
        const g = s.createGroup("workers", "$");
        const acked = new Map<string, number>();
        const ack = (eid: StreamId) => {
          expect(g.ack([eid])).toBe(1);
          acked.set(formatId(eid), (acked.get(formatId(eid)) ?? 0) + 1);
        };
        const N = 10_000;
        let produced = 0;
        const delivered = new Set<string>();
        // Producer and consumers interleave: 50 entries, then each consumer
        // takes a batch of 7. After entry 3000 "carol" hangs: she still takes
        // work but never finishes (acknowledges) any of it.
        while (produced < N) {
          for (let i = 0; i < 50 && produced < N; i++, produced++) {
            s.add({ kind: "auto" }, fv("job", String(produced)));
          }
          for (const who of ["alice", "bob", "carol"]) {
            const got = g.readNew(who, 7) ?? [];
            for (const e of got) {
              expect(delivered.has(formatId(e.id))).toBe(false);
              delivered.add(formatId(e.id));
            }
            if (who === "carol" && produced > 3000) continue;
            for (const e of got) ack(e.id);
          }
        }
        // Drain what is left; carol is gone from here on.
        for (;;) {
          const a = g.readNew("alice", 100);
          const bb = g.readNew("bob", 100);
          if (!a && !bb) break;
          for (const e of [...(a ?? []), ...(bb ?? [])]) {
            delivered.add(formatId(e.id));
            ack(e.id);
          }
        }
        expect(delivered.size).toBe(N);
        // carol's unacknowledged entries are pending, and stay so: no one
        // else is ever given them (claiming them is the next lesson).
        const stuck = g.consumer("carol")!.pending;
        expect(stuck).toBeGreaterThan(500);
        expect(g.pel.size).toBe(stuck);
        expect(acked.size).toBe(N - stuck);
        expect([...acked.values()].every((n) => n === 1)).toBe(true);
        expect(g.readNew("bob", 100)).toBeNull();
        expect(g.readHistory("bob", MIN_ID)).toEqual([]);
        expect(ids(g.readHistory("carol", MIN_ID, 1_000_000)).length).toBe(stuck);
        expect(g.info()).toMatchObject({ pending: stuck, entriesRead: N, lag: 0 });
        expect(s.length).toBe(N);
      });
    });
  });
}
