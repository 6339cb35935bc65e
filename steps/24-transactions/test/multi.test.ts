// multi.test.ts -- transactions through real clients, and the watch index in process.
//
// The byte-for-byte rules are the diff family (test/diff/transactions.ts).
// These are what a transcript cannot show: many clients racing. Twenty
// ioredis (then node-redis) clients increment one counter with the
// optimistic-lock loop WATCH, GET, MULTI, SET, EXEC, retrying when EXEC
// answers nil, while a plain writer INCRs the same counter: if WATCH ever
// missed a write, an increment would be lost and the total would be short.
// Every race runs against a real redis-server too, so the test itself is
// checked. Then a reader polls two counters that transactions always bump
// together: it must never see them differ (no half-applied transaction).
// A client queueing without end is dropped, not allowed to grow our
// memory. Last, the watch index itself: a write looks only at the watchers
// of its key, and a client's watches leave with it.
//
// Each step's server is started once, with a 64 KB query buffer limit
// (what the queue without end is dropped for; the other tests stay far
// below it). The redis-server half runs once, with the first step.

import net from "node:net";
import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { redisForAllTests } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { createClient, WatchError } from "redis";
import { describe, expect, it } from "vitest";
import type { Client } from "../src/state.ts";

const CLIENTS = 20;
const EACH = 10; // Increments per client.
const PLAIN = 100; // INCRs by the writer that does not use transactions.

// INCR `n` times with a plain client, one at a time, as another program would.
async function plainWriter(port: number, key: string, n: number): Promise<void> {
  const w = new Redis({ host: "127.0.0.1", port });
  try {
    for (let i = 0; i < n; i++) await w.incr(key);
  } finally {
    w.disconnect();
  }
}

