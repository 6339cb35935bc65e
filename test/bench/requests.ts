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
// Usage: npm run bench:requests -- [--step 27] [--requests 200000] [--repeat 3]
//        [--tests ping,set,get,incr,mset,xadd] [--pipelines 1,16]
//        [--cpu-prof DIR]   (profile our server: node --cpu-prof into DIR)
//        [--memory N]       (also: RSS growth for N SET keys and N XADD entries)
//
// On a machine with two cores or more both servers run on core 0 and
// redis-benchmark on core 1 (taskset), as the fan-out bench pins them.
// "xadd" is `XADD s * f v`: redis-benchmark 7.0 has no -t for it.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { parseArgs } from "node:util";
import { freePort } from "../src/redis.ts";
import { findStep, listSteps, type Step } from "../src/steps.ts";

const USAGE =
  "usage: npm run bench:requests -- [--step 27] [--requests N] [--repeat N]" +
  " [--tests ping,set,get,incr,mset,xadd] [--pipelines 1,16] [--cpu-prof DIR] [--memory N]";

// Core 0 for the servers, core 1 for the load; no pinning on one core.
const PIN = os.cpus().length >= 2;
const pinned = (core: number, cmd: string, args: string[]): [string, string[]] =>
  PIN ? ["taskset", ["-c", String(core), cmd, ...args]] : [cmd, args];

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

// The node flags of the step's `npm start` ("node --single-threaded-gc
// --import tsx src/server.ts"), as fanout.ts runs it: as a reader does.
function nodeFlags(step: Step): string[] {
  const pkg = JSON.parse(readFileSync(`${step.dir}package.json`, "utf8"));
  const words: string[] = String(pkg.scripts?.start ?? "").split(/\s+/);
  const flags: string[] = [];
  for (let i = 1; words[0] === "node" && i < words.length && words[i]!.startsWith("--"); i++) {
    if (words[i] === "--import")
      i++; // tsx: passed below.
    else flags.push(words[i]!);
  }
  return flags;
}

async function startOurs(
  server: string,
  flags: string[],
  cpuProf: string | undefined,
): Promise<Target> {
  const port = await freePort();
  const prof = cpuProf === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", cpuProf];
  const [cmd, args] = pinned(0, process.execPath, [
    ...flags, // As the step's `npm start` runs it.
    ...prof,
    "--import",
    "tsx",
    server,
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
  ]);
  const proc = spawn(cmd, args, { stdio: "ignore" });
  await ready(port, proc);
  return { label: "ours", port, proc };
}

async function startRedis(): Promise<Target> {
  const port = await freePort();
  const [cmd, args] = pinned(0, "redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ]);
  const proc = spawn(cmd, args, { stdio: "ignore" });
  await ready(port, proc);
  return { label: "redis", port, proc };
}

interface Result {
  rps: number;
  p99: number; // ms
  // Requests per second of the server's CPU time: on a shared machine, where
  // a neighbour can take the server's core, the capacity that still compares.
  perCpu: number;
}

// CPU seconds a process has used so far (user + system), Linux.
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime: clock ticks.
}

// One redis-benchmark run: requests per second and p99 by test name.
// Each test runs as a redis-benchmark of its own, so the server's CPU time
// can be split by test ("lrange" is LPUSH then LRANGE_*: they share one).
// "xadd" is a command; the other tests go through -t.
async function benchmark(
  pid: number,
  port: number,
  tests: string,
  requests: number,
  pipeline: number,
  extra: string[] = [],
): Promise<Map<string, Result>> {
  const base = ["-h", "127.0.0.1", "-p", String(port), "-c", "50", "-n", String(requests)];
  base.push("-P", String(pipeline), "--csv", ...extra);
  const names = tests.split(",");
  const runs = names.map((t) =>
    t === "xadd" ? [...base, "XADD", "s", "*", "f", "v"] : [...base, "-t", t],
  );
  const out = new Map<string, Result>();
  for (const args of runs) {
    const [cmd, argv] = pinned(1, "redis-benchmark", args);
    const cpuBefore = cpuSeconds(pid);
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(cmd, argv, { maxBuffer: 1 << 20 }, (err, text) =>
        err ? reject(err) : resolve(text),
      );
    });
    const cpu = cpuSeconds(pid) - cpuBefore;
    const rows = stdout
      .split("\n")
      .slice(1)
      .map((line) => [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]!))
      .filter((cells) => cells.length >= 7);
    const perCpu = cpu > 0 ? (requests * rows.length) / cpu : 0;
    for (const cells of rows) {
      const name = cells[0]!.startsWith("XADD") ? "XADD" : cells[0]!;
      out.set(name, { rps: Number(cells[1]), p99: Number(cells[6]), perCpu });
    }
  }
  return out;
}

