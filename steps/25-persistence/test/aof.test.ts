// aof.test.ts -- what is logged (as redis-server logs it), and how damage is handled at load.

import fs from "node:fs";
import path from "node:path";
import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";
import {
  aofDir,
  Conn,
  dataset,
  expectSameData,
  kill9,
  readAof as read,
  scratch,
  startRedisAof,
  startServer,
  until,
  writeEveryType,
} from "./aof-helpers.ts";

// Commands whose logged form differs from what was sent.
async function battery(port: number): Promise<void> {
  const c = await Conn.open(port);
  const other = await Conn.open(port);
  const run = async (...a: (string | number)[]) => {
    const r = await c.cmd(...a);
    if (r instanceof Error) throw new Error(`${a.join(" ")}: ${r.message}`);
  };
  await run("SET", "a", 1);
  await run("SET", "b", 2, "EX", 100);
  await run("SET", "c", 3, "NX", "PX", 5000, "GET");
  await run("EXPIRE", "a", 50);
  await run("EXPIRE", "a", 60, "GT");
  await run("PEXPIREAT", "a", 99999999999999);
  await run("PERSIST", "nokey");
  await run("GET", "a");
  await run("DEL", "nokey");
  await run("INCRBYFLOAT", "f", "1.5");
  await run("RPUSH", "l", "a", "b", "c");
  await run("BLPOP", "l", 0);
  await run("BLMOVE", "l", "l2", "LEFT", "RIGHT", 0);
  await run("BRPOPLPUSH", "l", "l3", 0);
  await run("XADD", "s", "*", "f", "v");
  await run("XADD", "s", "MAXLEN", "~", 10, "*", "f", "v");
  await run("XADD", "s", "LIMIT", 5, "MAXLEN", "~", 1, "*", "f", "v");
  await run("XTRIM", "s", "MINID", "~", "0-1", "LIMIT", 50);
  await run("XTRIM", "s", "MAXLEN", 1);
  await run("MULTI");
  await run("SET", "m", 1);
  await run("EXEC");
  await run("MULTI");
  await run("SET", "m", 2);
  await run("INCR", "m");
  await run("EXEC");
  await run("MULTI");
  await run("GET", "m");
  await run("EXEC");
  await run("EXPIRE", "m", -1);
  await run("GETDEL", "f");
  await run("SET", "e", 1, "PX", 1);
  await new Promise((r) => setTimeout(r, 20));
  await run("GET", "e"); // Expired: logged as its DEL.
  await run("SET", "g", 1, "EXAT", 1);
  // A BLPOP served later logs the pop it performed.
  const served = c.cmd("BLPOP", "bl", 5);
  await until(async () => String(await other.cmd("CLIENT", "LIST")).includes("cmd=blpop"), "BLPOP");
  await other.cmd("RPUSH", "bl", "v");
  await served;
  await run("FLUSHALL");
  await run("INCRBY", "q", 5);
  c.close();
  other.close();
}

// Times and stream IDs differ between two runs; everything else must not.
const normalize = (s: string) =>
  s.replace(/\d{13}-\d+/g, "<id>").replace(/\$13\r\n\d{13}\r\n/g, "$13\r\n<ms>\r\n");

