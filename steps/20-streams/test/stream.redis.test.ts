// stream.redis.test.ts -- seeded random stream commands, replayed on a real Redis and on our Stream.
//
// The unit tests pin the cases we thought of; this one looks for the ones
// we did not. Each run sends a few hundred random stream commands (XADD
// with trimming, XTRIM, XDEL, XRANGE, XREVRANGE, XLEN) to a private
// redis-server 7.0 and applies the same commands to a
// Stream through a tiny stand-in for the command layer below, and demands
// the same reply for every command. Redis's streams are set to 5-entry
// nodes, so that approximate trimming crosses node boundaries in short
// runs; our Stream gets the same node size. A failure prints the seed and
// the command.

import { corpusSteps } from "@smallchat/test/corpus";
import { redisForAllTests } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stream, StreamEntry, TrimSpec } from "../src/stream.ts";

// Since step 20: runs against step 20 and every later step of its track.
for (const step of corpusSteps(20)) {
  describe(step.name, async () => {
    const {
      formatId,
      parseRangeEnd,
      parseRangeStart,
      parseStrictId,
      parseXaddId,
      Stream,
      StreamError,
    } = (await import(`${step.dir}src/stream.ts`)) as typeof import("../src/stream.ts");
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
        return await client.call(args[0]!, ...args.slice(1));
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

    /* ================================ Streams ================================
     * The stand-in command layer: just enough argument handling to call the
     * Stream API and shape its results as RESP2 replies look through ioredis.
     * ======================================================================== */

    const entryReply = (e: StreamEntry) => [formatId(e.id), e.fields.map(String)];

    function streamCommand(s: Stream, args: string[]): Reply {
      const [cmd, , ...a] = args;
      switch (cmd) {
        case "XADD": {
          let i = 0;
          let trim: TrimSpec | undefined;
          if (a[0] === "MAXLEN" || a[0] === "MINID") {
            const approx = a[1] === "~";
            const arg = a[2]!;
            trim =
              a[0] === "MAXLEN"
                ? { strategy: "maxlen", maxlen: Number(arg), approx }
                : { strategy: "minid", minid: parseStrictId(arg), approx };
            i = 3;
          }
          const idSpec = parseXaddId(a[i]!);
          const fields = a.slice(i + 1).map((x) => Buffer.from(x));
          return formatId(s.add(idSpec, fields, trim));
        }
        case "XTRIM": {
          const approx = a[1] === "~";
          const limit = a[3] === "LIMIT" ? Number(a[4]) : undefined;
          const spec: TrimSpec =
            a[0] === "MAXLEN"
              ? { strategy: "maxlen", maxlen: Number(a[2]), approx, limit }
              : { strategy: "minid", minid: parseStrictId(a[2]!), approx, limit };
          return s.trim(spec);
        }
        case "XDEL":
          return s.delete(a.map(parseStrictId));
        case "XLEN":
          return s.length;
        case "XRANGE":
        case "XREVRANGE": {
          const rev = cmd === "XREVRANGE";
          const start = parseRangeStart(rev ? a[1]! : a[0]!);
          const end = parseRangeEnd(rev ? a[0]! : a[1]!);
          return s.range(start, end, Number(a[3]), rev).map(entryReply);
        }
      }
      throw new Error(`no such stream command ${args.join(" ")}`);
    }

    function randomStreamCommand(r: ReturnType<typeof rng>, top: { ms: number }): string[] {
      const ms = () => r.int(Math.max(0, top.ms - 6), top.ms + 1);
      const anId = () => `${ms()}-${r.int(0, 2)}`;
      const bound = () => r.pick(["-", "+", String(ms()), anId(), `(${anId()}`, `(${ms()}`]);
      switch (r.int(0, 8)) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4: {
          top.ms += r.int(0, 1);
          const id = r.pick([`${top.ms}-*`, `${top.ms}`, `${top.ms}-${r.int(0, 3)}`, anId()]);
          const cmd = ["XADD", "s"];
          const t = r.int(0, 9);
          if (t === 0) cmd.push("MAXLEN", r.pick(["~", "="]), String(r.int(0, 12)));
          if (t === 1) cmd.push("MINID", r.pick(["~", "="]), anId());
          cmd.push(id, "f", String(r.int(0, 99)));
          return cmd;
        }
        case 5: {
          const cmd = ["XTRIM", "s", r.pick(["MAXLEN", "MINID"]), r.pick(["~", "="])];
          cmd.push(cmd[2] === "MAXLEN" ? String(r.int(0, 15)) : anId());
          if (cmd[3] === "~" && r.next() < 0.4) cmd.push("LIMIT", String(r.int(0, 12)));
          return cmd;
        }
        case 6:
          return ["XDEL", "s", anId(), anId()];
        case 7:
          return [
            r.pick(["XRANGE", "XREVRANGE"]),
            "s",
            bound(),
            bound(),
            "COUNT",
            String(r.int(1, 6)),
          ];
        default:
          return ["XLEN", "s"];
      }
    }

    describe("differential against redis-server", () => {
      it.each([1, 2, 3, 4, 5, 6, 7, 8])("streams, seed %i", async (seed) => {
        await client.call("DEL", "s");
        const r = rng(seed);
        const s = new Stream({ nodeMaxEntries: 5 });
        const top = { ms: 1 };
        const first = ["XADD", "s", "1-1", "f", "0"];
        expect(ours(() => streamCommand(s, first))).toEqual(await real(first));
        for (let step = 0; step < 600; step++) {
          const args = randomStreamCommand(r, top);
          const want = await real(args);
          const got = ours(() => streamCommand(s, args));
          expect(got, `seed ${seed} step ${step}: ${args.join(" ")}`).toEqual(want);
        }
      });
    });
  });
}
