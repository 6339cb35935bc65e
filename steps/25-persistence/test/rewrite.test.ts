// rewrite.test.ts -- rewriting while serving: BGREWRITEAOF, and the automatic rewrite.

import fs from "node:fs";
import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";
import {
  aofDir,
  Conn,
  dataset,
  expectSameData,
  kill9,
  readAof as read,
  rewriteDone,
  scratch,
  until,
  writeEveryType,
} from "./aof-helpers.ts";

// Since step 25: runs against step 25 and every later step of its track.
for (const step of corpusSteps(25)) {
  describe(step.name, () => {
    const { dir, ours } = scratch(step);

    describe("rewriting", () => {
      it("compacts while serving: writes made during the rewrite are all there after a restart", async () => {
        const d = dir();
        let s = await ours(d);
        const c = await Conn.open(s.port);
        for (let k = 0; k < 20000; k += 1000) {
          const kv: string[] = [];
          for (let j = k; j < k + 1000; j++) kv.push(`key:${j}`, String(j));
          await c.cmd("MSET", ...kv);
        }
        await writeEveryType(c);
        for (let i = 0; i < 100; i++) await c.cmd("INCR", "counter"); // 100 lines for one number.
        expect(await c.cmd("BGREWRITEAOF")).toBe("Background append only file rewriting started");
        expect(await c.cmd("BGREWRITEAOF")).toEqual(
          new Error("ERR Background append only file rewriting already in progress"),
        );
        // Meanwhile: change keys the walk has and has not reached yet.
        let during = 0;
        for (let i = 0; !(await rewriteDone(c)()); i++) {
          await c.cmd("INCR", `key:${(i * 7919) % 20000}`);
          await c.cmd("DEL", `key:${(i * 104729) % 20000}`);
          await c.cmd("RPUSH", "list", i);
          await c.cmd("XADD", "stream", "*", "i", i);
          await c.cmd("SET", `new:${i}`, i);
          during++;
        }
        expect(during).toBeGreaterThan(0);
        const before = await dataset(s.port);
        expect(read(d, "appendonly.aof.manifest")).toBe(
          "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n",
        );
        expect(fs.readdirSync(aofDir(d)).sort()).toEqual([
          "appendonly.aof.2.base.aof",
          "appendonly.aof.2.incr.aof",
          "appendonly.aof.manifest",
        ]);
        expect(read(d, "appendonly.aof.2.base.aof")).toContain(
          "*3\r\n$3\r\nSET\r\n$7\r\ncounter\r\n$3\r\n100\r\n",
        );
        c.close();
        await kill9(s);
        s = await ours(d);
        expectSameData(await dataset(s.port), before, expect);
      }, 60000);

      it("starts by itself when the file has grown past auto-aof-rewrite-min-size and -percentage", async () => {
        const d = dir();
        const s = await ours(d, [
          "--auto-aof-rewrite-min-size",
          "20000",
          "--auto-aof-rewrite-percentage",
          "100",
        ]);
        const c = await Conn.open(s.port);
        // Pipelined: the file grows by the same 1,000 logged INCRs (~40 KB),
        // and the server's cron, ten times a second, sees it past both limits.
        const replies = await Promise.all(Array.from({ length: 1000 }, () => c.cmd("INCR", "n")));
        expect(replies.at(-1)).toBe(1000);
        await until(
          async () => String(await c.cmd("INFO", "persistence")).includes("aof_rewrites:1"),
          "a rewrite",
        );
        await until(rewriteDone(c), "the rewrite to finish");
        expect(read(d, "appendonly.aof.manifest")).toContain("appendonly.aof.2.base.aof");
        c.close();
      });
    });
  });
}
