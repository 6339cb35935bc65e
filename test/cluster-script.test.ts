// cluster-script.test.ts -- `npm run cluster`, run as a reader runs it.
//
// The script starts a private Redis and three step 09 nodes, on free ports
// (--port 0), so the test never needs 7711-7713 or 6379. A line said on one
// node reaches a client on another; then the Redis is killed and restarted
// from the script's own terminal (k, r), and the nodes, which never
// stopped, carry the chat across nodes again. With --broker, the Redis is
// one of our own Redis steps.

import { afterEach, describe, expect, it } from "vitest";
import {
  closeAll,
  connectClient,
  type LineClient,
  type RunningProgram,
  startProgram,
} from "./src/harness.ts";
import { redisInstalled } from "./src/redis.ts";
import { listSteps } from "./src/steps.ts";

const CLUSTER = new URL("./bin/cluster.ts", import.meta.url);
const START_MS = 40000;

// The clients a test opened, and the script if a failure left it running
// (SIGTERM: it stops its nodes and its Redis on the way out).
afterEach(closeAll);

// Wait until every pattern has been printed, in any order (a node's log
// line and the script's own can come either way round).
async function printed(p: RunningProgram, patterns: RegExp[], timeoutMs = 20000): Promise<void> {
  const from = p.logs.length;
  const all = () => patterns.every((re) => p.logs.slice(from).some((l) => re.test(l)));
  if (!all()) await p.waitForLog(() => all(), timeoutMs);
}

// Start the script and wait for its summary: the ports the nodes got.
async function startCluster(args: string[]): Promise<{ p: RunningProgram; ports: number[] }> {
  const p = startProgram(CLUSTER, ["--port", "0", ...args]);
  const summary = await p.waitForLog(/^3 chat nodes of \S+ on ports /, START_MS);
  const ports = /on ports (\d+), (\d+), (\d+) /.exec(summary)!.slice(1).map(Number);
  return { p, ports };
}

// Quit with q, as a user would, and expect every child gone with it.
async function quit(p: RunningProgram): Promise<void> {
  p.write("q\n");
  expect(await p.exited).toBe(0);
}

// alice on the first node and bob on the second, both in #t, once bob's
// node hears #t in Redis.
async function twoNodes(p: RunningProgram, ports: number[]): Promise<[LineClient, LineClient]> {
  const a = await connectClient(ports[0]!);
  const b = await connectClient(ports[1]!);
  await a.send("/nick alice\n/join #t\n");
  await a.waitForLine("* now talking in #t");
  await b.send("/nick bob\n/join #t\n");
  await b.waitForLine("* now talking in #t");
  await printed(p, [new RegExp(`^\\[${ports[1]}\\] redis: subscribed to #t$`)]);
  return [a, b];
}

describe.runIf(redisInstalled())("npm run cluster", () => {
  it("relays across nodes; k kills the Redis, the nodes carry on, r restarts it", async () => {
    const { p, ports } = await startCluster([]);
    try {
      expect(p.logs).toContainEqual(expect.stringMatching(/^\[redis\] .*Ready to accept/));
      const [a, b] = await twoNodes(p, ports);
      await a.send("hello\n");
      expect(await b.waitForLine(/alice> /)).toBe("#t alice> hello");

      p.write("k\n");
      await printed(p, [
        /^\[redis\] killed by SIGKILL\. The nodes keep serving/,
        /^\[redis\] type k\+Enter to kill the Redis, r\+Enter to restart it/,
        ...ports.map((port) => new RegExp(`^\\[${port}\\] redis: cannot reach `)),
      ]);
      // The nodes are still there: a client of the first one still chats on it.
      const c = await connectClient(ports[0]!);
      await c.send("/nick carol\n/join #t\nlocal\n");
      expect(await a.waitForLine(/carol> /)).toBe("#t carol> local");
      expect(p.proc.exitCode).toBe(null);

      p.write("r\n");
      await printed(p, [
        /^\[redis\] redis-server is back on port \d+/,
        ...ports.map((port) => new RegExp(`^\\[${port}\\] redis: reconnected: `)),
      ]);
      await a.send("again\n");
      expect(await b.waitForLine(/alice> /)).toBe("#t alice> again");
      await quit(p);
    } finally {
      p.proc.kill("SIGTERM");
      await p.exited;
    }
  }, 120000);
});

describe("npm run cluster -- --broker", () => {
  const broker = listSteps().findLast((s) => s.track === "redis")!;

  it(`runs the nodes on step ${broker.name}'s server`, async () => {
    const { p, ports } = await startCluster(["--broker", String(broker.num)]);
    try {
      expect(p.logs).toContainEqual(expect.stringMatching(/^\[redis\] listening on 127\.0\.0\.1:/));
      expect(p.logs.join("\n")).toContain(`share the step ${broker.name} at redis://127.0.0.1:`);
      const [a, b] = await twoNodes(p, ports);
      await a.send("hello\n");
      expect(await b.waitForLine(/alice> /)).toBe("#t alice> hello");
      p.write("r\n");
      await printed(p, [
        /^\[redis\] killed by SIGKILL$/,
        new RegExp(`^\\[redis\\] step ${broker.name} is back on port`),
        ...ports.map((port) => new RegExp(`^\\[${port}\\] redis: reconnected: `)),
      ]);
      await a.send("again\n");
      expect(await b.waitForLine(/alice> /)).toBe("#t alice> again");
      await quit(p);
    } finally {
      p.proc.kill("SIGTERM");
      await p.exited;
    }
  }, 120000);

  it("--help prints the usage; a step that is not a Redis step, or a bad option, is refused", async () => {
    const help = startProgram(CLUSTER, ["--help"]);
    expect(await help.exited).toBe(0);
    expect(help.logs[0]).toMatch(/^usage: npm run cluster -- \[--port BASE\] \[--broker STEP\]/);
    for (const args of [["--broker", "05"], ["--bogus"], ["--port", "x"]]) {
      const bad = startProgram(CLUSTER, args);
      expect(await bad.exited).toBe(2);
      expect(bad.logs.join("\n")).toMatch(/^npm run cluster: .*\n(.*\n)*usage: npm run cluster/);
      expect(bad.logs.join("\n")).not.toMatch(/^\s+at /m);
    }
  });
});
