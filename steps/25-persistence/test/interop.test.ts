// interop.test.ts -- our files and redis-server 7.0.15's are the same format: each loads the other's.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";
import {
  Conn,
  dataset,
  datasets,
  expectSameData,
  expectSameDatasets,
  kill9,
  type Redis,
  scratch,
  startRedisAof,
  startServer,
  writeEveryType,
} from "./aof-helpers.ts";

// BGREWRITEAOF, then wait on INFO (events, not time) until it is done.
async function rewrite(conn: Conn): Promise<void> {
  expect(await conn.cmd("BGREWRITEAOF")).toMatch(/^Background append only file rewriting/);
  while (
    /aof_rewrite_(in_progress|scheduled):1/.test(String(await conn.cmd("INFO", "persistence")))
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Keys of every type in databases 0, 3 and 15, moved by SWAPDB, one
// database flushed; `between` runs halfway (a rewrite, say).
async function severalDatabases(conn: Conn, between: () => Promise<void>): Promise<void> {
  for (const db of [0, 3, 15]) {
    await conn.cmd("SELECT", db);
    await conn.cmd("RPUSH", "before", db, "x");
    await conn.cmd("SET", "ttl-before", db, "EX", 1000);
  }
  await between();
  for (const db of [0, 3, 15]) {
    await conn.cmd("SELECT", db);
    await writeEveryType(conn);
  }
  await conn.cmd("SWAPDB", 3, 7);
  await conn.cmd("SELECT", 9);
  await conn.cmd("SET", "gone", 1);
  await conn.cmd("FLUSHDB");
  await conn.cmd("SELECT", 7);
  await conn.cmd("INCR", "after-swap");
}

// Since step 25: runs against step 25 and every later step of its track.
for (const step of corpusSteps(25)) {
  describe(step.name, () => {
    const { dir, track } = scratch(step);

    describe("AOF interoperability with redis-server 7.0.15", () => {
      it("redis-server loads the directory we wrote (base from a rewrite, then incr), key by key", async () => {
        const d = dir();
        const ours = await startServer(step, d);
        track(ours);
        const conn = await Conn.open(ours.port);
        await writeEveryType(conn);
        expect(await conn.cmd("BGREWRITEAOF")).toBe(
          "Background append only file rewriting started",
        );
        // Wait for the rewrite on events, not time: INFO says when it is done.
        while (/aof_rewrite_in_progress:1/.test(String(await conn.cmd("INFO", "persistence")))) {
          await new Promise((r) => setTimeout(r, 20));
        }
        // More writes after the rewrite go to the new incremental file.
        await conn.cmd("RPUSH", "list", "after-rewrite");
        await conn.cmd("SET", "late", "1", "PX", 900000);
        const expected = await dataset(ours.port);
        conn.close();
        await kill9(ours);

        const redis: Redis = await startRedisAof(d);
        track(redis);
        expectSameData(await dataset(redis.port), expected, expect);
        await redis.stop();
      });

      it("we load the directory redis-server wrote, key by key", async () => {
        const d = dir();
        const redis = await startRedisAof(d);
        track(redis);
        const conn = await Conn.open(redis.port);
        await writeEveryType(conn);
        await conn.cmd("MULTI");
        await conn.cmd("INCR", "counter");
        await conn.cmd("RPUSH", "list", "in-multi");
        await conn.cmd("EXEC");
        // Logged by Redis as "XADD trimmed MAXLEN = 1 LIMIT 5 <id> f v": an
        // exact trim with a LIMIT, which only its AOF may send.
        await conn.cmd("XADD", "trimmed", "MAXLEN", "~", "10", "LIMIT", "5", "*", "f", "v");
        conn.close();
        await redis.stop();
        // What redis-server itself makes of its files: the dataset to match
        // (some group fields, such as entries-read, do not survive its reload).
        const again = await startRedisAof(d);
        track(again);
        const expected = await dataset(again.port);
        await again.stop();

        const ours = await startServer(step, d);
        track(ours);
        expectSameData(await dataset(ours.port), expected, expect);
        await kill9(ours);
      });

      it("redis-server loads our directory with several databases, database by database", async () => {
        const d = dir();
        const ours = await startServer(step, d);
        track(ours);
        const conn = await Conn.open(ours.port);
        await severalDatabases(conn, () => rewrite(conn));
        const expected = await datasets(ours.port);
        expect(Object.keys(expected)).toEqual(["0", "7", "15"]);
        conn.close();
        await kill9(ours);

        const redis: Redis = await startRedisAof(d);
        track(redis);
        expectSameDatasets(await datasets(redis.port), expected, expect);
        await redis.stop();
      });

      it("we load redis-server's directory with several databases, database by database", async () => {
        const d = dir();
        const redis = await startRedisAof(d);
        track(redis);
        const conn = await Conn.open(redis.port);
        // Its rewrite comes before the streams: redis-server writes XSETID for
        // them, which we do not have (README, "Still naive").
        await severalDatabases(conn, () => rewrite(conn));
        conn.close();
        await redis.stop();
        const again = await startRedisAof(d);
        track(again);
        const expected = await datasets(again.port);
        expect(Object.keys(expected)).toEqual(["0", "7", "15"]);
        await again.stop();

        const ours = await startServer(step, d);
        track(ours);
        expectSameDatasets(await datasets(ours.port), expected, expect);
        // INFO counts what was loaded in every database.
        const keys = Object.values(expected).reduce((n, db) => n + Object.keys(db).length, 0);
        const c = await Conn.open(ours.port);
        expect(String(await c.cmd("INFO", "persistence"))).toContain(
          `aof_last_load_keys_loaded:${keys}\r\n`,
        );
        c.close();
        await kill9(ours);
      });
    });
  });
}
