// requests.ts -- the request/response benchmark: redis-benchmark against a step's server and a
// real redis-server, side by side in one run.
//
// The fan-out benchmark (fanout.ts) measures a chat; a Redis is measured
// by how many requests per second it answers. redis-benchmark is the
// standard tool: 50 clients, each sending one request and waiting for the
// reply (-P 1), or sending 16 at a time (-P 16: pipelining, where the cost
// of parsing and replying shows instead of the cost of a round trip).
//
// Both servers run on the same busy machine in the same minutes, and the
// rounds alternate (ours, Redis, ours, Redis...), so the ratio is fairer
// than either number. Each cell reports the median of `--repeat` rounds.
//
// Usage: npm run bench:requests -- [--step 25] [--requests 200000] [--repeat 3]
//        [--tests ping,set,get,incr,mset] [--pipelines 1,16]
//        [--cpu-prof DIR]   (profile our server: node --cpu-prof into DIR)

import { type ChildProcess, execFile, spawn } from "node:child_process";
import net from "node:net";
import os from "node:os";
import { parseArgs } from "node:util";
import { freePort } from "../src/redis.ts";
import { findStep, listSteps } from "../src/steps.ts";

const USAGE =
  "usage: npm run bench:requests -- [--step 25] [--requests N] [--repeat N]" +
  " [--tests ping,set,get,incr,mset] [--pipelines 1,16] [--cpu-prof DIR]";

// Resolve once something accepts connections on `port`.
async function ready(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server on ${port} exited with ${proc.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port} after 20 s`);
}

interface Target {
  label: string;
  port: number;
  proc: ChildProcess;
}

async function startOurs(server: string, cpuProf: string | undefined): Promise<Target> {
  const port = await freePort();
  const prof = cpuProf === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", cpuProf];
  const proc = spawn(
    process.execPath,
    [...prof, "--import", "tsx", server, "--host", "127.0.0.1", "--port", String(port)],
    { stdio: "ignore" },
  );
  await ready(port, proc);
  return { label: "ours", port, proc };
}

async function startRedis(): Promise<Target> {
  const port = await freePort();
  const proc = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  await ready(port, proc);
  return { label: "redis", port, proc };
}

// One redis-benchmark run: requests per second by test name.
function benchmark(
  port: number,
  tests: string,
  requests: number,
  pipeline: number,
): Promise<Map<string, number>> {
  const args = ["-h", "127.0.0.1", "-p", String(port), "-c", "50", "-n", String(requests)];
  args.push("-P", String(pipeline), "-t", tests, "--csv");
  return new Promise((resolve, reject) => {
    execFile("redis-benchmark", args, { maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) {
        reject(err);
        return;
      }
      const rps = new Map<string, number>();
      for (const line of stdout.split("\n").slice(1)) {
        const m = /^"([^"]+)","([\d.]+)"/.exec(line);
        if (m) rps.set(m[1]!, Number(m[2]));
      }
      resolve(rps);
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  let values: ReturnType<typeof parseOptions>;
  try {
    values = parseOptions();
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const step = findStep(listSteps(), values.step);
  if (step === undefined || step.track !== "redis") {
    console.error(`no Redis step ${values.step}\n${USAGE}`);
    process.exit(2);
  }
  const requests = Number(values.requests);
  const repeat = Number(values.repeat);
  const pipelines = values.pipelines.split(",").map(Number);
  const load = os.loadavg().map((x) => x.toFixed(2));
  console.log(
    `${step.name} vs redis-server, redis-benchmark -c 50 -n ${requests} -t ${values.tests}` +
      `, median of ${repeat}; ${os.cpus().length} cores, load average ${load.join(" ")}`,
  );
  const ours = await startOurs(step.server, values["cpu-prof"]);
  const redis = await startRedis();
  const rows: string[][] = [];
  try {
    for (const p of pipelines) {
      const runs = new Map<string, Map<string, number[]>>(); // label -> test -> rps
      for (let r = 0; r < repeat; r++) {
        for (const t of [ours, redis]) {
          const rps = await benchmark(t.port, values.tests, requests, p);
          const byTest = runs.get(t.label) ?? new Map<string, number[]>();
          for (const [test, v] of rps) byTest.set(test, [...(byTest.get(test) ?? []), v]);
          runs.set(t.label, byTest);
        }
      }
      for (const test of runs.get("redis")!.keys()) {
        const a = median(runs.get("ours")!.get(test) ?? []);
        const b = median(runs.get("redis")!.get(test) ?? []);
        rows.push([test, `-P ${p}`, a.toFixed(0), b.toFixed(0), (a / b).toFixed(2)]);
      }
    }
  } finally {
    ours.proc.kill("SIGINT"); // SIGINT: --cpu-prof writes its profile on a clean exit.
    redis.proc.kill("SIGTERM");
  }
  const header = ["test", "pipeline", "ours req/s", "redis req/s", "ratio"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
  console.log(
    `load average after: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      step: { type: "string", default: "16" },
      requests: { type: "string", default: "200000" },
      repeat: { type: "string", default: "3" },
      tests: { type: "string", default: "ping,set,get,incr,mset" },
      pipelines: { type: "string", default: "1,16" },
      "cpu-prof": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) throw new Error("");
  for (const n of [values.requests, values.repeat]) {
    if (!/^[1-9]\d*$/.test(n)) throw new Error(`not a positive integer: ${n}`);
  }
  return values;
}

void main();
