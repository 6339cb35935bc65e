// stream-read.redis.test.ts -- seeded random reads (XREAD, XINFO STREAM) of a changing log, on a real Redis and on our Stream.
//
// Step 20's stream.redis.test.ts replays random writes and ranges; this
// one asks the questions step 21 adds while the log changes under them:
// XREAD after "$", "0" or an ID near the top, and XINFO STREAM's counters
// (entries-added, max-deleted-entry-id, recorded-first-entry-id, the first
// and last entries, and radix-tree-keys, the node count). Redis's streams
// are set to 5-entry nodes, so that trims and deletes cross node
// boundaries in short runs; our Stream gets the same node size. A failure
// prints the seed and the command.

import { corpusSteps } from "@smallchat/test/corpus";
import { redisForAllTests } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stream, StreamEntry, TrimSpec } from "../src/stream.ts";

// Since step 21: runs against step 21 and every later step of its track.
for (const step of corpusSteps(21)) {
  describe(step.name, async () => {
    const { formatId, parseReadId, parseStrictId, parseXaddId, Stream, StreamError } =
      (await import(`${step.dir}src/stream.ts`)) as typeof import("../src/stream.ts");
    const redis = redisForAllTests();
    let client: Redis;

    beforeAll(async () => {
      client = new Redis({ port: redis().port, protocol: 2, lazyConnect: true });
      await client.connect();
      await client.call("CONFIG", "SET", "stream-node-max-entries", "5");
    });

    afterAll(async () => {
      await client?.quit();
    });

    type Reply = unknown;

    async function real(args: string[]): Promise<Reply> {
      try {
        const r = await client.call(args[0]!, ...args.slice(1));
        // XINFO STREAM as an object, without radix-tree-nodes (a detail
        // of Redis's rax that our Stream does not have).
        if (args[0] === "XINFO" && Array.isArray(r)) {
          const o: Record<string, unknown> = {};
          for (let i = 0; i < r.length; i += 2) o[r[i] as string] = r[i + 1];
          delete o["radix-tree-nodes"];
          return o;
        }
        return r;
      } catch (e) {
        return { err: (e as Error).message };
      }
    }

    function ours(f: () => Reply): Reply {
      try {
        return f();
      } catch (e) {
        if (e instanceof StreamError) return { err: e.reply };
        throw e;
      }
    }

    // A small seeded PRNG (mulberry32): the same seed replays the same run.
    function rng(seed: number) {
      let a = seed >>> 0;
      const next = () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
      const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
      return { next, int, pick };
    }

    /* ========================= The stand-in command layer =========================
     * Just the commands drawn below, shaped as RESP2 replies look through
     * ioredis. The writes only move the log along; the reads are the test.
     * ======================================================================== */

    const entryReply = (e: StreamEntry) => [formatId(e.id), e.fields.map(String)];

    function streamCommand(s: Stream, args: string[]): Reply {
      switch (args[0]) {
        case "XADD": {
          // XADD s [MAXLEN|MINID ~ n] id f v
          const trimmed = args.length === 8;
          const trim: TrimSpec | undefined = !trimmed
            ? undefined
            : args[2] === "MAXLEN"
              ? { strategy: "maxlen", maxlen: Number(args[4]), approx: true }
              : { strategy: "minid", minid: parseStrictId(args[4]!), approx: true };
          const at = trimmed ? 5 : 2;
          const fields = args.slice(at + 1).map((x) => Buffer.from(x));
          return formatId(s.add(parseXaddId(args[at]!), fields, trim));
        }
        case "XDEL":
          return s.delete(args.slice(2).map(parseStrictId));
        case "XREAD": {
          // XREAD COUNT n STREAMS s id
          const rid = parseReadId(args[5]!);
          const after = rid.kind === "after" ? rid.id : s.lastId;
          const got = s.readAfter(after, Number(args[2]));
          return got.length ? [["s", got.map(entryReply)]] : null;
        }
        case "XINFO": {
          const i = s.info();
          return {
            length: i.length,
            "radix-tree-keys": i.radixTreeKeys,
            "last-generated-id": formatId(i.lastGeneratedId),
            "max-deleted-entry-id": formatId(i.maxDeletedEntryId),
            "entries-added": i.entriesAdded,
            "recorded-first-entry-id": formatId(i.recordedFirstEntryId),
            groups: 0,
            "first-entry": i.firstEntry ? entryReply(i.firstEntry) : null,
            "last-entry": i.lastEntry ? entryReply(i.lastEntry) : null,
          };
        }
      }
      throw new Error(`no such stream command ${args.join(" ")}`);
    }

    function randomCommand(r: ReturnType<typeof rng>, top: { ms: number }): string[] {
      const anId = () => `${r.int(Math.max(0, top.ms - 6), top.ms + 1)}-${r.int(0, 2)}`;
      switch (r.int(0, 7)) {
        case 0:
        case 1:
        case 2: {
          top.ms += r.int(0, 1);
          const trim = r.pick([
            [],
            [],
            ["MAXLEN", "~", String(r.int(0, 12))],
            ["MINID", "~", anId()],
          ]);
          const id = r.pick([`${top.ms}-*`, `${top.ms}-${r.int(0, 3)}`, anId()]);
          return ["XADD", "s", ...trim, id, "f", String(r.int(0, 99))];
        }
        case 3:
          return ["XDEL", "s", anId(), anId()];
        case 4:
        case 5:
          return [
            "XREAD",
            "COUNT",
            String(r.int(1, 4)),
            "STREAMS",
            "s",
            r.pick(["$", "0", anId()]),
          ];
        default:
          return ["XINFO", "STREAM", "s"];
      }
    }

    describe("differential against redis-server", () => {
      it.each([1, 2, 3, 4, 5, 6, 7, 8])("reads, seed %i", async (seed) => {
        await client.call("DEL", "s");
        const r = rng(seed);
        const s = new Stream({ nodeMaxEntries: 5 });
        const top = { ms: 1 };
        const first = ["XADD", "s", "1-1", "f", "0"];
        expect(ours(() => streamCommand(s, first))).toEqual(await real(first));
        for (let step = 0; step < 600; step++) {
          const args = randomCommand(r, top);
          const want = await real(args);
          const got = ours(() => streamCommand(s, args));
          expect(got, `seed ${seed} step ${step}: ${args.join(" ")}`).toEqual(want);
        }
      });
    });
  });
}
