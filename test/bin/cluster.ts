// cluster.ts -- `npm run cluster`: a Redis and three chat nodes, to try step 09.
//
//   npm run cluster                   redis-server on a free port, nodes on 7711-7713
//   npm run cluster -- --port 8000    nodes on 8000-8002 (--port 0: any three free ports)
//   npm run cluster -- --broker 24    the nodes on step 24's server instead of redis-server
//
// Everything runs in the foreground with its output prefixed ([redis],
// [7711], ...). The Redis is private: a free port, no persistence, never the
// machine's own 6379. Step 09's real lesson is its faults, so the Redis can
// be killed and started again while the nodes keep running: type a command
// and Enter in this terminal.
//
//   k, kill      kill the Redis (SIGKILL, as a crash): the nodes carry on alone
//   r, restart   start the Redis again, on the same port (killing it first if it runs)
//   q, quit      stop everything (Ctrl-C does too)

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { freePort } from "../src/redis.ts";
import { findStep, listSteps, type Step } from "../src/steps.ts";

const NODES = 3;
const USAGE =
  "usage: npm run cluster -- [--port BASE] [--broker STEP]\n" +
  "  --port BASE    the nodes listen on BASE, BASE+1, BASE+2 (default 7711; 0: any free ports)\n" +
  "  --broker STEP  run the nodes on a Redis-track step's server (e.g. 24), not redis-server";
const COMMANDS = "type k+Enter to kill the Redis, r+Enter to restart it, q+Enter to quit";

function fail(message: string, code = 1): never {
  console.error(`npm run cluster: ${message}`);
  process.exit(code);
}

