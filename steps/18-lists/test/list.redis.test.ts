// list.redis.test.ts -- seeded random list commands, replayed on a real Redis and on the deque.
//
// The unit tests (list.test.ts) pin the cases we thought of; this one looks
// for the ones we did not. Each run sends a few hundred random list
// commands to a private redis-server 7.0 and applies the same commands to a
// List through a tiny stand-in for the command layer below, and demands the
// same reply for every command. A failure prints the seed and the command.
// The real command layer is compared with Redis byte for byte by the diff
// family test/diff/lists.ts.

import { corpusSteps } from "@smallchat/test/corpus";
import { redisForAllTests } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { List } from "../src/list.ts";

// Since step 18: runs against step 18 and every later step of its track.
for (const step of corpusSteps(18)) {
  describe(step.name, async () => {
    const { List, PosError } = (await import(
      `${step.dir}src/list.ts`
    )) as typeof import("../src/list.ts");
    const redis = redisForAllTests();
    let client: Redis;

    beforeAll(async () => {
      client = new Redis({ port: redis().port, protocol: 2, lazyConnect: true });
      await client.connect();
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

    /* ================================ Lists ================================ */

    function listCommand(l: List, args: string[]): Reply {
      const [cmd, , ...a] = args;
      const n = (s: string | undefined) => Number(s);
      switch (cmd) {
        case "RPUSH":
          for (const v of a) l.pushBack(Buffer.from(v));
          return l.length;
        case "LPUSH":
          for (const v of a) l.pushFront(Buffer.from(v));
          return l.length;
        case "LPOP":
          return l.length === 0 ? null : l.popFrontN(n(a[0])).map(String);
        case "RPOP":
          return l.length === 0 ? null : l.popBackN(n(a[0])).map(String);
        case "LRANGE":
          return l.range(n(a[0]), n(a[1])).map(String);
        case "LINDEX":
          return l.index(n(a[0]))?.toString() ?? null;
        case "LSET":
          if (l.length === 0) return { err: "ERR no such key" };
          return l.set(n(a[0]), Buffer.from(a[1]!)) ? "OK" : { err: "ERR index out of range" };
        case "LINSERT":
          if (l.length === 0) return 0;
          return l.insert(
            a[0] === "BEFORE" ? "before" : "after",
            Buffer.from(a[1]!),
            Buffer.from(a[2]!),
          );
        case "LREM":
          return l.remove(n(a[0]), Buffer.from(a[1]!));
        case "LTRIM":
          l.trim(n(a[0]), n(a[1]));
          return "OK";
        case "LPOS": {
          const opts: { rank?: number; count?: number; maxlen?: number } = {};
          for (let i = 1; i < a.length; i += 2) {
            const key = a[i]!.toLowerCase() as "rank" | "count" | "maxlen";
            opts[key] = n(a[i + 1]);
          }
          const r = l.pos(Buffer.from(a[0]!), opts);
          if (r instanceof PosError) return { err: r.reply };
          return opts.count === undefined ? (r[0] ?? null) : r;
        }
      }
      throw new Error(`no such list command ${cmd}`);
    }

    function randomListCommand(r: ReturnType<typeof rng>): string[] {
      const v = () => r.pick(["a", "b", "c"]);
      const i = () => String(r.int(-9, 9));
      switch (r.int(0, 11)) {
        case 0:
        case 1:
          return ["RPUSH", "l", v(), v()];
        case 2:
          return ["LPUSH", "l", v()];
        case 3:
          return [r.pick(["LPOP", "RPOP"]), "l", String(r.int(1, 3))];
        case 4:
          return ["LRANGE", "l", i(), i()];
        case 5:
          return ["LINDEX", "l", i()];
        case 6:
          return ["LSET", "l", i(), v()];
        case 7:
          return ["LINSERT", "l", r.pick(["BEFORE", "AFTER"]), v(), v()];
        case 8:
          return ["LREM", "l", String(r.int(-2, 2)), v()];
        case 9:
          return ["LTRIM", "l", i(), String(r.int(-2, 12))];
        default: {
          const cmd = ["LPOS", "l", v()];
          if (r.next() < 0.6) cmd.push("RANK", String(r.int(-3, 3)));
          if (r.next() < 0.5) cmd.push("COUNT", String(r.int(-1, 3)));
          if (r.next() < 0.3) cmd.push("MAXLEN", String(r.int(-1, 5)));
          return cmd;
        }
      }
    }

    describe("differential against redis-server", () => {
      it.each([1, 2, 3, 4, 5, 6])("lists, seed %i", async (seed) => {
        await client.call("DEL", "l");
        const r = rng(seed);
        const l = new List();
        for (let step = 0; step < 400; step++) {
          const args = randomListCommand(r);
          const want = await real(args);
          // Redis deletes an emptied list: a pop on it is nil, as on a missing key.
          const got = listCommand(l, args);
          expect(got, `seed ${seed} step ${step}: ${args.join(" ")}`).toEqual(want);
        }
      });
    });
  });
}
