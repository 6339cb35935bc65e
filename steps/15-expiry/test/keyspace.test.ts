// keyspace.test.ts -- the keyspace through real clients: binary values through ioredis and
// node-redis, SCAN's promise while others write (on our server and on a real redis-server),
// and active expiry reclaiming keys that nobody reads.
//
// The byte-for-byte comparison with Redis is the diff family
// (test/diff/strings.ts); these are the behaviours a transcript cannot
// show: what a client library gets back, what a whole iteration returns,
// what happens while nobody asks anything.

import net from "node:net";
import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { type RunningServer, serverForAllTests } from "@smallchat/test/harness";
import { redisForAllTests } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { createClient, RESP_TYPES } from "redis";
import { describe, expect, it } from "vitest";

// Since step 14: runs against step 14 and every later step of its track.
for (const step of corpusSteps(15)) {
  describe(step.name, async () => {
    const SERVER = stepFile(step, "src/server.ts");
    const server = serverForAllTests(SERVER);
    const redis = redisForAllTests();

    // Every byte value, and the three that break naive code most.
    const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const NASTY_KEY = Buffer.from("k\0\r\n\xff", "latin1");

    describe.each([
      { label: "default settings (RESP3)", protocol: undefined },
      { label: "RESP2", protocol: 2 as const },
    ])("ioredis, $label", ({ protocol }) => {
      it("round-trips binary keys and values, counters and TTLs", async () => {
        const r = new Redis({
          host: "127.0.0.1",
          port: server().port,
          protocol,
          lazyConnect: true,
        });
        try {
          await r.connect();
          expect(await r.set(NASTY_KEY, ALL_BYTES)).toBe("OK");
          expect(await r.getBuffer(NASTY_KEY)).toEqual(ALL_BYTES);
          expect(await r.mgetBuffer(NASTY_KEY, "missing")).toEqual([ALL_BYTES, null]);
          expect(await r.append(NASTY_KEY, Buffer.from([0xff, 0]))).toBe(258);
          expect(await r.strlen(NASTY_KEY)).toBe(258);
          expect(await r.set("io:n", "9223372036854775806", "EX", 1000)).toBe("OK");
          await r.incr("io:n"); // Its reply is a JS number in ioredis: rounded.
          expect(await r.get("io:n")).toBe("9223372036854775807");
          expect(await r.call("INCR", "io:n").catch((e: Error) => e.message)).toBe(
            "ERR increment or decrement would overflow",
          );
          expect(await r.ttl("io:n")).toBe(1000);
          expect(await r.incrbyfloat("io:f", "0.1")).toBe("0.1");
          expect(await r.incrbyfloat("io:f", "0.2")).toBe("0.3");
          expect(await r.type(NASTY_KEY)).toBe("string");
          expect(await r.del(NASTY_KEY, "io:n", "io:f", "missing")).toBe(3);
        } finally {
          r.disconnect();
        }
      });
    });

    describe.each([
      { label: "default settings (RESP3)", RESP: undefined },
      { label: "RESP2", RESP: 2 as const },
    ])("node-redis, $label", ({ RESP }) => {
      it("round-trips binary keys and values", async () => {
        const c = createClient({ socket: { host: "127.0.0.1", port: server().port }, RESP });
        c.on("error", () => {}); // Reported through the failing promise instead.
        await c.connect();
        try {
          const bin = c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
          expect(await bin.set(NASTY_KEY, ALL_BYTES)).toBe("OK");
          expect(await bin.get(NASTY_KEY)).toEqual(ALL_BYTES);
          expect(await bin.getDel(NASTY_KEY)).toEqual(ALL_BYTES);
          expect(await bin.get(NASTY_KEY)).toBeNull();
          expect(await c.set("nr:k", "v", { expiration: { type: "PX", value: 1_000_000 } })).toBe(
            "OK",
          );
          expect(await c.ttl("nr:k")).toBe(1000);
          expect(await c.incrBy("nr:c", 5)).toBe(5);
          expect(await c.del(["nr:k", "nr:c"])).toBe(2);
        } finally {
          c.destroy();
        }
      });
    });

    /* ---- SCAN while others write ----
     * The guarantee: a full iteration returns every key that existed from its
     * start to its end, even while other keys are added and removed. Checked
     * on a real redis-server too, so the test is of the promise, not of our
     * way of keeping it.
     * ---------------------------------------------------------------------- */

    describe.each([
      { label: "our server", port: () => server().port },
      { label: "redis-server", port: () => redis().port },
    ])("SCAN under concurrent writes, $label", ({ port }) => {
      it("returns every key that lives through the iteration", async () => {
        const scanner = new Redis({ host: "127.0.0.1", port: port(), lazyConnect: true });
        const writer = new Redis({ host: "127.0.0.1", port: port(), lazyConnect: true });
        try {
          await Promise.all([scanner.connect(), writer.connect()]);
          await writer.flushall();
          const stable = Array.from({ length: 2000 }, (_, i) => `stable:${i}`);
          await writer.mset(...stable.flatMap((k) => [k, "1"]));
          await writer.mset(...Array.from({ length: 1000 }, (_, i) => [`churn:${i}`, "1"]).flat());
          const seen = new Set<string>();
          let cursor = "0";
          let round = 0;
          do {
            const [next, keys] = await scanner.scan(cursor, "COUNT", 25);
            for (const k of keys) seen.add(k);
            cursor = next;
            // Between calls: delete old keys, add as many new ones (Redis's
            // table rehashes under the cursor). The size stays bounded: like
            // Redis's, our iteration need not end if the keyspace only grows.
            const pipe = writer.pipeline();
            for (let i = 0; i < 10; i++) {
              pipe.del(round < 100 ? `churn:${round * 10 + i}` : `new:${round - 100}:${i}`);
              pipe.set(`new:${round}:${i}`, "1");
            }
            await pipe.exec();
            round++;
          } while (cursor !== "0" && round < 10_000);
          expect(cursor).toBe("0");
          expect(stable.filter((k) => !seen.has(k))).toEqual([]);
        } finally {
          scanner.disconnect();
          writer.disconnect();
        }
      });
    });

    /* ---- Active expiry ---- */

    // Send `n` requests in one write on a raw socket; resolve when `n` replies
    // (one line each) have come back.
    function pipelined(port: number, requests: Buffer, n: number): Promise<void> {
      return new Promise((resolve, reject) => {
        const socket = net.connect({ host: "127.0.0.1", port });
        let lines = 0;
        socket.on("data", (d: Buffer) => {
          for (const byte of d) if (byte === 0x0a) lines++;
          if (lines >= n) {
            socket.destroy();
            resolve();
          }
        });
        socket.on("error", reject);
        socket.write(requests);
      });
    }

    async function dbsizeUntil(r: Redis, want: number, timeoutMs: number): Promise<number> {
      const deadline = Date.now() + timeoutMs;
      let size = await r.dbsize();
      while (size !== want && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        size = await r.dbsize();
      }
      return size;
    }

    describe("active expiry", () => {
      const own = serverForAllTests(SERVER);

      it("reclaims 200,000 keys given a TTL that nobody reads again", async () => {
        const s: RunningServer = own();
        const n = 200_000;
        // First the keys, with no TTL, so that counting them cannot race the
        // clock however slow the machine; then a 100 ms TTL for each of them.
        const sets: string[] = ["*3\r\n$3\r\nSET\r\n$4\r\nkeep\r\n$1\r\nv\r\n"];
        const expires: string[] = [];
        for (let i = 0; i < n; i++) {
          const key = `ttl:${i}`;
          sets.push(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$1\r\nv\r\n`);
          expires.push(`*3\r\n$7\r\nPEXPIRE\r\n$${key.length}\r\n${key}\r\n$3\r\n100\r\n`);
        }
        await pipelined(s.port, Buffer.from(sets.join("")), n + 1);
        const r = new Redis({ host: "127.0.0.1", port: s.port, lazyConnect: true });
        try {
          await r.connect();
          // DBSIZE and INFO count keys without looking them up: only the
          // timer's sampling can bring them down, to the one key without TTL.
          expect(await r.dbsize()).toBe(n + 1);
          await pipelined(s.port, Buffer.from(expires.join("")), n);
          expect(await dbsizeUntil(r, 1, 60_000)).toBe(1);
          expect(await r.info("keyspace")).toBe("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n");
          expect(await r.get("keep")).toBe("v");
        } finally {
          r.disconnect();
        }
      }, 90_000);
    });
  });
}