function parseOptions(steps: Step[]): { basePort: number; broker: Step | null } {
  let values: { port: string; broker?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string", default: "7711" },
        broker: { type: "string" },
        help: { type: "boolean" },
      },
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`, 2);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const basePort = Number(values.port);
  if (!Number.isInteger(basePort) || basePort < 0 || basePort > 65535 - NODES) {
    fail(`invalid --port: ${values.port}\n${USAGE}`, 2);
  }
  if (values.broker === undefined) return { basePort, broker: null };
  const broker = findStep(steps, values.broker);
  if (broker === undefined || broker.track !== "redis") {
    const redisSteps = steps.filter((s) => s.track === "redis").map((s) => s.name);
    fail(`--broker must be a Redis-track step: ${redisSteps.join(" ")}\n${USAGE}`, 2);
  }
  return { basePort, broker };
}

const steps = listSteps();
const { basePort, broker } = parseOptions(steps);
// The newest step that has the chat nodes: step 09 (a later step may list
// src/cluster.ts in its lesson because it deletes it).
const step = steps.findLast((s) => s.track === "chat" && existsSync(`${s.dir}src/cluster.ts`));
if (step === undefined) fail("no step with src/cluster.ts (step 09) found");
if (broker === null && spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status !== 0) {
  fail(
    "redis-server is not installed. On Debian/Ubuntu: sudo apt-get install redis-server\n" +
      "(macOS: brew install redis), or run the nodes on our own: npm run cluster -- --broker 24",
  );
}

/* ============================ Children ==================================== */

interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<void>;
}

const nodes = new Set<Child>();
let redis: Child | null = null;
const running = new Set<ChildProcess>(); // Every child not yet exited, whatever its state.
let stopping = false;

// Start a program with its output prefixed by [name]. Resolves once a line
// matches `ready`; rejects if the program exits first.
function run(
  name: string,
  cmd: string,
  args: string[],
  ready: RegExp,
  onExit: (child: Child, how: string) => void,
): Promise<Child> {
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  running.add(proc);
  let exited!: () => void;
  const child: Child = { name, proc, exited: new Promise((r) => (exited = r)) };
  return new Promise((resolve, reject) => {
    let isReady = false;
    for (const stream of [proc.stdout, proc.stderr]) {
      let partial = "";
      stream.on("data", (chunk: Buffer) => {
        const parts = (partial + chunk.toString("utf8")).split("\n");
        partial = parts.pop() ?? "";
        for (const line of parts) {
          process.stdout.write(`[${name}] ${line}\n`);
          if (!isReady && ready.test(line)) {
            isReady = true;
            resolve(child);
          }
        }
      });
    }
    proc.once("error", (err) => reject(new Error(`[${name}] cannot start ${cmd}: ${err.message}`)));
    proc.once("exit", (code, signal) => {
      running.delete(proc);
      exited();
      const how = signal ? `killed by ${signal}` : `exited with ${code}`;
      if (!isReady) reject(new Error(`[${name}] ${how} before it was ready`));
      else if (!stopping) onExit(child, how);
    });
  });
}

// Stop every child (SIGTERM, then SIGKILL for one still there after 3 s),
// wait until they are gone, then exit.
async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const all = [...running];
  const gone = all.map((proc) => new Promise((r) => proc.once("exit", r)));
  for (const proc of all) proc.kill("SIGTERM");
  const late = setTimeout(() => {
    for (const proc of all) proc.kill("SIGKILL");
  }, 3000);
  await Promise.all(gone);
  clearTimeout(late);
  process.exit(code);
}
process.once("SIGINT", () => void stopAll(0));
process.once("SIGTERM", () => void stopAll(0));

/* ============================ The Redis =================================== */

const redisPort = await freePort();
const url = `redis://127.0.0.1:${redisPort}`;
const brokerName = broker === null ? "redis-server" : `step ${broker.name}`;

function startRedis(): Promise<Child> {
  const onExit = (c: Child, how: string) => {
    if (redis !== c) return console.log(`[redis] ${how}`); // Killed by r, to restart.
    redis = null;
    console.log(
      `[redis] ${how}. The nodes keep serving their own clients; watch their log lines.\n` +
        `[redis] ${COMMANDS}.`,
    );
  };
  if (broker === null) {
    const args = ["--port", String(redisPort), "--bind", "127.0.0.1"];
    return run(
      "redis",
      "redis-server",
      [...args, "--save", "", "--appendonly", "no"],
      /Ready to accept/,
      onExit,
    );
  }
  const args = ["--import", "tsx", broker.server, "--host", "127.0.0.1", "--port", `${redisPort}`];
  return run("redis", process.execPath, args, /^listening on /, onExit);
}

let restarting = false;

async function restartRedis(): Promise<void> {
  if (restarting) return;
  restarting = true;
  const old = redis;
  redis = null;
  if (old !== null) {
    old.proc.kill("SIGKILL");
    await old.exited;
  }
  try {
    redis = await startRedis();
    console.log(
      `[redis] ${brokerName} is back on port ${redisPort}, empty: watch the nodes reconnect`,
    );
  } catch (err) {
    console.log(`${(err as Error).message}; r+Enter tries again`);
  }
  restarting = false;
}

/* ============================ Start =========================================== */

try {
  redis = await startRedis();
  const ports = Array.from({ length: NODES }, (_, i) => basePort + i);
  if (basePort === 0) {
    ports.length = 0;
    while (ports.length < NODES) {
      const port = await freePort();
      if (!ports.includes(port) && port !== redisPort) ports.push(port);
    }
  }
  await Promise.all(
    ports.map(async (port) => {
      const args = ["--import", "tsx", step.server, "--port", String(port), "--redis", url];
      const node = await run(
        String(port),
        process.execPath,
        args,
        /^redis: connected/,
        (c, how) => {
          nodes.delete(c);
          console.log(`[${c.name}] ${how}; ${nodes.size} nodes left`);
          if (nodes.size === 0) void stopAll(1);
        },
      );
      nodes.add(node);
    }),
  );
  console.log(
    `\n${NODES} chat nodes of ${step.name} on ports ${ports.join(", ")} share the ${brokerName} at ${url}.\n` +
      "Open two terminals and connect to two different nodes:\n\n" +
      `  nc localhost ${ports[0]}\n  nc localhost ${ports[1]}\n\n` +
      "Lines said in #lobby (or any channel you /join on both) cross nodes; try /nick, " +
      "/msg, /who, /names.\nPeek at Redis with: " +
      `redis-cli -p ${redisPort} --scan --pattern 'smallchat:*'\n` +
      `Then break it: ${COMMANDS} (Ctrl-C stops everything too).\n`,
  );
} catch (err) {
  console.error(`npm run cluster: ${(err as Error).message}: stopping everything`);
  await stopAll(1);
}

/* ============================ Commands ======================================== */

// One command per line. Input that ends (stdin not a terminal, or closed)
// just means no more commands: the cluster runs until Ctrl-C.
createInterface({ input: process.stdin }).on("line", (line) => {
  const command = line.trim().toLowerCase();
  if (command === "" || stopping) return;
  if (command === "k" || command === "kill") {
    if (redis === null) console.log("[redis] is not running: r+Enter starts it");
    else redis.proc.kill("SIGKILL");
  } else if (command === "r" || command === "restart") {
    void restartRedis();
  } else if (command === "q" || command === "quit") {
    void stopAll(0);
  } else {
    console.log(`unknown command ${JSON.stringify(command)}: ${COMMANDS}`);
  }
});
