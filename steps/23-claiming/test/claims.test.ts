// claims.test.ts -- claiming through real clients: ioredis, node-redis, and a work queue that loses a worker.
//
// The diff family (test/diff/claiming.ts) pins every reply byte for byte;
// here the question is whether the libraries people use get what they
// expect from XPENDING, XCLAIM and XAUTOCLAIM, in RESP2 and in RESP3. Each
// scenario runs against our server and a real redis-server and must give
// the same results.
//
// The work queue is step 22's, with the ending it lacked there: a producer
// appends 10,000 jobs while three workers share them through one group;
// one worker dies holding jobs it never acknowledged, and a survivor takes
// them over with XAUTOCLAIM. In the end every job was acknowledged exactly
// once and nothing is pending.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { redisForAllTests } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { describe, expect, it } from "vitest";

// Since step 23: runs against step 23 and every later step of its track.
for (const step of corpusSteps(23)) {
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
        out.push(await c.xGroupCreate(key, "g", "0"));
        out.push(await c.xReadGroup("g", "alice", [{ key, id: ">" }], { COUNT: 1 }));
        out.push(await c.xReadGroup("g", "bob", [{ key, id: ">" }]));
        out.push(await c.xAck(key, "g", "1-1"));
        out.push(await c.xPending(key, "g"));
        out.push(await c.xReadGroup("g", "bob", [{ key, id: "0" }]));
        out.push(await c.xInfoGroups(key));
        out.push(await c.xGroupDestroy(key, "g"));
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
        out.push(await r.xgroup("CREATE", key, "g", "$"));
        out.push(await r.xadd(key, "3-1", "c", "3"));
        out.push(await r.xreadgroup("GROUP", "g", "w", "STREAMS", key, ">"));
        out.push(await r.xclaim(key, "g", "v", 0, "3-1", "JUSTID"));
        out.push(await r.xautoclaim(key, "g", "w", 0, "0", "COUNT", 10));
        out.push(await r.xpending(key, "g", "-", "+", 10).then((v) => JSON.stringify(v)));
        out.push(await r.call("XINFO", "STREAM", key).then((v) => JSON.stringify(v)));
        out.push(await r.xack(key, "g", "3-1"));
        out.push(await r.xgroup("CREATE", key, "g", "$").catch((e: Error) => e.message));
        return out.map((o) =>
          // radix-tree-nodes is Redis's own detail (see the README); idle
          // times are the clock's.
          typeof o === "string"
            ? o.replace(/("radix-tree-nodes",)\d+/, "$1n").replace(/(\["3-1","w",)\d+/, "$1idle")
            : o,
        );
      } finally {
        r.disconnect();
      }
    }

    describe.each([
      { label: "default settings (RESP3)", proto: undefined },
      { label: "RESP2", proto: 2 as const },
    ])("real clients, $label", ({ proto }) => {
      it("node-redis: XPENDING among the group commands gives Redis's objects", async () => {
        const theirs = await nodeRedisScenario(real().port, proto, "nr:s");
        const mine = await nodeRedisScenario(ours().port, proto, "nr:s");
        expect(mine).toEqual(theirs);
        expect(mine[0]).toBe("1-1");
      });

      it("ioredis: XCLAIM, XAUTOCLAIM, XPENDING among the group commands", async () => {
        const theirs = await ioredisScenario(real().port, proto, "io:s");
        const mine = await ioredisScenario(ours().port, proto, "io:s");
        expect(mine).toEqual(theirs);
      });
    });

    describe.each(TARGETS)("$name", ({ port }) => {
      it("work queue: 3 workers, 10,000 jobs, a dead worker's jobs claimed, each acked exactly once", async () => {
        const key = "wq:jobs";
        const producer = ioredis(port());
        const workers = Array.from({ length: 3 }, () => ioredis(port()));
        try {
          await Promise.all([producer, ...workers].map((r) => r.connect()));
          await producer.del(key);
          await producer.xgroup("CREATE", key, "workers", "$", "MKSTREAM");
          const JOBS = 10000;
          const acked = new Map<string, number>(); // job id -> times XACK said 1
          const byWorker = [0, 0, 0];

          // The doomed worker reads one batch and dies before acknowledging.
          const doomed = workers[2]!;
          let produced = 0;
          let finished = false;
          const produce = (async () => {
            while (produced < JOBS) {
              const pipe = producer.pipeline();
              for (let i = 0; i < 500; i++) pipe.xadd(key, "*", "job", String(produced++));
              await pipe.exec();
            }
            finished = true;
          })();
          // Wait until there is something for the doomed worker to take.
          let held: [string, string[]][] = [];
          while (held.length === 0) {
            const got = (await doomed.xreadgroup(
              "GROUP",
              "workers",
              "w2",
              "COUNT",
              50,
              "STREAMS",
              key,
              ">",
            )) as [string, [string, string[]][]][] | null;
            held = got?.[0]?.[1] ?? [];
          }
          doomed.disconnect();

          const work = async (w: number) => {
            const r = workers[w]!;
            for (;;) {
              const finishedBefore = finished;
              const got = (await r.xreadgroup(
                "GROUP",
                "workers",
                `w${w}`,
                "COUNT",
                100,
                "STREAMS",
                key,
                ">",
              )) as [string, [string, string[]][]][] | null;
              const entries = got?.[0]?.[1] ?? [];
              if (entries.length === 0) {
                // Nothing new, and every job was in the stream before we asked:
                // the queue is drained.
                if (finishedBefore) return;
                continue;
              }
              const ids = entries.map(([id]) => id);
              const n = await r.xack(key, "workers", ...ids);
              expect(n).toBe(ids.length);
              for (const id of ids) acked.set(id, (acked.get(id) ?? 0) + 1);
              byWorker[w]! += ids.length;
            }
          };
          await Promise.all([produce, work(0), work(1)]);

          // Only the dead worker's jobs are still pending.
          const summary = (await producer.xpending(key, "workers")) as [
            number,
            string,
            string,
            [string, string][],
          ];
          expect(summary[0]).toBe(held.length);
          expect(summary[3]).toEqual([["w2", String(held.length)]]);

          // A survivor claims them (min-idle 0: the owner is known dead) and acks.
          let cursor = "0-0";
          const claimed: string[] = [];
          do {
            const [next, entries] = (await workers[0]!.xautoclaim(
              key,
              "workers",
              "w0",
              0,
              cursor,
              "COUNT",
              20,
            )) as [string, [string, string[]][], string[]];
            cursor = next;
            claimed.push(...entries.map(([id]) => id));
          } while (cursor !== "0-0");
          expect(claimed).toEqual(held.map(([id]) => id));
          expect(await workers[0]!.xack(key, "workers", ...claimed)).toBe(claimed.length);
          for (const id of claimed) acked.set(id, (acked.get(id) ?? 0) + 1);

          expect(acked.size).toBe(JOBS);
          expect([...acked.values()].every((n) => n === 1)).toBe(true);
          expect((await producer.xpending(key, "workers"))[0]).toBe(0);
          expect(byWorker[0]! + byWorker[1]! + claimed.length).toBe(JOBS);
          // Every job's payload was produced once, in order.
          const jobs = (await producer.xrange(key, "-", "+")).map(([, f]) => Number(f[1]));
          expect(jobs).toEqual(Array.from({ length: JOBS }, (_, i) => i));
        } finally {
          for (const r of [producer, ...workers]) r.disconnect();
        }
      }, 60000);
    });
  });
}
