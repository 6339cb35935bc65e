// xread.test.ts -- reading the log through real clients: XREAD, XINFO STREAM, blocked readers.
//
// The diff family (test/diff/xread.ts) pins every reply byte for byte;
// here the question is whether the libraries people use get what they
// expect from XREAD (a map per stream in RESP3, nested arrays in RESP2)
// and XINFO STREAM, and whether readers blocked in XREAD BLOCK wake as
// they do on Redis. Each scenario runs against our server and a real
// redis-server and must give the same results.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { redisForAllTests } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { describe, expect, it } from "vitest";

// Since step 21: runs against step 21 and every later step of its track.
for (const step of corpusSteps(21)) {
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
        await c.del([key, `${key}:2`]);
        const out: unknown[] = [];
        out.push(await c.xAdd(key, "1-1", { a: "1" }));
        out.push(await c.xAdd(key, "2-1", { b: "2", c: "3" }));
        out.push(await c.xAdd(`${key}:2`, "1-1", { d: "4" }));
        out.push(await c.xRead([{ key, id: "1-1" }]));
        out.push(await c.xRead([{ key, id: "2-1" }]));
        out.push(await c.xRead([{ key, id: "$" }]));
        out.push(
          await c.xRead(
            [
              { key, id: "0" },
              { key: `${key}:2`, id: "0" },
            ],
            { COUNT: 1 },
          ),
        );
        out.push(await c.xTrim(key, "MAXLEN", 1));
        out.push(await c.xRead([{ key, id: "0" }]));
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
        out.push(await r.xread("COUNT", 5, "STREAMS", key, "0"));
        out.push(await r.xread("STREAMS", key, "$"));
        out.push(await r.xadd(key, "3-1", "c", "3"));
        out.push(await r.xdel(key, "2-1", "9-9"));
        out.push(await r.xread("COUNT", 1, "STREAMS", key, "1-1"));
        out.push(await r.call("XINFO", "STREAM", key).then((v) => JSON.stringify(v)));
        out.push(await r.call("XINFO", "STREAM", key, "FULL").then((v) => JSON.stringify(v)));
        out.push(await r.xadd(key, "0-0", "x", "y").catch((e: Error) => e.message));
        return out.map((o) =>
          // radix-tree-nodes is Redis's own detail (see the README).
          typeof o === "string" ? o.replace(/("radix-tree-nodes",)\d+/, "$1n") : o,
        );
      } finally {
        r.disconnect();
      }
    }

    describe.each([
      { label: "default settings (RESP3)", proto: undefined },
      { label: "RESP2", proto: 2 as const },
    ])("real clients, $label", ({ proto }) => {
      it("node-redis: XREAD of one and two streams, $, COUNT, gives Redis's objects", async () => {
        const theirs = await nodeRedisScenario(real().port, proto, "nr:s");
        const mine = await nodeRedisScenario(ours().port, proto, "nr:s");
        expect(mine).toEqual(theirs);
        expect(mine[0]).toBe("1-1");
      });

      it("ioredis: XREAD after XADD and XDEL, XINFO STREAM and FULL", async () => {
        const theirs = await ioredisScenario(real().port, proto, "io:s");
        const mine = await ioredisScenario(ours().port, proto, "io:s");
        expect(mine).toEqual(theirs);
      });
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
      it("XREAD BLOCK $: every reader gets the same new entry, and only it", async () => {
        const { rs, ids } = await connected(port(), 4);
        const [writer, ...readers] = rs;
        try {
          await writer!.del("b:s");
          await writer!.xadd("b:s", "1-1", "old", "1");
          const replies = readers.map((r) => r.call("XREAD", "BLOCK", "0", "STREAMS", "b:s", "$"));
          await waitBlocked(writer!, ids.slice(1), "xread");
          await writer!.xadd("b:s", "2-1", "new", "2");
          for (const reply of await Promise.all(replies)) {
            expect(reply).toEqual([["b:s", [["2-1", ["new", "2"]]]]]);
          }
        } finally {
          for (const r of rs) r.disconnect();
        }
      });

      it("a reader blocked on two streams is answered with the one that got data", async () => {
        const { rs, ids } = await connected(port(), 2);
        const [writer, reader] = rs;
        try {
          await writer!.del("b:a", "b:b");
          const reply = reader!.call("XREAD", "BLOCK", "0", "STREAMS", "b:a", "b:b", "$", "$");
          await waitBlocked(writer!, [ids[1]!], "xread");
          await writer!.xadd("b:b", "5-1", "f", "v");
          expect(await reply).toEqual([["b:b", [["5-1", ["f", "v"]]]]]);
        } finally {
          for (const r of rs) r.disconnect();
        }
      });

      it("served after the command: an XADD that trims its own entry serves an empty list", async () => {
        const { rs, ids } = await connected(port(), 2);
        const [writer, reader] = rs;
        try {
          await writer!.del("b:t");
          const reply = reader!.call("XREAD", "BLOCK", "0", "STREAMS", "b:t", "$");
          await waitBlocked(writer!, [ids[1]!], "xread");
          await writer!.xadd("b:t", "MAXLEN", "0", "1-1", "f", "v");
          expect(await reply).toEqual([["b:t", []]]);
        } finally {
          for (const r of rs) r.disconnect();
        }
      });

      it("a timeout answers a null array, after the time asked", async () => {
        const { rs } = await connected(port(), 1);
        const [reader] = rs;
        try {
          await reader!.del("b:d");
          const t0 = Date.now();
          expect(await reader!.call("XREAD", "BLOCK", "50", "STREAMS", "b:d", "$")).toBeNull();
          expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
        } finally {
          for (const r of rs) r.disconnect();
        }
      });
    });
  });
}
