// streams.test.ts -- streams through real clients: ioredis, node-redis, concurrent producers.
//
// The diff family (test/diff/streams.ts) pins every reply byte for byte;
// here the question is whether the libraries people use get what they
// expect: node-redis parses stream replies into objects, ioredis into
// nested arrays, in RESP2 and in RESP3. Each scenario runs against our
// server and a real redis-server and must give the same results.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { redisForAllTests } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { describe, expect, it } from "vitest";

// Since step 20: runs against step 20 and every later step of its track.
for (const step of corpusSteps(20)) {
  describe(step.name, async () => {
    const ours = serverForAllTests(stepFile(step, "src/server.ts"));
    const real = redisForAllTests();

    const TARGETS = [
      { name: "our server", port: () => ours().port },
      { name: "redis-server", port: () => real().port },
    ];

    function ioredis(port: number, protocol?: 2 | 3): Redis {
      return new Redis({ host: "127.0.0.1", port, protocol, lazyConnect: true });
    }

    async function nodeRedis(port: number, RESP?: 2 | 3) {
      const c = createClient({ socket: { host: "127.0.0.1", port }, RESP });
      c.on("error", () => {}); // Reported through the failing promise instead.
      await c.connect();
      return c;
    }

    // One conversation through node-redis's typed stream helpers.
    async function nodeRedisScenario(port: number, RESP: 2 | 3 | undefined, key: string) {
      const c = await nodeRedis(port, RESP);
      try {
        await c.del(key);
        const out: unknown[] = [];
        out.push(await c.xAdd(key, "1-1", { a: "1" }));
        out.push(await c.xAdd(key, "2-1", { b: "2", c: "3" }));
        out.push(await c.xLen(key));
        out.push(await c.xRange(key, "-", "+"));
        out.push(await c.xRevRange(key, "+", "-", { COUNT: 1 }));
        // What a reader does before step 21: ask for what came after the last ID it saw.
        out.push(await c.xRange(key, "(1-1", "+"));
        out.push(await c.xRange(key, "(2-1", "+"));
        out.push(await c.xTrim(key, "MAXLEN", 1));
        out.push(await c.xDel(key, "2-1"));
        out.push(await c.type(key));
        return out;
      } finally {
        c.destroy();
      }
    }

    async function ioredisScenario(port: number, protocol: 2 | 3 | undefined, key: string) {
      const r = ioredis(port, protocol);
      try {
        await r.connect();
        await r.del(key);
        const out: unknown[] = [];
        out.push(await r.xadd(key, "1-1", "a", "1"));
        out.push(await r.xadd(key, "MAXLEN", "~", "100", "2-1", "b", "2"));
        out.push(await r.xrange(key, "-", "+"));
        out.push(await r.xrange(key, "(1-1", "+", "COUNT", 5));
        out.push(await r.xadd(key, "3-1", "c", "3"));
        out.push(await r.xrevrange(key, "+", "-", "COUNT", 2));
        out.push(await r.xdel(key, "2-1", "9-9"));
        out.push(await r.xlen(key));
        out.push(await r.type(key));
        out.push(await r.xadd(key, "0-0", "x", "y").catch((e: Error) => e.message));
        out.push(await r.get(key).catch((e: Error) => e.message));
        return out;
      } finally {
        r.disconnect();
      }
    }

    describe.each([
      { label: "default settings (RESP3)", proto: undefined },
      { label: "RESP2", proto: 2 as const },
    ])("real clients, $label", ({ proto }) => {
      it("node-redis: XADD, XLEN, XRANGE, XREVRANGE, XTRIM, XDEL give Redis's objects", async () => {
        const theirs = await nodeRedisScenario(real().port, proto, "nr:s");
        const mine = await nodeRedisScenario(ours().port, proto, "nr:s");
        expect(mine).toEqual(theirs);
        expect(mine[0]).toBe("1-1");
      });

      it("ioredis: XADD with trimming, XRANGE, XREVRANGE, XDEL, WRONGTYPE", async () => {
        const theirs = await ioredisScenario(real().port, proto, "io:s");
        const mine = await ioredisScenario(ours().port, proto, "io:s");
        expect(mine).toEqual(theirs);
      });
    });

    describe.each(TARGETS)("$name", ({ port }) => {
      it("concurrent producers: every entry lands once, IDs strictly increase", async () => {
        const producers = Array.from({ length: 4 }, () => ioredis(port()));
        const reader = ioredis(port());
        try {
          await Promise.all([...producers, reader].map((r) => r.connect()));
          await reader.del("cp:s");
          // Four producers, each pipelining 500 "*" entries at once.
          await Promise.all(
            producers.map((p, n) => {
              const pipe = p.pipeline();
              for (let i = 0; i < 500; i++) pipe.xadd("cp:s", "*", "p", String(n), "i", String(i));
              return pipe.exec();
            }),
          );
          expect(await reader.xlen("cp:s")).toBe(2000);
          const all = await reader.xrange("cp:s", "-", "+");
          const ids = all.map(([id]) => id.split("-").map(BigInt) as [bigint, bigint]);
          for (let i = 1; i < ids.length; i++) {
            const [a, b] = [ids[i - 1]!, ids[i]!];
            expect(b[0] > a[0] || (b[0] === a[0] && b[1] > a[1])).toBe(true);
          }
          // Per producer, its entries are in the order it sent them.
          for (let n = 0; n < 4; n++) {
            const mine = all.filter(([, f]) => f[1] === String(n)).map(([, f]) => Number(f[3]));
            expect(mine).toEqual(Array.from({ length: 500 }, (_, i) => i));
          }
        } finally {
          for (const r of [...producers, reader]) r.disconnect();
        }
      });
    });
  });
}
