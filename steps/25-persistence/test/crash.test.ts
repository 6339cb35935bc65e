// crash.test.ts -- kill -9 under load loses nothing acknowledged; with "always" no reply leaves before its fsync.

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { nodeArgs } from "@smallchat/test/compiled";
import { corpusSteps } from "@smallchat/test/corpus";
import type { Step } from "@smallchat/test/steps";
import { afterEach, describe, expect, it } from "vitest";
import { Conn, SERVER, tempDir } from "./aof-helpers.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

// Run the server under strace (every write, writev and fsync, each line
// prefixed by the thread that made it), let 20 clients send `sets` SETs
// each, kill it, and return the trace's lines and the main thread's id.
async function traced(
  step: Step,
  fsync: string,
  sets: number,
): Promise<{ lines: string[]; main: string }> {
  const dir = tempDir();
  dirs.push(dir);
  const trace = path.join(dir, "strace.txt");
  const proc = spawn("strace", [
    ...["-f", "-y", "-e", "trace=write,writev,fsync,fdatasync", "-s", "65536", "-o", trace],
    process.execPath,
    ...nodeArgs(SERVER(step), [
      ...["--host", "127.0.0.1", "--port", "0"],
      ...["--appendonly", "yes", "--dir", dir, "--appendfsync", fsync],
    ]),
  ]);
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /listening on .*:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once("exit", (code) => reject(new Error(`strace exited with ${code}`)));
  });
  const clients = await Promise.all(Array.from({ length: 20 }, () => Conn.open(port)));
  await Promise.all(
    clients.map(async (c, i) => {
      for (let n = 0; n < sets; n++) expect(await c.cmd("SET", `k${i}`, n)).toBe("OK");
    }),
  );
  const info = String(await clients[0]!.cmd("INFO", "server"));
  for (const c of clients) c.close();
  const main = /process_id:(\d+)/.exec(info)![1]!;
  await new Promise<void>((resolve) => {
    proc.once("exit", () => resolve()); // strace ends with its tracee.
    process.kill(Number(main), "SIGKILL");
  });
  return { lines: fs.readFileSync(trace, "utf8").split("\n"), main };
}

// Since step 25: runs against step 25 and every later step of its track.
for (const step of corpusSteps(25)) {
  describe(step.name, async () => {
    // The step's own crash-test script: it starts the step's server.
    const { runCrashTest } = (await import(
      `${step.dir}scripts/crash-test.ts`
    )) as typeof import("../scripts/crash-test.ts");

    describe("kill -9 under load", () => {
      it("every acknowledged INCR, LPUSH and XADD is there after each restart (a kill during a rewrite too)", async () => {
        // The short version of `npm run crash-test` (20 kills, 50 clients).
        const r = await runCrashTest({
          rounds: 3,
          clients: 20,
          fsync: "always",
          preload: 30000,
          maxRunMs: 400,
        });
        expect(r.acked).toBeGreaterThan(0);
        expect(r.rewrites).toBe(1);
      }, 60000);
    });

    describe("appendfsync", () => {
      // The order of system calls is the proof: strace records every write to
      // the AOF, every fsync, and every write to a client socket. A reply may
      // leave only after an fsync that follows the last AOF write before it.
      it("always: fsyncs before any reply leaves, once per loop iteration for all clients (group commit)", async () => {
        const sets = 10;
        const { lines } = await traced(step, "always", sets);
        // Each reply must come after the fsync of a write holding its SET: at
        // every reply, the SETs written and fsynced are at least the replies sent.
        let written = 0;
        let synced = 0;
        let fsyncs = 0;
        let replies = 0;
        for (const line of lines) {
          if (/(write|writev)\(\d+<[^>]*incr\.aof>/.test(line)) {
            written += line.match(/\$3\\r\\nSET\\r\\n/gi)?.length ?? 0;
          } else if (/fsync\(\d+<[^>]*incr\.aof>/.test(line) && !line.includes("unfinished")) {
            synced = written;
            fsyncs++;
          } else if (/(write|writev)\(\d+<socket:/.test(line)) {
            replies += line.match(/\+OK/g)?.length ?? 0;
            expect(synced, `a reply left before its fsync: ${line}`).toBeGreaterThanOrEqual(
              replies,
            );
          }
        }
        expect(replies).toBe(20 * sets);
        // 200 SETs; one fsync per iteration serves every client of it.
        expect(fsyncs).toBeGreaterThan(0);
        expect(fsyncs).toBeLessThan(20 * sets);
      }, 30000);

      it("everysec: the loop never calls fsync; a thread of libuv's pool does", async () => {
        const { lines, main } = await traced(step, "everysec", 30);
        const fsyncs = lines.filter((l) => /fsync\(\d+<[^>]*incr\.aof>/.test(l));
        const writes = lines.filter((l) => /write\(\d+<[^>]*incr\.aof>/.test(l));
        expect(writes.length).toBeGreaterThan(0);
        expect(writes.every((l) => l.startsWith(`${main} `))).toBe(true);
        expect(fsyncs.length).toBeGreaterThan(0);
        expect(fsyncs.filter((l) => l.startsWith(`${main} `))).toEqual([]);
      }, 30000);
    });
  });
}
