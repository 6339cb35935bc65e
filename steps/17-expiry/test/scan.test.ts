// scan.test.ts -- SCAN's promise: a full iteration returns every key that
// lives through it, however others add and delete keys meanwhile; on the
// keyspace alone (the cursor survives compaction of the key list) and
// through real clients, on our server and on a real redis-server.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { redisForAllTests } from "@smallchat/test/redis";
import fc from "fast-check";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";

// Since step 17: runs against step 17 and every later step of its track.
for (const step of corpusSteps(17)) {
  describe(step.name, async () => {
    const { Db } = (await import(`${step.dir}src/db.ts`)) as typeof import("../src/db.ts");
    const b = (s: string) => Buffer.from(s, "latin1");
    const server = serverForAllTests(stepFile(step, "src/server.ts"));
    const redis = redisForAllTests();

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
  });
}