// Since step 24: runs against step 24 and every later step of its track.
// The same races against redis-server prove the test itself: that half
// runs once, with the first step of the list.
const steps = corpusSteps(24);
for (const step of steps) {
  describe(step.name, async () => {
    const { clientInfoLine } = (await import(
      `${step.dir}src/commands/connection.ts`
    )) as typeof import("../src/commands/connection.ts");
    const { processCommand } = (await import(
      `${step.dir}src/commands.ts`
    )) as typeof import("../src/commands.ts");
    const { touchWatchedKeys, unwatchAllKeys, watchedKeyCount } = (await import(
      `${step.dir}src/multi.ts`
    )) as typeof import("../src/multi.ts");
    const { RespParser } = (await import(
      `${step.dir}src/resp.ts`
    )) as typeof import("../src/resp.ts");
    const { createClientState, Server } = (await import(
      `${step.dir}src/state.ts`
    )) as typeof import("../src/state.ts");

    // 64 KB of queue allowed: the queued commands count as input not yet run.
    const server = serverForAllTests(stepFile(step, "src/server.ts"), [
      "--client-query-buffer-limit",
      "65536",
    ]);
    const redis =
      step === steps[0]
        ? redisForAllTests()
        : () => {
            throw new Error("no redis-server here");
          };

    const targets = [
      { label: "our server", port: () => server().port },
      ...(step === steps[0] ? [{ label: "redis-server", port: () => redis().port }] : []),
    ];

    describe.each(targets)("on $label", ({ port }) => {
      it(`ioredis: ${CLIENTS} clients incrementing through WATCH/MULTI/EXEC lose nothing`, async () => {
        const key = "counter:ioredis";
        const clients = Array.from(
          { length: CLIENTS },
          () => new Redis({ host: "127.0.0.1", port: port() }),
        );
        let retries = 0;
        try {
          await clients[0]!.del(key);
          const increment = async (r: Redis) => {
            for (let i = 0; i < EACH; i++) {
              while (true) {
                await r.watch(key);
                const cur = Number((await r.get(key)) ?? "0");
                const res = await r
                  .multi()
                  .set(key, String(cur + 1))
                  .exec();
                if (res !== null) break; // null: a watched key changed, try again.
                retries++;
              }
            }
          };
          await Promise.all([...clients.map(increment), plainWriter(port(), key, PLAIN)]);
          expect(Number(await clients[0]!.get(key))).toBe(CLIENTS * EACH + PLAIN);
        } finally {
          for (const r of clients) r.disconnect();
        }
        // Not asserted (a scheduler could serialise the clients), but with 21
        // writers on one key the retries are what WATCH is for.
        console.log(`ioredis on ${port()}: ${retries} retries`);
      });

      it(`node-redis: ${CLIENTS} clients, RESP3 and RESP2 mixed, with WatchError retries`, async () => {
        const key = "counter:node-redis";
        const clients = Array.from({ length: CLIENTS }, (_, i) =>
          createClient({ socket: { host: "127.0.0.1", port: port() }, RESP: i % 2 === 0 ? 3 : 2 }),
        );
        let retries = 0;
        try {
          await Promise.all(clients.map((c) => c.connect()));
          await clients[0]!.del(key);
          const increment = async (c: (typeof clients)[number]) => {
            for (let i = 0; i < EACH; i++) {
              while (true) {
                await c.watch(key);
                const cur = Number((await c.get(key)) ?? "0");
                try {
                  await c
                    .multi()
                    .set(key, String(cur + 1))
                    .exec();
                  break;
                } catch (err) {
                  if (!(err instanceof WatchError)) throw err;
                  retries++;
                }
              }
            }
          };
          await Promise.all([...clients.map(increment), plainWriter(port(), key, PLAIN)]);
          expect(Number(await clients[0]!.get(key))).toBe(CLIENTS * EACH + PLAIN);
        } finally {
          await Promise.all(clients.map((c) => c.close()));
        }
        console.log(`node-redis on ${port()}: ${retries} retries`);
      });

      it("a reader never sees half a transaction", async () => {
        const writer = new Redis({ host: "127.0.0.1", port: port() });
        const reader = new Redis({ host: "127.0.0.1", port: port() });
        try {
          await writer.del("pair:a", "pair:b");
          // 300 transactions pipelined in one go, each bumping both counters
          // with a slow-ish command between them.
          const writes = Array.from({ length: 300 }, () =>
            writer.multi().incr("pair:a").mget("pair:a", "pair:b").incr("pair:b").exec(),
          );
          let done = false;
          const all = Promise.all(writes).then((r) => {
            done = true;
            return r;
          });
          let reads = 0;
          while (!done) {
            const [a, b] = await reader.mget("pair:a", "pair:b");
            expect(a).toBe(b);
            reads++;
          }
          const results = await all;
          // Inside each transaction MGET saw a one ahead of b: it ran between them.
          for (const r of results) {
            const [, [, [a, b]]] = r as [unknown, [unknown, [string, string | null]]];
            expect(Number(a)).toBe(Number(b ?? "0") + 1);
          }
          expect(await reader.mget("pair:a", "pair:b")).toEqual(["300", "300"]);
          expect(reads).toBeGreaterThan(0);
        } finally {
          writer.disconnect();
          reader.disconnect();
        }
      });
    });

    describe("a queue without end", () => {
      it("drops the client whose MULTI queue outgrows the query buffer limit; others go on", async () => {
        const s = server();
        const r = new Redis({ host: "127.0.0.1", port: s.port });
        try {
          await r.flushall(); // The races above left their counters.
          const sock = net.connect({ host: "127.0.0.1", port: s.port });
          sock.on("error", () => {});
          // Read what comes (MULTI's +OK): a socket nobody reads never sees
          // the FIN of a server that had read everything before closing, so
          // it would never close.
          sock.resume();
          const closed = new Promise<void>((resolve) => sock.once("close", () => resolve()));
          sock.write("MULTI\r\n");
          // 100 SETs of 1 KB each: 100 KB queued, over the limit on the way.
          const value = "x".repeat(1024);
          for (let i = 0; i < 100; i++) sock.write(`SET k${i} ${value}\r\n`);
          await closed;
          await s.waitForLog(/client \d+ dropped: MULTI queue over 65536 bytes/);
          expect(await r.dbsize()).toBe(0); // Nothing of the queue ran.
        } finally {
          r.disconnect();
        }
      });
    });

    /* ---- The watch index, in process: our dispatcher, no sockets ---- */

    function fakeClient(): Client {
      const socket = { remoteAddress: "127.0.0.1", remotePort: 0, localAddress: "", localPort: 0 };
      return createClientState(socket as never, new RespParser({ maxBulkLen: 1 << 20 }));
    }

    function run(c: Client, ...args: string[]): string {
      processCommand(
        c,
        args.map((a) => Buffer.from(a)),
      );
      return Buffer.concat(c.out.take()).toString("latin1");
    }

    describe("the watch index", () => {
      it("a write looks only at its key's watchers; a client's watches leave with it", () => {
        const off = Server.db.onKeyEvent(touchWatchedKeys);
        try {
          const clients = Array.from({ length: 2000 }, () => fakeClient());
          for (const [i, c] of clients.entries()) {
            expect(run(c, "WATCH", `key:${i}`, "shared")).toBe("+OK\r\n");
          }
          expect(watchedKeyCount()).toBe(2001);
          const writer = fakeClient();
          run(writer, "SET", "key:7", "x");
          expect(clients.filter((c) => c.watchTouched)).toEqual([clients[7]]);
          // A touched client dropped its other watches: it cannot be more doomed.
          expect(clients[7]!.watching).toBeNull();
          run(writer, "SET", "unwatched", "x");
          expect(clients.filter((c) => c.watchTouched)).toHaveLength(1);
          // What freeClient() does for a client that disconnects.
          for (const c of clients.slice(0, 1000)) unwatchAllKeys(c);
          expect(watchedKeyCount()).toBe(1001); // key:1000..key:1999 and "shared".
          run(writer, "SET", "shared", "x");
          expect(clients.filter((c) => c.watchTouched)).toHaveLength(1001);
          expect(watchedKeyCount()).toBe(0);
          expect(run(clients[1500]!, "MULTI") + run(clients[1500]!, "EXEC")).toBe("+OK\r\n*-1\r\n");
          expect(run(clients[10]!, "MULTI") + run(clients[10]!, "EXEC")).toBe("+OK\r\n*0\r\n");
        } finally {
          off();
          Server.db.flush();
        }
      });

      it("CLIENT LIST shows x and multi= inside MULTI, d once a watch fired", () => {
        const off = Server.db.onKeyEvent(touchWatchedKeys);
        try {
          const a = fakeClient();
          const b = fakeClient();
          run(a, "WATCH", "k");
          run(b, "MULTI");
          run(b, "SET", "k", "1");
          const fields = (c: Client) =>
            /flags=(\S+) .* multi=(\S+)/.exec(clientInfoLine(c, Date.now()))!;
          expect(fields(a).slice(1)).toEqual(["N", "-1"]);
          expect(fields(b).slice(1)).toEqual(["x", "1"]);
          run(b, "EXEC");
          expect(fields(a).slice(1)).toEqual(["d", "-1"]);
          expect(fields(b).slice(1)).toEqual(["N", "-1"]);
        } finally {
          off();
          Server.db.flush();
        }
      });
    });
  });
}