// Resident memory of a process, in bytes (Linux).
function rss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

// RSS growth for `n` SET keys (redis-benchmark -t set -r n: random keys,
// about 63% of them distinct) and for `n` entries XADDed to one stream.
async function memory(t: Target, n: number): Promise<[sets: number, stream: number]> {
  const settle = () => new Promise((r) => setTimeout(r, 2000));
  await settle();
  const idle = rss(t.proc.pid!);
  await benchmark(t.proc.pid!, t.port, "set", n, 16, ["-r", String(n)]);
  await settle();
  const afterSets = rss(t.proc.pid!);
  await benchmark(t.proc.pid!, t.port, "xadd", n, 16);
  await settle();
  return [afterSets - idle, rss(t.proc.pid!) - afterSets];
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
  const ours = await startOurs(step.server, nodeFlags(step), values["cpu-prof"]);
  const redis = await startRedis();
  const rows: string[][] = [];
  const mem: string[] = [];
  try {
    for (const p of pipelines) {
      const runs = new Map<string, Map<string, Result[]>>(); // label -> test -> results
      for (let r = 0; r < repeat; r++) {
        for (const t of [ours, redis]) {
          const res = await benchmark(t.proc.pid!, t.port, values.tests, requests, p);
          const byTest = runs.get(t.label) ?? new Map<string, Result[]>();
          for (const [test, v] of res) byTest.set(test, [...(byTest.get(test) ?? []), v]);
          runs.set(t.label, byTest);
        }
      }
      for (const test of runs.get("redis")!.keys()) {
        const a = runs.get("ours")!.get(test) ?? [];
        const b = runs.get("redis")!.get(test) ?? [];
        const [ar, br] = [median(a.map((x) => x.rps)), median(b.map((x) => x.rps))];
        const [ap, bp] = [median(a.map((x) => x.p99)), median(b.map((x) => x.p99))];
        const [ac, bc] = [median(a.map((x) => x.perCpu)), median(b.map((x) => x.perCpu))];
        rows.push([
          test,
          `-P ${p}`,
          ar.toFixed(0),
          br.toFixed(0),
          (ar / br).toFixed(2),
          ap.toFixed(3),
          bp.toFixed(3),
          (ap / bp).toFixed(2),
          ac.toFixed(0),
          bc.toFixed(0),
          (ac / bc).toFixed(2),
        ]);
      }
    }
    if (values.memory !== undefined) {
      // Fresh servers: the keys of the runs above would count otherwise.
      const n = Number(values.memory);
      for (const t of [ours, redis]) t.proc.kill("SIGTERM");
      const fresh = [await startOurs(step.server, nodeFlags(step), undefined), await startRedis()];
      try {
        const [o, r] = [await memory(fresh[0]!, n), await memory(fresh[1]!, n)];
        const mb = (x: number) => `${(x / 1e6).toFixed(1)} MB`;
        mem.push(
          `RSS growth, ${n} SET (-r ${n}): ours ${mb(o[0])}, redis ${mb(r[0])}, ratio ${(o[0] / r[0]).toFixed(2)}`,
        );
        mem.push(
          `RSS growth, ${n} XADD: ours ${mb(o[1])}, redis ${mb(r[1])}, ratio ${(o[1] / r[1]).toFixed(2)}`,
        );
      } finally {
        for (const t of fresh) t.proc.kill("SIGTERM");
      }
    }
  } finally {
    ours.proc.kill("SIGINT"); // SIGINT: --cpu-prof writes its profile on a clean exit.
    redis.proc.kill("SIGTERM");
  }
  const header = [
    "test",
    "pipeline",
    "ours req/s",
    "redis req/s",
    "ratio",
    "ours p99 ms",
    "redis p99 ms",
    "p99 ratio",
    "ours req/cpu-s",
    "redis req/cpu-s",
    "cpu ratio",
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
  for (const m of mem) console.log(m);
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
      memory: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) throw new Error("");
  for (const n of [values.requests, values.repeat, values.memory ?? "1"]) {
    if (!/^[1-9]\d*$/.test(n)) throw new Error(`not a positive integer: ${n}`);
  }
  return values;
}

void main();
