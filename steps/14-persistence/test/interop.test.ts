// interop.test.ts -- our files and redis-server 7.0.15's are the same format: each loads the other's.

import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  Conn,
  dataset,
  expectSameData,
  kill9,
  type Redis,
  startRedisAof,
  startServer,
  tempDir,
  writeEveryType,
} from "./aof-helpers.ts";

const dirs: string[] = [];
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill("SIGKILL");
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

describe("AOF interoperability with redis-server 7.0.15", () => {
  it("redis-server loads the directory we wrote (base from a rewrite, then incr), key by key", async () => {
    const d = dir();
    const ours = await startServer(d);
    procs.push(ours.proc);
    const conn = await Conn.open(ours.port);
    await writeEveryType(conn);
    expect(await conn.cmd("BGREWRITEAOF")).toBe("Background append only file rewriting started");
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
    procs.push(redis.proc);
    expectSameData(await dataset(redis.port), expected, expect);
    await redis.stop();
  });

  it("we load the directory redis-server wrote, key by key", async () => {
    const d = dir();
    const redis = await startRedisAof(d);
    procs.push(redis.proc);
    const conn = await Conn.open(redis.port);
    await writeEveryType(conn);
    await conn.cmd("MULTI");
    await conn.cmd("INCR", "counter");
    await conn.cmd("RPUSH", "list", "in-multi");
    await conn.cmd("EXEC");
    conn.close();
    await redis.stop();
    // What redis-server itself makes of its files: the dataset to match
    // (some group fields, such as entries-read, do not survive its reload).
    const again = await startRedisAof(d);
    procs.push(again.proc);
    const expected = await dataset(again.port);
    await again.stop();

    const ours = await startServer(d);
    procs.push(ours.proc);
    expectSameData(await dataset(ours.port), expected, expect);
    await kill9(ours);
  });
});
