// cluster.ts -- `npm run cluster`: a redis-server and three chat nodes, to try step 08.
//
//   npm run cluster                 redis-server on a free port, nodes on 7711-7713
//   npm run cluster -- --port 8000  nodes on 8000-8002
//
// Everything runs in the foreground with its output prefixed ([redis],
// [7711], ...), and Ctrl-C stops it all. The redis-server is private: a
// free port, no persistence, never the machine's own 6379.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { freePort } from "../src/redis.ts";
import { listSteps } from "../src/steps.ts";

const NODES = 3;

const { values } = parseArgs({ options: { port: { type: "string", default: "7711" } } });
const basePort = Number(values.port);
const step = listSteps().findLast((s) => s.changes.includes("src/cluster.ts"));
if (step === undefined) fail("no step with src/cluster.ts (step 08) found");
if (spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status !== 0) {
  fail(
    "redis-server is not installed. On Debian/Ubuntu: sudo apt-get install redis-server\n" +
      "(macOS: brew install redis). Then run `npm run cluster` again.",
  );
}

function fail(message: string): never {
  console.error(`npm run cluster: ${message}`);
  process.exit(1);
}

const children: ChildProcess[] = [];
let stopping = false;

function stopAll(code: number): void {
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
  setTimeout(() => process.exit(code), 500).unref();
}
process.once("SIGINT", () => stopAll(0));
process.once("SIGTERM", () => stopAll(0));

// Start a program, prefix its output, and resolve when a line matches `ready`.
function run(name: string, cmd: string, args: string[], ready: RegExp): Promise<void> {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve) => {
    let partial = "";
    const onData = (chunk: Buffer) => {
      const parts = (partial + chunk.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        process.stdout.write(`[${name}] ${line}\n`);
        if (ready.test(line)) resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      if (stopping) return;
      console.error(`[${name}] exited with ${code}: stopping everything`);
      stopAll(1);
    });
  });
}

const redisPort = await freePort();
const redisArgs = ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", ""];
await run("redis", "redis-server", [...redisArgs, "--appendonly", "no"], /Ready to accept/);
const url = `redis://127.0.0.1:${redisPort}`;
const ports = Array.from({ length: NODES }, (_, i) => basePort + i);
await Promise.all(
  ports.map((port) =>
    run(
      String(port),
      process.execPath,
      ["--import", "tsx", step.server, "--port", String(port), "--redis", url],
      /^redis: connected/,
    ),
  ),
);
console.log(
  `\n${NODES} chat nodes of ${step.name} share the redis-server at ${url}.\n` +
    `Open two terminals and connect to two different nodes:\n\n` +
    `  nc localhost ${ports[0]}\n  nc localhost ${ports[1]}\n\n` +
    "Lines said in #lobby (or any channel you /join on both) cross nodes; try /nick, " +
    "/msg, /who, /names.\nPeek at Redis with: " +
    `redis-cli -p ${redisPort} --scan --pattern 'smallchat:*'\nCtrl-C stops everything.\n`,
);
