// consumer-groups.test.ts -- consumer groups through real clients: ioredis, node-redis, and a work queue.
//
// The diff family (test/diff/consumer-groups.ts) pins every reply byte for
// byte; here the question is whether the libraries people use get what
// they expect from the group commands, in RESP2 and in RESP3. Each
// scenario runs against our server and a real redis-server and must give
// the same results.
//
// The work queue is the use consumer groups exist for: a producer appends
// 10,000 jobs while three workers share them through one group, each
// acknowledging what it did; one worker dies holding jobs it never
// acknowledged, and a survivor takes them over with XAUTOCLAIM. In the end
// every job was acknowledged exactly once and nothing is pending.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { redisForAllTests } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { describe, expect, it } from "vitest";

// Since step 22: runs against step 22 and every later step of its track.
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
      it("node-redis: XGROUP, XREADGROUP, XACK, XPENDING, XINFO GROUPS give Redis's objects", async () => {
        const theirs = await nodeRedisScenario(real().port, proto, "nr:s");
        const mine = await nodeRedisScenario(ours().port, proto, "nr:s");
        expect(mine).toEqual(theirs);
        expect(mine[0]).toBe("1-1");
      });

      it("ioredis: groups, XREADGROUP, XCLAIM, XAUTOCLAIM, XPENDING, XACK, BUSYGROUP", async () => {
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

    /* ============================ Blocking reads ============================
     * Each scenario must first know that the reader is really blocked, or a
     * write could overtake its command. CLIENT LIST names every connection's
     * last command (cmd=xread) on both servers: we wait for that, with no
     * sleeps, then write.
     * ======================================================================== */

    async function waitBlocked(admin: Redis, ids: number[], cmd: string): Promise<void> {
      for (;;) {
        const list = (await admin.client("LIST")) as string;
        const blocked = list
          .split("\n")
          .filter((l) => l.includes(` cmd=${cmd} `))
          .map((l) => Number(/^id=(\d+)/.exec(l)?.[1]));
        if (ids.every((id) => blocked.includes(id))) return;
      }
    }

    async function connected(port: number, n: number): Promise<{ rs: Redis[]; ids: number[] }> {
      const rs = Array.from({ length: n }, () => ioredis(port, 2));
      await Promise.all(rs.map((r) => r.connect()));
      const ids = await Promise.all(rs.map((r) => r.client("ID") as Promise<number>));
      return { rs, ids };
    }

    describe.each(TARGETS)("blocking reads, $name", ({ port }) => {
      it("XREADGROUP BLOCK >: each new entry goes to one consumer", async () => {
        const { rs, ids } = await connected(port(), 4);
        const [writer, ...consumers] = rs;
        try {
          await writer!.del("b:g");
          await writer!.xgroup("CREATE", "b:g", "g", "$", "MKSTREAM");
          const replies = consumers.map((r, i) =>
            r.call("XREADGROUP", "GROUP", "g", `c${i}`, "BLOCK", "0", "STREAMS", "b:g", ">"),
          );
          await waitBlocked(writer!, ids.slice(1), "xreadgroup");
          for (let i = 1; i <= 3; i++) await writer!.xadd("b:g", `${i}-1`, "job", String(i));
          const got = (await Promise.all(replies)) as [string, [string, string[]][]][][];
          const delivered = got.flatMap((r) => r[0]![1].map(([id]) => id));
          expect(delivered.sort()).toEqual(["1-1", "2-1", "3-1"]);
          const pending = (await writer!.xpending("b:g", "g")) as [
            number,
            string,
            string,
            string[][],
          ];
          expect(pending[0]).toBe(3);
          expect(pending[3]).toEqual([
            ["c0", "1"],
            ["c1", "1"],
            ["c2", "1"],
          ]);
        } finally {
          for (const r of rs) r.disconnect();
        }
      });

      it("a blocked XREADGROUP gets NOGROUP when its group goes, UNBLOCKED when its stream goes", async () => {
        const { rs, ids } = await connected(port(), 3);
        const [writer, r1, r2] = rs;
        try {
          await writer!.del("b:u");
          await writer!.xgroup("CREATE", "b:u", "g", "$", "MKSTREAM");
          await writer!.xgroup("CREATE", "b:u", "h", "$");
          const onDestroy = r1!
            .call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "b:u", ">")
            .catch((e: Error) => e.message);
          const onDelete = r2!
            .call("XREADGROUP", "GROUP", "h", "c", "BLOCK", "0", "STREAMS", "b:u", ">")
            .catch((e: Error) => e.message);
          await waitBlocked(writer!, [ids[1]!, ids[2]!], "xreadgroup");
          await writer!.xgroup("DESTROY", "b:u", "g");
          expect(await onDestroy).toBe(
            "NOGROUP the consumer group this client was blocked on no longer exists",
          );
          await writer!.del("b:u");
          expect(await onDelete).toBe("UNBLOCKED the stream key no longer exists");
          // FLUSHALL announces no key, yet unblocks them the same way.
          await writer!.xgroup("CREATE", "b:u", "g", "$", "MKSTREAM");
          const onFlush = r1!
            .call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "b:u", ">")
            .catch((e: Error) => e.message);
          await waitBlocked(writer!, [ids[1]!], "xreadgroup");
          await writer!.flushall();
          expect(await onFlush).toBe("UNBLOCKED the stream key no longer exists");
        } finally {
          for (const r of rs) r.disconnect();
        }
      });

      it("a consumer that disconnects while blocked swallows nothing", async () => {
        const { rs, ids } = await connected(port(), 3);
        const [writer, quitter, other] = rs;
        try {
          await writer!.del("b:d");
          await writer!.xgroup("CREATE", "b:d", "g", "$", "MKSTREAM");
          quitter!
            .call("XREADGROUP", "GROUP", "g", "gone", "BLOCK", "0", "STREAMS", "b:d", ">")
            .catch(() => {});
          await waitBlocked(writer!, [ids[1]!], "xreadgroup");
          quitter!.disconnect();
          // Wait until the server has seen the disconnect.
          for (;;) {
            const list = (await writer!.client("LIST")) as string;
            if (!list.includes(`id=${ids[1]} `)) break;
          }
          await writer!.xadd("b:d", "1-1", "f", "v");
          expect(await other!.xreadgroup("GROUP", "g", "alive", "STREAMS", "b:d", ">")).toEqual([
            ["b:d", [["1-1", ["f", "v"]]]],
          ]);
          expect(await writer!.xpending("b:d", "g")).toEqual([1, "1-1", "1-1", [["alive", "1"]]]);
        } finally {
          for (const r of rs) r.disconnect();
        }
      });
    });
  });
}