// Since step 25: runs against step 25 and every later step of its track.
for (const step of corpusSteps(25)) {
  describe(step.name, () => {
    const { dir, ours, track } = scratch(step);

    describe("what is logged", () => {
      it("writes the same incremental file as redis-server 7.0.15 for the same commands", async () => {
        const mine = dir();
        const s = await ours(mine);
        await battery(s.port);
        await kill9(s);
        const theirs = dir();
        const redis = await startRedisAof(theirs);
        track(redis);
        await battery(redis.port);
        await redis.stop();
        for (const d of [mine, theirs]) {
          expect(read(d, "appendonly.aof.manifest")).toBe(
            "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
          );
          expect(read(d, "appendonly.aof.1.base.aof")).toBe("");
        }
        expect(normalize(read(mine, "appendonly.aof.1.incr.aof"))).toBe(
          normalize(read(theirs, "appendonly.aof.1.incr.aof")),
        );
      });

      it("logs nothing with appendonly no, and CONFIG GET tells the settings", async () => {
        const d = dir();
        const s = track(await startServer(step, d, ["--appendonly", "no"]));
        const c = await Conn.open(s.port);
        await c.cmd("SET", "k", "v");
        const got = (await c.cmd("CONFIG", "GET", "append*")) as string[];
        const pairs = got.flatMap((v, i) => (i % 2 === 0 ? [`${v}=${got[i + 1]}`] : [])).sort();
        expect(pairs).toEqual([
          "appenddirname=appendonlydir",
          "appendfilename=appendonly.aof",
          "appendfsync=everysec",
          "appendonly=no",
        ]);
        expect(fs.existsSync(aofDir(d))).toBe(false);
        c.close();
      });
    });

    describe("loading", () => {
      it("brings back every type after kill -9, and INFO persistence tells what was loaded", async () => {
        const d = dir();
        let s = await ours(d);
        let c = await Conn.open(s.port);
        await writeEveryType(c);
        const before = await dataset(s.port);
        c.close();
        await kill9(s);
        s = await ours(d);
        expectSameData(await dataset(s.port), before, expect);
        c = await Conn.open(s.port);
        const info = String(await c.cmd("INFO", "persistence"));
        expect(info).toMatch(/^# Persistence\r\n/);
        expect(info).toContain("aof_enabled:1\r\n");
        expect(info).toContain("aof_rewrite_in_progress:0\r\n");
        expect(info).toContain("aof_last_bgrewrite_status:ok\r\n");
        expect(info).toContain(`aof_last_load_keys_loaded:${Object.keys(before).length}\r\n`);
        c.close();
      });

      it("cuts off a torn last command, says so, and keeps everything before it", async () => {
        const d = dir();
        let s = await ours(d);
        const c = await Conn.open(s.port);
        await c.cmd("SET", "kept", "1");
        c.close();
        await kill9(s);
        const incr = path.join(aofDir(d), "appendonly.aof.1.incr.aof");
        const whole = fs.statSync(incr).size;
        fs.appendFileSync(incr, "*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$1"); // The power went here.
        s = await ours(d);
        expect(s.logs.join("\n")).toMatch(
          /short read while loading the AOF file appendonly\.aof\.1\.incr\.aof/,
        );
        expect(s.logs.join("\n")).toMatch(
          /AOF loaded anyway because aof-load-truncated is enabled/,
        );
        expect(fs.statSync(incr).size).toBe(whole);
        const c2 = await Conn.open(s.port);
        expect(await c2.cmd("GET", "kept")).toBe("1");
        expect(await c2.cmd("EXISTS", "lost")).toBe(0);
        expect(String(await c2.cmd("INFO", "persistence"))).toContain("aof_last_load_truncated:1");
        c2.close();
      });

      it("reverts a MULTI whose EXEC never reached the file", async () => {
        const d = dir();
        let s = await ours(d);
        await kill9(s);
        fs.appendFileSync(
          path.join(aofDir(d), "appendonly.aof.1.incr.aof"),
          "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n1\r\n",
        );
        s = await ours(d);
        const c = await Conn.open(s.port);
        expect(await c.cmd("EXISTS", "a", "b")).toBe(1);
        c.close();
      });

      it("refuses to start on corruption before the end, naming the file and the offset", async () => {
        const d = dir();
        const s = await ours(d);
        const c = await Conn.open(s.port);
        await c.cmd("SET", "a", "1");
        await c.cmd("SET", "b", "2");
        c.close();
        await kill9(s);
        const incr = path.join(aofDir(d), "appendonly.aof.1.incr.aof");
        const text = fs.readFileSync(incr, "latin1");
        const at = text.indexOf("*3", text.indexOf("*3") + 1); // The second SET.
        fs.writeFileSync(incr, `${text.slice(0, at)}garbage${text.slice(at)}`, "latin1");
        await expect(startServer(step, d)).rejects.toThrow(
          new RegExp(
            `Bad file format reading the append only file appendonly\\.aof\\.1\\.incr\\.aof at offset ${at}`,
          ),
        );
      });
    });
  });
}
