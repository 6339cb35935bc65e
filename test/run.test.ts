// run.test.ts -- `npm start` and `npm run client`: the right step, or a clear no.
//
// The scripts are run as a reader runs them. A SIGTERM to `npm start` must
// reach the server (its shutdown line, and no orphan left holding the
// port); a step that does not exist must be named as such, never taken for
// a host name.

import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { startProgram } from "./src/harness.ts";
import { listSteps, resolveRun, type Step } from "./src/steps.ts";

const RUN = new URL("./bin/run.ts", import.meta.url);
const ROOT = new URL("../", import.meta.url);

// Every process whose parent chain leads to `pid` (Linux: from /proc).
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {} // Gone meanwhile.
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, ppid] of parent) {
      if (ppid === p) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z "); // A zombie is gone.
  } catch {
    return false;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ port, host: "0.0.0.0" }, () => probe.close(() => resolve(true)));
  });
}

describe("npm start", () => {
  it.runIf(process.platform === "linux")(
    "passes SIGTERM to the server: it says goodbye, no process is left, the port is free",
    async () => {
      const proc = spawn("npm", ["start", "--", "05", "--port", "0"], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      const exited = new Promise<number | null>((resolve) => proc.once("exit", resolve));
      const listening = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line:\n${out}`)), 20000);
        for (const stream of [proc.stdout, proc.stderr]) {
          stream.on("data", (chunk: Buffer) => {
            out += chunk.toString();
            const m = /listening on .*:(\d+)\n/.exec(out);
            if (m) {
              clearTimeout(timer);
              resolve(Number(m[1]));
            }
          });
        }
      });
      const port = await listening;
      const below = descendants(proc.pid!);
      expect(below.length).toBeGreaterThan(0);
      proc.kill("SIGTERM");
      try {
        await exited;
        expect(out).toContain("SIGTERM received, shutting down");
        expect(below.filter(alive)).toEqual([]);
        expect(await canListen(port)).toBe(true);
      } finally {
        for (const pid of below.filter(alive)) process.kill(pid, "SIGKILL"); // Orphans of a failure.
      }
    },
  );
});

describe("choosing a step", () => {
  it("names a step that does not exist, and lists the real ones", async () => {
    for (const arg of ["99", "02-bufered-io"]) {
      const run = startProgram(RUN, ["server", arg]);
      expect(await run.exited).toBe(2);
      expect(run.logs[0]).toBe(`no such step: ${arg}`);
      expect(run.logs[1]).toMatch(/^the steps are: 01-naive-fanout 02-buffered-io /);
    }
  });

  it("says a step without a client has none, and where the first one is", async () => {
    const run = startProgram(RUN, ["client", "02"]);
    expect(await run.exited).toBe(2);
    expect(run.logs[0]).toMatch(
      /^step 02-buffered-io has no client; the first client is in step 04-proper-client/,
    );
  });

  it("passes host and port through, and picks the newest chat step by default", () => {
    const steps = listSteps();
    const chat = (n: number) => steps.filter((s) => s.num <= n && s.track === "chat");
    const fake = (num: number, track: Step["track"]): Step => ({
      ...steps.at(-1)!,
      num,
      name: `${num}-redis-thing`,
      track,
      server: `/steps/${num}/src/server.ts`,
      client: null,
    });
    const withRedis = [...steps, fake(98, "redis"), fake(99, "redis")];
    const newest = chat(99).at(-1)!;
    expect(resolveRun("server", [], withRedis)).toMatchObject({ step: newest, args: [] });
    expect(resolveRun("client", ["10.0.0.5", "7000"], withRedis)).toMatchObject({
      file: steps.findLast((s) => s.client !== null)!.client,
      args: ["10.0.0.5", "7000"],
    });
    expect(resolveRun("server", ["99", "--port", "1"], withRedis)).toMatchObject({
      step: { num: 99 },
      args: ["--port", "1"],
    });
    expect(resolveRun("server", ["5", "--port", "1"], steps)).toMatchObject({
      step: { name: "05-poll-loop" },
    });
  });
});
