// db.test.ts -- the keyspace on its own: binary keys, lazy and active expiry,
// events, RENAME, and SCAN's promise under concurrent writes.

import { corpusSteps } from "@smallchat/test/corpus";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Db, Key, KeyEvent, Value } from "../src/db.ts";

// Since step 14: runs against step 14 and every later step of its track.
for (const step of corpusSteps(15)) {
  describe(step.name, async () => {
    const { Db, fromKey, toKey, WrongTypeError } = (await import(
      `${step.dir}src/db.ts`
    )) as typeof import("../src/db.ts");
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

    describe("keys are bytes", () => {
      it("keeps keys that differ only in bytes UTF-8 would mangle apart", () => {
        const db = new Db();
        const keys = ["", "\0", "a\0b", "\r\n", "\xff", "\xfe", "caf\xc3\xa9", "caf\xe9"].map(b);
        for (const [i, k] of keys.entries()) db.setString(k, Buffer.from([i]));
        expect(db.size).toBe(keys.length);
        for (const [i, k] of keys.entries()) expect(db.get(k, "string")).toEqual(Buffer.from([i]));
        const listed = db.keys().map((k) => k.toString("hex"));
        expect(listed.sort()).toEqual(keys.map((k) => k.toString("hex")).sort());
      });

      it("converts every byte value to a key and back", () => {
        const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        expect(toKey(all)).toHaveLength(256);
        expect(fromKey(toKey(all))).toEqual(all);
      });
    });

    describe("values and types", () => {
      it("answers type, exists, lookup, and none for missing keys", () => {
        const db = new Db();
        expect(db.type(b("k"))).toBe("none");
        expect(db.lookup(b("k"))).toBeUndefined();
        db.setString(b("k"), b("v"));
        expect(db.type(b("k"))).toBe("string");
        expect(db.exists(b("k"))).toBe(true);
        expect(db.lookup(b("k"))).toMatchObject({ type: "string", value: b("v") });
      });

      it("throws Redis's WRONGTYPE text when a key holds another type", () => {
        const db = new Db();
        // Only strings exist in this step: fake a list to see the check work.
        db.set(b("l"), { type: "list", value: [] } as unknown as Value);
        expect(() => db.get(b("l"), "string")).toThrow(WrongTypeError);
        expect(() => db.get(b("l"), "string")).toThrow(
          "WRONGTYPE Operation against a key holding the wrong kind of value",
        );
        expect(db.type(b("l"))).toBe("list");
      });

      it("deletes, and counts a missing key as not deleted", () => {
        const db = new Db();
        db.setString(b("k"), b("v"));
        expect(db.delete(b("k"))).toBe(true);
        expect(db.delete(b("k"))).toBe(false);
        expect(db.size).toBe(0);
      });
    });

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
        if (step.num < 20) {
          db.setString(b("gone"), b("x"), { expiresAt: 1 }); // Never existed: nothing to say.
          expect(events.map(([e]) => e)).toEqual(["write", "write", "write", "delete"]);
        } else {
          // Step 20 (WATCH): never existed, but Redis still writes it, born
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

    describe("rename and flush", () => {
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

      it("fails on a missing source and does nothing on itself", () => {
        const db = new Db();
        expect(db.rename(b("a"), b("a"))).toBe(false); // Redis: ERR no such key.
        db.setString(b("a"), b("v"));
        const events = recorder(db);
        expect(db.rename(b("a"), b("a"))).toBe(true); // Redis: OK.
        expect(db.get(b("a"), "string")).toEqual(b("v"));
        expect(events).toEqual([]);
      });

      it("announces a flush once, while the keys are still there", () => {
        const db = new Db();
        for (let i = 0; i < 100; i++)
          db.setString(b(`k${i}`), b("v"), { expiresAt: Date.now() + 1e6 });
        const seen: boolean[] = [];
        db.onKeyEvent((event) => {
          if (event === "flush") seen.push(db.exists(b("k7")));
        });
        db.flush();
        expect(seen).toEqual([true]);
        expect([db.size, db.expiringCount, db.keys().length]).toEqual([0, 0, 0]);
        expect(db.scan(0, 10)).toEqual([0, []]);
        db.setString(b("after"), b("v"));
        expect(db.scan(0, 10)).toEqual([0, [b("after")]]);
      });

      it("announces in-place changes and overwrites as writes", () => {
        const db = new Db();
        const events = recorder(db);
        db.modified(b("k"));
        db.setString(b("k"), b("1"));
        db.setString(b("k"), b("2"));
        expect(events).toEqual([
          ["write", "k"],
          ["write", "k"],
          ["write", "k"],
        ]);
      });

      it("unregisters a listener", () => {
        const db = new Db();
        const events: KeyEvent[] = [];
        const off = db.onKeyEvent((e) => events.push(e));
        db.setString(b("a"), b("1"));
        off();
        db.setString(b("a"), b("2"));
        expect(events).toEqual(["write"]);
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

      it("reclaims a million keys set with a 100 ms expiry that nobody reads", () => {
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        const baseline = process.memoryUsage().heapUsed;
        const { db, clock } = clocked();
        let expiredEvents = 0;
        db.onKeyEvent((e) => {
          if (e === "expire") expiredEvents++;
        });
        const N = 1_000_000;
        const value = b("some value");
        for (let i = 0; i < N; i++)
          db.setString(b(`key:${i}`), value, { expiresAt: clock.t + 100 });
        expect([db.size, db.expiringCount]).toEqual([N, N]);
        gc?.();
        const full = process.memoryUsage().heapUsed;
        clock.t += 101;
        let ticks = 0;
        // Bounded, not timed: each tick stops on its own budget, and the loop
        // gives up long after a working cycle would have finished.
        while (db.expiringCount > 0 && ticks < 100_000) {
          db.activeExpireCycle();
          ticks++;
        }
        expect([db.size, db.expiringCount, expiredEvents]).toEqual([0, 0, N]);
        if (gc !== undefined) {
          gc();
          const after = process.memoryUsage().heapUsed;
          console.log(
            `1M keys: heap ${mb(baseline)} -> ${mb(full)} -> ${mb(after)} MB after ${ticks} ticks`,
          );
          expect(after - baseline).toBeLessThan((full - baseline) / 10);
        } else {
          console.log(
            `1M keys reclaimed in ${ticks} ticks (run with --expose-gc to check the heap)`,
          );
        }
      });
    });

    function mb(bytes: number): string {
      return (bytes / 1e6).toFixed(1);
    }

    describe("SCAN", () => {
      it("walks every key once in small steps, with a filter", () => {
        const db = new Db();
        for (let i = 0; i < 1000; i++) db.setString(b(`k${i}`), b("v"));
        const seen: string[] = [];
        let cursor = 0;
        let calls = 0;
        do {
          const [next, keys] = db.scan(cursor, 7, (k) => k.endsWith("7"));
          seen.push(...keys.map(String));
          cursor = next;
          calls++;
        } while (cursor !== 0);
        expect(seen.length).toBe(100);
        expect(new Set(seen).size).toBe(100);
        expect(calls).toBeGreaterThanOrEqual(1000 / 7);
      });

      it("never loses a key that lives through the iteration, whatever else changes", () => {
        type Op = { kind: "scan"; count: number } | { kind: "add" | "del" | "set"; key: number };
        // Deletes weigh most and scans take few keys at a time, so that the key
        // list is compacted under running scans (that needs more than 64 holes,
        // and more holes than keys).
        const key = fc.integer({ min: 0, max: 199 });
        const op: fc.Arbitrary<Op> = fc.oneof(
          {
            arbitrary: fc.record({
              kind: fc.constant("scan" as const),
              count: fc.integer({ min: 1, max: 4 }),
            }),
            weight: 1,
          },
          { arbitrary: fc.record({ kind: fc.constant("del" as const), key }), weight: 8 },
          {
            arbitrary: fc.record({ kind: fc.constantFrom("add" as const, "set" as const), key }),
            weight: 1,
          },
        );
        fc.assert(
          fc.property(
            fc.uniqueArray(key, { minLength: 120, maxLength: 200 }),
            fc.array(op, { minLength: 250, maxLength: 500 }),
            (initial, ops) => {
              const db = new Db();
              const name = (k: number) => b(`key${k}`);
              for (const k of initial) db.setString(name(k), b("0"));
              const throughout = new Set(initial);
              const returned = new Set<string>();
              let cursor = 0;
              let done = false;
              const step = (count: number) => {
                const [next, keys] = db.scan(cursor, count);
                for (const k of keys) returned.add(k.toString("latin1"));
                cursor = next;
                done = next === 0;
              };
              for (const o of ops) {
                if (done) break;
                if (o.kind === "scan") step(o.count);
                else if (o.kind === "del") {
                  db.delete(name(o.key));
                  throughout.delete(o.key);
                } else {
                  db.setString(name(o.key), b(o.kind)); // Overwrites keep a key.
                }
              }
              while (!done) step(10);
              for (const k of throughout) expect(returned.has(`key${k}`)).toBe(true);
            },
          ),
          { numRuns: 200 },
        );
      });

      it("keeps its place across compaction of the key list", () => {
        const db = new Db();
        for (let i = 0; i < 10_000; i++) db.setString(b(`k${i}`), b("v"));
        const [cursor, first] = db.scan(0, 6000);
        expect(first.length).toBe(6000);
        // Delete what was already returned: holes outnumber keys and the list
        // is compacted under the cursor.
        for (let i = 0; i < 6000; i++) db.delete(b(`k${i}`));
        const rest: string[] = [];
        let c = cursor;
        do {
          const [next, keys] = db.scan(c, 100);
          rest.push(...keys.map(String));
          c = next;
        } while (c !== 0);
        expect(rest.length).toBe(4000);
        expect(rest[0]).toBe("k6000");
      });
    });
  });
}
