// expiry.test.ts -- time in the keyspace: lazy expiry (a dead key is never
// seen), active expiry (dead keys nobody reads are reclaimed, a bounded
// amount of work per tick), on the keyspace alone and through a server.

import net from "node:net";
import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { type RunningServer, serverForAllTests } from "@smallchat/test/harness";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { describe, expect, it } from "vitest";
import type { Db, Key, KeyEvent } from "../src/db.ts";

// Since step 17: runs against step 17 and every later step of its track.
for (const step of corpusSteps(17)) {
  describe(step.name, async () => {
    const { Db } = (await import(`${step.dir}src/db.ts`)) as typeof import("../src/db.ts");
    const b = (s: string) => Buffer.from(s, "latin1");

    // A Db on a clock the test moves by hand.
    function clocked(start = 1_000_000) {
      const clock = { t: start };
      const db = new Db({ now: () => clock.t });
      return { db, clock };
    }

    function recorder(db: Db) {
      const events: [KeyEvent, Key | null][] = [];
      db.onKeyEvent((event, key) => events.push([event, key]));
      return events;
    }

    describe("lazy expiry", () => {
      it("keeps a key alive at its deadline and removes it one ms later", () => {
        const { db, clock } = clocked();
        const events = recorder(db);
        db.setString(b("k"), b("v"), { expiresAt: clock.t + 100 });
        clock.t += 100;
        expect(db.pttl(b("k"))).toBe(0); // Redis: expired means now > deadline.
        clock.t += 1;
        expect(db.size).toBe(1); // Nobody looked yet.
        expect(db.get(b("k"), "string")).toBeUndefined();
        expect(db.size).toBe(0);
        expect(db.expiringCount).toBe(0);
        expect(events).toEqual([
          ["write", "k"],
          ["expire", "k"],
        ]);
      });

      it("answers PTTL/TTL/expireTime like Redis, TTL rounding to nearest", () => {
        const { db, clock } = clocked();
        expect([db.pttl(b("k")), db.ttl(b("k")), db.expireTime(b("k"))]).toEqual([-2, -2, -2]);
        db.setString(b("k"), b("v"));
        expect([db.pttl(b("k")), db.ttl(b("k")), db.expireTime(b("k"))]).toEqual([-1, -1, -1]);
        db.setExpire(b("k"), clock.t + 1400);
        expect([db.pttl(b("k")), db.ttl(b("k"))]).toEqual([1400, 1]); // redis-server: PEXPIRE 1400, TTL 1
        db.setExpire(b("k"), clock.t + 1600);
        expect([db.ttl(b("k")), db.expireTime(b("k"))]).toEqual([2, clock.t + 1600]); // TTL 2
      });

      it("SET drops the expiry unless KEEPTTL; an expiry in the past deletes", () => {
        const { db, clock } = clocked();
        const events = recorder(db);
        db.setString(b("k"), b("1"), { expiresAt: clock.t + 1000 });
        db.setString(b("k"), b("2"), { keepTtl: true });
        expect(db.pttl(b("k"))).toBe(1000);
        db.setString(b("k"), b("3"));
        expect(db.pttl(b("k"))).toBe(-1);
        expect(db.expiringCount).toBe(0);
        db.setString(b("k"), b("4"), { expiresAt: clock.t }); // SET ... PXAT <now>
        expect(db.exists(b("k"))).toBe(false);
        if (step.num < 24) {
          db.setString(b("gone"), b("x"), { expiresAt: 1 }); // Never existed: nothing to say.
          expect(events.map(([e]) => e)).toEqual(["write", "write", "write", "delete"]);
        } else {
          // Step 24 (WATCH): never existed, but Redis still writes it, born
          // dead, and WATCH sees that.
          db.setString(b("gone"), b("x"), { expiresAt: 1 });
          expect(db.exists(b("gone"))).toBe(false);
          expect(events.map(([e]) => e)).toEqual(["write", "write", "write", "delete", "write"]);
        }
      });

      it("does not let KEEPTTL revive a dead key with its old deadline", () => {
        const { db, clock } = clocked();
        db.setString(b("k"), b("1"), { expiresAt: clock.t + 10 });
        clock.t += 11;
        db.setString(b("k"), b("2"), { keepTtl: true });
        expect(db.get(b("k"), "string")).toEqual(b("2"));
        expect(db.pttl(b("k"))).toBe(-1);
      });

      it("EXPIRE in the past deletes; PERSIST reports whether it changed anything", () => {
        const { db, clock } = clocked();
        const events = recorder(db);
        expect(db.setExpire(b("nokey"), clock.t + 10)).toBe(false);
        db.setString(b("k"), b("v"));
        expect(db.persist(b("k"))).toBe(false);
        db.setExpire(b("k"), clock.t + 10);
        expect(db.persist(b("k"))).toBe(true);
        expect(db.expiringCount).toBe(0);
        expect(db.setExpire(b("k"), clock.t - 5)).toBe(true);
        expect(db.exists(b("k"))).toBe(false);
        expect(events.map(([e]) => e)).toEqual(["write", "write", "write", "delete"]);
      });

      it("skips and reclaims dead keys in KEYS, SCAN and RANDOMKEY", () => {
        const { db, clock } = clocked();
        for (let i = 0; i < 10; i++) {
          db.setString(b(`dead${i}`), b("x"), { expiresAt: clock.t + 5 });
        }
        db.setString(b("alive"), b("x"));
        clock.t += 6;
        expect(db.size).toBe(11);
        expect(db.randomKey()).toEqual(b("alive"));
        expect(db.keys().map(String)).toEqual(["alive"]);
        expect(db.size).toBe(1);
        expect(db.scan(0, 100)).toEqual([0, [b("alive")]]);
      });
    });

    describe("rename, flush and swap", () => {
      it("moves value and expiry, replacing the destination and its expiry", () => {
        const { db, clock } = clocked();
        const events = recorder(db);
        db.setString(b("src"), b("v"), { expiresAt: clock.t + 5000 });
        db.setString(b("dst"), b("old"), { expiresAt: clock.t + 9000 });
        expect(db.rename(b("src"), b("dst"))).toBe(true);
        expect(db.exists(b("src"))).toBe(false);
        expect(db.get(b("dst"), "string")).toEqual(b("v"));
        expect(db.pttl(b("dst"))).toBe(5000);
        expect(db.expiringCount).toBe(1);
        expect(db.size).toBe(1);
        expect(events.slice(2)).toEqual([
          ["delete", "src"],
          ["write", "dst"],
        ]);
      });

      it("flush drops every expiry, and SCAN starts over", () => {
        const db = new Db();
        for (let i = 0; i < 100; i++)
          db.setString(b(`k${i}`), b("v"), { expiresAt: Date.now() + 1e6 });
        db.flush();
        expect([db.size, db.expiringCount, db.keys().length]).toEqual([0, 0, 0]);
        expect(db.scan(0, 10)).toEqual([0, []]);
        db.setString(b("after"), b("v"));
        expect(db.scan(0, 10)).toEqual([0, [b("after")]]);
      });

      it("swaps expiries with the keys (SWAPDB)", () => {
        const { db: zero, clock } = clocked();
        const one = new Db({ id: 1, now: () => clock.t });
        zero.setString(b("t"), b("x"), { expiresAt: clock.t + 1000 });
        zero.swapWith(one);
        expect([zero.expiringCount, one.expiringCount]).toEqual([0, 1]);
        expect(one.pttl(b("t"))).toBe(1000);
      });
    });

    describe("active expiry", () => {
      it("stops after one round when few sampled keys are dead", () => {
        const { db, clock } = clocked();
        for (let i = 0; i < 1000; i++) {
          db.setString(b(`k${i}`), b("v"), { expiresAt: clock.t + (i < 10 ? 1 : 100_000) });
        }
        clock.t += 2;
        const stats = db.activeExpireCycle();
        expect(stats.rounds).toBe(1);
        expect(stats.sampled).toBe(20);
        expect(stats.timedOut).toBe(false);
        expect(db.avgTtl).toBeGreaterThan(90_000); // The live ones' ~99,998 ms.
        expect(db.avgTtl).toBeLessThanOrEqual(100_000);
      });

      it("does nothing, quickly, when no key has an expiry", () => {
        const db = new Db();
        db.setString(b("k"), b("v"));
        expect(db.activeExpireCycle()).toEqual({
          rounds: 0,
          sampled: 0,
          expired: 0,
          timedOut: false,
        });
        expect(db.avgTtl).toBe(0);
        expect(new Db().randomKey()).toBeUndefined();
      });

      it("never touches persistent keys and leaves live ones", () => {
        const { db, clock } = clocked();
        for (let i = 0; i < 500; i++) db.setString(b(`p${i}`), b("v"));
        for (let i = 0; i < 500; i++) db.setString(b(`d${i}`), b("v"), { expiresAt: clock.t + 10 });
        for (let i = 0; i < 500; i++)
          db.setString(b(`l${i}`), b("v"), { expiresAt: clock.t + 1e6 });
        clock.t += 11;
        for (let tick = 0; tick < 1000; tick++) db.activeExpireCycle();
        // Sampling stops once <= 25% of a sample is dead, so a few dead keys
        // may wait for a later tick or a reader; the rest are gone.
        expect(db.size).toBeGreaterThanOrEqual(1000);
        expect(db.size).toBeLessThan(1000 + 500 / 4);
        expect(db.keys().length).toBe(1000);
      });

      it("does a bounded amount of work per tick, and reclaims keys nobody reads", () => {
        // The bound is in counters, not in time: with no budget at all, a
        // cycle still does its 16 rounds of 20 keys before it first looks at
        // the clock, and then stops. So N dead keys take at least N / 320
        // ticks, and the cycle alone (no reader) reclaims every one of them.
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        const baseline = process.memoryUsage().heapUsed;
        const { db, clock } = clocked();
        let expiredEvents = 0;
        db.onKeyEvent((e) => {
          if (e === "expire") expiredEvents++;
        });
        const N = 100_000;
        const value = b("some value");
        for (let i = 0; i < N; i++)
          db.setString(b(`key:${i}`), value, { expiresAt: clock.t + 100 });
        expect([db.size, db.expiringCount]).toEqual([N, N]);
        gc?.();
        const full = process.memoryUsage().heapUsed;
        clock.t += 101;
        let ticks = 0;
        let most = 0;
        while (db.expiringCount > 0 && ticks < N) {
          const stats = db.activeExpireCycle(0);
          most = Math.max(most, stats.sampled);
          if (db.expiringCount > 0) expect(stats.timedOut).toBe(true);
          ticks++;
        }
        expect(most).toBe(16 * 20);
        expect(ticks).toBeGreaterThanOrEqual(N / 320);
        expect([db.size, db.expiringCount, expiredEvents]).toEqual([0, 0, N]);
        if (gc !== undefined) {
          gc();
          const after = process.memoryUsage().heapUsed;
          console.log(
            `${N} keys: heap ${mb(baseline)} -> ${mb(full)} -> ${mb(after)} MB after ${ticks} ticks`,
          );
          expect(after - baseline).toBeLessThan((full - baseline) / 10);
        } else {
          console.log(
            `${N} keys reclaimed in ${ticks} ticks (run with --expose-gc to check the heap)`,
          );
        }
      });
    });

    function mb(bytes: number): string {
      return (bytes / 1e6).toFixed(1);
    }

    /* ---- Through a server ---- */

    const SERVER = stepFile(step, "src/server.ts");
    const server = serverForAllTests(SERVER);

    it("ioredis and node-redis set, keep and read TTLs", async () => {
      const r = new Redis({ host: "127.0.0.1", port: server().port, lazyConnect: true });
      const c = createClient({ socket: { host: "127.0.0.1", port: server().port } });
      c.on("error", () => {}); // Reported through the failing promise instead.
      try {
        await Promise.all([r.connect(), c.connect()]);
        expect(await r.set("io:n", "9223372036854775806", "EX", 1000)).toBe("OK");
        await r.incr("io:n"); // A counter with a TTL stays a counter with a TTL.
        expect(await r.get("io:n")).toBe("9223372036854775807");
        expect(await r.ttl("io:n")).toBe(1000);
        expect(await c.set("nr:k", "v", { expiration: { type: "PX", value: 1_000_000 } })).toBe(
          "OK",
        );
        expect(await c.ttl("nr:k")).toBe(1000);
        expect(await c.persist("nr:k")).toBe(1);
        expect(await c.ttl("nr:k")).toBe(-1);
        expect(await r.del("io:n", "nr:k")).toBe(2);
      } finally {
        r.disconnect();
        c.destroy();
      }
    });

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

      it("reclaims 20,000 keys given a TTL that nobody reads again", async () => {
        const s: RunningServer = own();
        const n = 20_000;
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
          expect(await dbsizeUntil(r, 1, 20_000)).toBe(1);
          expect(await r.info("keyspace")).toBe("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n");
          expect(await r.get("keep")).toBe("v");
        } finally {
          r.disconnect();
        }
      }, 30_000);
    });
  });
}
