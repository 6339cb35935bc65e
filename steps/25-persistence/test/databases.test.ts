// databases.test.ts -- the AOF with 16 databases: SELECT as redis-server writes it, every database back after kill -9, rewriting across databases.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";
import {
  Conn,
  datasets,
  expectSameDatasets,
  kill9,
  readAof as read,
  scratch,
  startRedisAof,
  writeEveryType,
} from "./aof-helpers.ts";

// Send commands on one connection; any error reply fails the test.
function runner(c: Conn) {
  return async (...a: (string | number)[]): Promise<unknown> => {
    const r = await c.cmd(...a);
    if (r instanceof Error) throw new Error(`${a.join(" ")}: ${r.message}`);
    return r;
  };
}

// Writes in several databases, SELECT inside a MULTI, SWAPDB, FLUSHDB, FLUSHALL.
async function session(port: number): Promise<void> {
  const c = await Conn.open(port);
  const run = runner(c);
  await run("SET", "a", 1);
  await run("SELECT", 3);
  await run("SET", "b", 2, "EX", 100);
  await run("RPUSH", "l", "x", "y");
  await run("SELECT", 0);
  await run("SET", "c", 3);
  await run("SWAPDB", 0, 3);
  await run("SET", "d", 4);
  await run("SELECT", 3);
  await run("FLUSHDB");
  await run("SET", "e", 5);
  await run("MULTI");
  await run("SET", "f", 6);
  await run("SELECT", 5);
  await run("INCR", "g");
  await run("EXEC");
  await run("MULTI");
  await run("SELECT", 15);
  await run("SET", "h", 8);
  await run("EXEC");
  await run("SELECT", 15);
  await run("GET", "h"); // Read-only: no SELECT logged for it.
  await run("SWAPDB", 2, 4); // Two empty databases: logged all the same.
  await run("FLUSHALL");
  await run("SELECT", 2);
  await run("SET", "i", 9);
  c.close();
}

const normalize = (s: string) => s.replace(/\$13\r\n\d{13}\r\n/g, "$13\r\n<ms>\r\n");

// Keys in databases 0, 3 and 15, of every type, some with a TTL.
async function fill(c: Conn): Promise<void> {
  for (const db of [0, 3, 15]) {
    await c.cmd("SELECT", db);
    await writeEveryType(c);
    await c.cmd("SET", `only-in-${db}`, db, "EX", 1000);
  }
  await c.cmd("SELECT", 0);
}

// Since step 25: runs against step 25 and every later step of its track.
for (const step of corpusSteps(25)) {
  describe(step.name, () => {
    const { dir, ours, track } = scratch(step);

    describe("the AOF with 16 databases", () => {
      it("writes SELECT where redis-server 7.0.15 does, byte for byte", async () => {
        const mine = dir();
        const s = await ours(mine);
        await session(s.port);
        await kill9(s);
        const theirs = dir();
        const redis = await startRedisAof(theirs);
        track(redis);
        await session(redis.port);
        await redis.stop();
        expect(normalize(read(mine, "appendonly.aof.1.incr.aof"))).toBe(
          normalize(read(theirs, "appendonly.aof.1.incr.aof")),
        );
      });

      it("brings every database back after kill -9 (SWAPDB and FLUSHDB included)", async () => {
        const d = dir();
        let s = await ours(d);
        const c = await Conn.open(s.port);
        const run = runner(c);
        await fill(c);
        await run("SWAPDB", 3, 7); // Database 3's keys are now in 7.
        await run("SELECT", 15);
        await run("LPUSH", "list", "more");
        await run("SELECT", 9);
        await run("SET", "short-lived", 1);
        await run("FLUSHDB");
        const before = await datasets(s.port);
        expect(Object.keys(before)).toEqual(["0", "7", "15"]);
        c.close();
        await kill9(s);
        s = await ours(d);
        expectSameDatasets(await datasets(s.port), before, expect);
        const keys = Object.values(before).reduce((n, db) => n + Object.keys(db).length, 0);
        const c2 = await Conn.open(s.port);
        expect(String(await c2.cmd("INFO", "persistence"))).toContain(
          `aof_last_load_keys_loaded:${keys}\r\n`,
        );
        c2.close();
      });

      it("rewrites every database while writes, a FLUSHDB and a SWAPDB go on in several", async () => {
        const d = dir();
        let s = await ours(d);
        const c = await Conn.open(s.port);
        const run = runner(c);
        await fill(c);
        // Enough keys in database 0 for the walk to take many slices.
        for (let k = 0; k < 50000; k += 1000) {
          const kv: string[] = [];
          for (let j = k; j < k + 1000; j++) kv.push(`key:${j}`, String(j));
          await run("MSET", ...kv);
        }
        for (const db of [3, 15]) {
          await run("SELECT", db);
          await run("MSET", "counter", 0, "other", "x");
        }
        await run("SELECT", 8);
        await run("SET", "doomed", 1);
        // Sent at once, so that they run before the walk's first slices: a
        // SWAPDB (the walk starts again, from database 0) and a FLUSHDB of a
        // database it has not reached.
        const burst: (string | number)[][] = [
          ["BGREWRITEAOF"],
          ["SWAPDB", 3, 4],
          ["SELECT", 15],
          ["FLUSHDB"],
        ];
        const replies = await Promise.all(burst.map((a) => c.cmd(...a)));
        expect(replies.filter((r) => r instanceof Error)).toEqual([]);
        let during = 0;
        for (let i = 0; ; i++) {
          const info = String(await c.cmd("INFO", "persistence"));
          if (/aof_rewrite_in_progress:0/.test(info)) break;
          if (i === 0) {
            // While the walk is in database 0: a transaction that changes a key
            // of a database not walked yet and flushes another.
            const unit = [
              ["MULTI"],
              ["SELECT", 4],
              ["INCR", "counter"],
              ["SELECT", 8],
              ["FLUSHDB"],
            ];
            for (const a of [...unit, ["EXEC"]]) await run(...a);
          }
          for (const db of [0, 3, 15]) {
            await run("SELECT", db);
            await run("INCR", "counter");
            await run("INCR", `key:${(i * 7919) % 50000}`);
            await run("RPUSH", "list", i);
          }
          during++;
        }
        expect(during).toBeGreaterThan(0);
        const before = await datasets(s.port);
        expect(Object.keys(before)).toEqual(["0", "3", "4", "15"]);
        expect(read(d, "appendonly.aof.manifest")).toBe(
          "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n",
        );
        const base = read(d, "appendonly.aof.2.base.aof");
        for (const db of [0, 4]) expect(base).toContain(`*2\r\n$6\r\nSELECT\r\n$1\r\n${db}\r\n`);
        c.close();
        await kill9(s);
        s = await ours(d);
        expectSameDatasets(await datasets(s.port), before, expect);
      }, 60000);
    });
  });
}
