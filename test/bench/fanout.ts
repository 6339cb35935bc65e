// fanout.ts -- the benchmark: N clients talking at once, every step's server measured.
//
// Each cell of the benchmark starts one step's server (a child process, as
// a reader starts it), connects N clients to it from a load process (see
// loadgen.c), makes every client send and every other client receive, and
// measures three things:
//
//   delivered msg/s  copies of messages received per second, all clients
//                    together: one line sent to 100 clients is 99 deliveries
//   latency          p50, p99, p99.9 and max, from the send time written in
//                    the message to receipt
//   loss             deliveries expected minus deliveries received, counted
//                    after the senders stop and the pipes drain
//
// Two modes. Flat-out: every client keeps a few messages in flight (a
// window) and sends a new one each time one arrives, so the server is
// always busy; this measures capacity. Fixed rate: the clients together
// offer a fixed number of deliveries per second, well below capacity; this
// measures latency at a load every step can carry (two rates by default:
// 20k and 100k deliveries/s).
//
// The anchor of every report is a real redis-server doing the same job with
// pub/sub ("step" redis): same clients, same marker lines, same rates, in
// the same run, so the ratios to it mean something on a noisy machine. With
// --pin (the default on a machine with two cores or more) the server under
// test runs on core 0 and the load on core 1, so neither steals the other's.
//
// Usage: npm run bench -- [--steps redis,02,03,05] [--clients 10,100] [--seconds 3]
//        [--quick] [--out test/bench/out] (see --help for the rest)

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { type RunningRedis, startRedis } from "../src/redis.ts";
import { formatTable, writeReport } from "./report.ts";
import { Histogram, median } from "./stats.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const STEPS_DIR = path.join(REPO, "steps");

/* ============================ Scenarios ===================================
 * What the clients do, as data. A topology says which lines a client sends
 * after connecting (its setup) and whom its messages reach: everybody in
 * the same group except the sender. The expected deliveries of a message
 * are the size of its sender's group minus one, so a topology with
 * channels needs nothing but the right groups.
 *
 * A scenario runs a topology over some steps, client counts and modes
 * (null means "whatever the command line says"). Step 08's channel rows
 * put 500 clients in 50 channels, then in one: the cost of a line is
 * O(members of its channel), so 50 channels of 10 should deliver like 10
 * clients, not like 500.
 *
 * Scenarios with setup lines get a sync round before the load (loadgen.c),
 * so no message is sent before every /join has taken effect.
 * ======================================================================== */

export interface Topology {
  /** Lines client `i` (of `n`) sends right after its welcome line. */
  setup(i: number, n: number): string[];
  /** Client `i`'s group: its messages reach the rest of the group. */
  group(i: number, n: number): number;
}

// The chat of steps 01-06: one room, everybody hears everybody.
export const EVERYONE: Topology = { setup: () => [], group: () => 0 };

// Step 08: client i joins channel #c<i mod n> and talks there.
export function channels(n: number): Topology {
  return { setup: (i) => [`/join #c${i % n}`], group: (i) => i % n };
}

export interface Scenario {
  name: string;
  topology: Topology;
  clients: number[] | null;
  modes: Mode[] | null;
  /** Step numbers ("08") this scenario runs on; null: every selected step. */
  steps: string[] | null;
  /** Step 09 on: run this many nodes on one private redis-server, clients split between them. */
  nodes?: number;
}

export const SCENARIOS: Scenario[] = [
  { name: "fan-out", topology: EVERYONE, clients: null, modes: null, steps: null },
  // 50 channels and 1 channel: step 08 only (redis would need its own setup).
  { name: "50 channels", topology: channels(50), clients: [500], modes: ["flat"], steps: ["08"] },
  { name: "1 channel", topology: channels(1), clients: [500], modes: ["flat"], steps: ["08"] },
  // Step 09: the same 100 clients in one channel, on one step 08 server,
  // then split over two step 09 nodes relaying through a real redis-server.
  { name: "1 channel, 1 node", topology: channels(1), clients: [100], modes: null, steps: ["08"] },
  {
    name: "1 channel, 2 nodes",
    topology: channels(1),
    clients: [100],
    modes: null,
    steps: ["09"],
    nodes: 2,
  },
];

/* ============================ Options ===================================== */

export interface Options {
  steps: string[]; // "02" or "02-buffered-io", or "redis"
  clients: number[];
  modes: Mode[];
  seconds: number; // Measured window of one cell.
  warmup: number; // Seconds of load before measuring.
  rates: number[]; // Fixed rate mode: offered deliveries/s, all clients together; one cell each.
  window: number; // Flat-out: deliveries in flight (lines x recipients), all clients.
  rt: boolean; // Fixed-rate cells: server main thread and load at SCHED_FIFO (chrt).
  repeat: number;
  baseline: string;
  pin: boolean; // Server on core 0, load on core 1 (taskset).
  out: string;
  scenarios: Scenario[];
}

const canPin = os.cpus().length >= 2 && spawnOk("taskset", ["-c", "0", "true"]);
// SCHED_FIFO needs root or CAP_SYS_NICE: where chrt fails, cells run as usual.
const RT_PRIORITY = 10;
const canRt = spawnOk("chrt", ["-f", String(RT_PRIORITY), "true"]);

export const DEFAULTS: Options = {
  steps: ["redis", "01", "02", "03", "05", "08", "09"],
  clients: [10, 100, 500],
  modes: ["flat", "rate"],
  seconds: 3,
  warmup: 3, // A Node server's JIT needs a few seconds of load to settle.
  rates: [20000, 100000],
  window: 10000,
  rt: canRt,
  repeat: 1,
  baseline: "redis",
  pin: canPin,
  out: path.join(REPO, "test/bench/out"),
  scenarios: SCENARIOS,
};

const HELP = `usage: npm run bench -- [options]
  --steps redis,01,02  steps to measure (default ${DEFAULTS.steps.join(",")}; missing ones are skipped;
                       redis is a private redis-server doing the same with pub/sub)
  --clients 10,100     client counts (default ${DEFAULTS.clients.join(",")})
  --modes flat,rate    flat-out and/or fixed rate (default both)
  --seconds N          measured seconds per cell (default ${DEFAULTS.seconds})
  --warmup N           warm-up seconds per cell (default ${DEFAULTS.warmup})
  --rate N,M           fixed rate: offered deliveries/s, one cell each (default ${DEFAULTS.rates.join(",")})
  --window N           flat-out: deliveries in flight, all clients (default ${DEFAULTS.window})
  --no-rt              fixed-rate cells: don't run the server's main thread and the load at
                       real-time priority (chrt -f; the default where allowed: see README.md)
  --repeat N           runs per cell, median reported (default ${DEFAULTS.repeat})
  --baseline NN        step for the "x vs NN" columns (default ${DEFAULTS.baseline})
  --no-pin             don't pin the server to core 0 and the load to core 1
  --out DIR            report directory (default test/bench/out)
  --quick              smoke run: steps redis,03,05, 10 clients, half-second cells`;

export function parseCli(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      steps: { type: "string" },
      clients: { type: "string" },
      modes: { type: "string" },
      seconds: { type: "string" },
      warmup: { type: "string" },
      rate: { type: "string" },
      window: { type: "string" },
      rt: { type: "boolean" },
      "no-rt": { type: "boolean" },
      repeat: { type: "string" },
      baseline: { type: "string" },
      pin: { type: "boolean" },
      "no-pin": { type: "boolean" },
      out: { type: "string" },
      quick: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const list = (s: string) => s.split(",").filter((x) => x.length > 0);
  const num = (s: string | undefined, dflt: number, min: number) => {
    if (s === undefined) return dflt;
    const n = Number(s);
    if (!Number.isFinite(n) || n < min) throw new Error(`not a number >= ${min}: ${s}`);
    return n;
  };
  // --quick only changes defaults: flags given next to it still win.
  const base: Options = values.quick
    ? { ...DEFAULTS, steps: ["redis", "03", "05"], clients: [10], seconds: 0.5, warmup: 0.2 }
    : DEFAULTS;
  const modes = values.modes ? list(values.modes) : base.modes;
  for (const m of modes) if (m !== "flat" && m !== "rate") throw new Error(`unknown mode: ${m}`);
  return {
    ...base,
    steps: values.steps ? list(values.steps) : base.steps,
    clients: values.clients ? list(values.clients).map((c) => num(c, 0, 2)) : base.clients,
    modes: modes as Mode[],
    seconds: num(values.seconds, base.seconds, 0.1),
    warmup: num(values.warmup, base.warmup, 0),
    rates: values.rate ? list(values.rate).map((r) => num(r, 0, 1)) : base.rates,
    window: num(values.window, base.window, 1),
    rt: values["no-rt"] ? false : (values.rt ?? base.rt),
    repeat: Math.floor(num(values.repeat, base.repeat, 1)),
    baseline: values.baseline ?? base.baseline,
    pin: values["no-pin"] ? false : (values.pin ?? base.pin),
    out: values.out ? path.resolve(values.out) : base.out,
  };
}

/* ============================ Steps ======================================= */

export interface Step {
  num: string; // "02", or "redis"
  name: string; // "02-buffered-io"
  server: string; // Path of its server.ts ("" for redis).
}

export const REDIS = "redis";

// Find the wanted steps among steps/*; explain the ones that are missing.
export function findSteps(wanted: string[], notes: string[]): Step[] {
  const dirs = fs.existsSync(STEPS_DIR) ? fs.readdirSync(STEPS_DIR).sort() : [];
  const found: Step[] = [];
  for (const w of wanted) {
    if (w === REDIS) {
      found.push({ num: REDIS, name: "redis-server (pub/sub)", server: "" });
      continue;
    }
    const dir = dirs.find((d) => d === w || d.startsWith(`${w}-`));
    const server = dir ? path.join(STEPS_DIR, dir, "src/server.ts") : "";
    if (!dir || !fs.existsSync(server)) {
      notes.push(`step ${w}: no ${dir ? `${dir}/src/server.ts` : "folder"} yet, skipped`);
      continue;
    }
    const lesson = JSON.parse(
      fs.readFileSync(path.join(STEPS_DIR, dir, "package.json"), "utf8"),
    ).lesson;
    if (lesson?.track === "redis") {
      notes.push(`step ${w}: a Redis server, not a chat: skipped (npm run bench:resp measures it)`);
      continue;
    }
    found.push({ num: dir.slice(0, 2), name: dir, server });
  }
  return found;
}

/* ============================ The server ==================================
 * Started like the harness starts it (one node process, tsx as a loader,
 * port 0), with one difference: its output goes to a file, not to a pipe
 * we read. Steps print every message they relay, and on Linux a write to
 * a pipe is synchronous: if we were slow to read it, the server would
 * block on its own console and we would be measuring our reading.
 * ======================================================================== */

interface Server {
  port: number;
  pid: number | undefined;
  logFile: string;
  stop(): Promise<void>;
}

function spawnOk(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

// Pin every thread of a process to one core. Node has helper threads
// (libuv's pool, V8's compiler and GC): -a moves them all.
function pinTo(pid: number | undefined, core: number): void {
  if (pid !== undefined) spawnOk("taskset", ["-a", "-c", "-p", String(core), String(pid)]);
}

// Real-time priority (SCHED_FIFO) for a server: every thread a notch
// below the load, then the main thread (its thread id is its pid) at the
// load's. V8's helper threads (the optimising compiler, the GC's) then run
// whenever the main thread sleeps, ahead of other processes but never in
// its way; left at normal priority behind a real-time main thread, they
// would wait for the rest of the machine, and the main thread for them
// (README.md).
function setRealtime(pid: number | undefined): void {
  if (pid === undefined) return;
  spawnOk("chrt", ["-a", "-f", "-p", String(RT_PRIORITY - 5), String(pid)]);
  spawnOk("chrt", ["-f", "-p", String(RT_PRIORITY), String(pid)]);
}

// A private redis-server (test/src/redis.ts), the same one the tests use.
async function startRedisServer(): Promise<Server> {
  const redis = await startRedis();
  return { port: redis.port, pid: redis.pid, logFile: "", stop: () => redis.stop() };
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

let tmpDir: string | null = null;

// The node flags of the step's `npm start` ("node --single-threaded-gc
// --import tsx src/server.ts"): the bench runs the server as a reader does.
export function nodeFlags(step: Step): string[] {
  const pkg = JSON.parse(
    fs.readFileSync(path.join(path.dirname(path.dirname(step.server)), "package.json"), "utf8"),
  );
  const words: string[] = String(pkg.scripts?.start ?? "").split(/\s+/);
  if (words[0] !== "node") return [];
  const flags: string[] = [];
  for (let i = 1; i < words.length && words[i]!.startsWith("--"); i++) {
    if (words[i] === "--import")
      i++; // tsx: we pass it ourselves.
    else flags.push(words[i]!);
  }
  return flags;
}

async function startServer(step: Step, args: string[] = []): Promise<Server> {
  tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "smallchat-bench-"));
  const logFile = path.join(tmpDir, `${step.num}-${Date.now()}.log`);
  const fd = fs.openSync(logFile, "w");
  const proc = spawn(
    process.execPath,
    [
      ...nodeFlags(step),
      "--import",
      "tsx",
      step.server,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      ...args,
    ],
    { stdio: ["ignore", fd, fd], cwd: path.dirname(path.dirname(step.server)) },
  );
  fs.closeSync(fd);
  children.add(proc);
  const exited = new Promise<void>((resolve) =>
    proc.once("exit", () => {
      children.delete(proc);
      resolve();
    }),
  );
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
    fs.rmSync(logFile, { force: true });
  };
  const deadline = Date.now() + 15000;
  for (;;) {
    const head = fs.readFileSync(logFile, "utf8").slice(0, 4096);
    const m = /^listening on .*:(\d+)$/m.exec(head);
    if (m) return { port: Number(m[1]), pid: proc.pid, logFile, stop };
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      const why = proc.exitCode !== null ? `exited with ${proc.exitCode}` : "no listening line";
      throw new Error(`${why}: ${head.trim().split("\n").slice(-3).join(" | ")}`);
    }
    await sleep(25);
  }
}

// CPU seconds the server has used so far, from /proc (Linux only; NaN
// elsewhere). Together with the load's own CPU it tells who is the
// bottleneck: the server should be near 100% of a core, the load below.
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })) || 100;
  } catch {
    return 100;
  }
})();

function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
  } catch {
    return Number.NaN;
  }
}

// Seconds the main thread of a process spent runnable but not running: it
// had work, and another process had its core (Linux schedstat; NaN
// elsewhere). On a shared machine this is where a tail of milliseconds
// comes from: a time slice of a neighbour is 3 or 4 ms.
function waitSeconds(pid: number | undefined): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8");
    return Number(stat.split(" ")[1]) / 1e9;
  } catch {
    return Number.NaN;
  }
}

// How many clients did the server drop for not reading (steps 02+)?
function countDrops(logFile: string): number {
  if (logFile === "") return 0;
  try {
    if (fs.statSync(logFile).size > 256 * 1024 * 1024) return Number.NaN;
    return fs.readFileSync(logFile, "utf8").match(/output buffer/g)?.length ?? 0;
  } catch {
    return Number.NaN;
  }
}

/* ============================ The load ====================================
 * loadgen.c, compiled on first use into out/bin (cc -O2): one C process
 * holds every client of a cell in one epoll loop, pinned to core 1. It
 * used to be a Node process, and a Node process measuring a 0.2 ms tail
 * adds one of its own (README.md, "How precise is the load").
 *
 * It reads the cell's configuration on stdin and answers on stdout, one
 * line each: "ready" (connected, set up, synced), "measuring" (the measured
 * window starts), "stopped" (it ends; now draining), "report {json}" or
 * "error <why>". We read the server's CPU and wait counters at "measuring"
 * and "stopped", so they cover exactly the measured window.
 * ======================================================================== */

export type Mode = "flat" | "rate";

/** What the server speaks: our chat's lines, or RESP pub/sub to redis-server. */
export type Protocol = "chat" | "resp";

/** What loadgen.c reports for a cell (its "report" line). */
export interface LoadReport {
  /** Measured messages sent, and the deliveries they should cause. */
  sent: number;
  expected: number;
  /** Measured messages received (their markers). */
  received: number;
  /** Deliveries of any phase received in each slice of the measured window. */
  slices: number[];
  sliceMs: number;
  /** Latency histogram of measured messages, microseconds (stats.ts buckets). */
  latency: number[];
  /** CPU time the load used during the measured window / its length. */
  cpu: number;
  /** Connections the server closed on us. */
  closed: number;
  /** Markers that started but made no sense (cut by the server). */
  corrupt: number;
}

const LOADGEN_SRC = fileURLToPath(new URL("./loadgen.c", import.meta.url));
const LOADGEN_BIN = path.join(REPO, "test/bench/out/bin/loadgen");

// Compile loadgen.c unless the binary is newer than the source.
export function buildLoadgen(): string {
  const fresh =
    fs.existsSync(LOADGEN_BIN) &&
    fs.statSync(LOADGEN_BIN).mtimeMs >= fs.statSync(LOADGEN_SRC).mtimeMs;
  if (!fresh) {
    fs.mkdirSync(path.dirname(LOADGEN_BIN), { recursive: true });
    const tmp = `${LOADGEN_BIN}.${process.pid}`;
    execFileSync("cc", ["-O2", "-Wall", "-o", tmp, LOADGEN_SRC], { stdio: "inherit" });
    fs.renameSync(tmp, LOADGEN_BIN);
  }
  return LOADGEN_BIN;
}

interface LoadConfig {
  protocol: Protocol;
  mode: Mode;
  rate: number; // Deliveries/s, all clients together.
  window: number; // Flat-out: lines in flight, all clients together.
  warmupMs: number;
  measureMs: number;
  slices: number;
  ports: number[]; // One per node: client i talks to node i / ceil(n / nodes).
  groups: number[];
  setup: string[][];
}

class LoadProcess {
  private lines: string[] = [];
  private wake: (() => void) | null = null;
  private exited = false;
  private stderr = "";

  private constructor(readonly proc: ChildProcess) {
    let buf = "";
    proc.stdout!.setEncoding("utf8");
    proc.stdout!.on("data", (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
        this.lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      this.wake?.();
    });
    proc.stderr!.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    proc.once("exit", () => {
      this.exited = true;
      children.delete(proc);
      this.wake?.();
    });
  }

  // Start one cell's load, pinned to core 1, and hand it its configuration.
  static start(cfg: LoadConfig, opts: Options, rt: boolean): LoadProcess {
    const bin = buildLoadgen();
    const cmd: string[] = [];
    if (opts.pin) cmd.push("taskset", "-c", "1");
    if (rt) cmd.push("chrt", "-f", String(RT_PRIORITY));
    cmd.push(bin);
    const proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    children.add(proc);
    const text = [
      `proto ${cfg.protocol}`,
      `mode ${cfg.mode}`,
      `rate ${cfg.rate}`,
      `window ${cfg.window}`,
      `warmup_ms ${Math.round(cfg.warmupMs)}`,
      `measure_ms ${Math.round(cfg.measureMs)}`,
      `slices ${cfg.slices}`,
      ...cfg.ports.map((p) => `port ${p}`),
      ...cfg.groups.map((g, i) => ["client", [g, ...(cfg.setup[i] ?? [])].join("\t")].join(" ")),
    ].join("\n");
    proc.stdin!.end(`${text}\n`);
    return new LoadProcess(proc);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  // The next line the load says, "report" parsed; throws on "error".
  async next(expect: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.exited) throw new Error(`load process exited ${this.stderr.trim()}`.trim());
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`load process: no "${expect}" in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    const line = this.lines.shift()!;
    if (line.startsWith("error ")) throw new Error(line.slice(6));
    if (!line.startsWith(expect)) throw new Error(`load process said "${line.slice(0, 80)}"`);
    return line;
  }

  stop(): void {
    if (!this.exited) this.proc.kill("SIGKILL");
  }
}

/* ============================ One cell ==================================== */

export interface Cell {
  step: Step;
  scenario: Scenario;
  clients: number;
  mode: Mode;
  rate: number; // Fixed rate: offered deliveries/s (0 flat-out).
}

export interface CellResult {
  step: string;
  scenario: string;
  clients: number;
  mode: Mode;
  /** Fixed rate: offered deliveries/s; flat-out: deliveries in flight. */
  offered: number;
  delivered: number; // Median over slices (and repeats) of deliveries/s.
  p50: number; // ms
  p99: number; // ms
  p999: number; // ms
  max: number; // ms
  sent: number;
  expected: number;
  received: number;
  loss: number;
  serverCpu: number; // Fraction of one core.
  loadCpu: number; // Fraction of one core, busiest load process.
  serverWait: number; // Fraction of the window the server waited for a core.
  loadWait: number; // The same for the load process that waited most.
  closed: number; // Connections the server closed during the run.
  corrupt: number; // Markers cut apart by the server.
  drops: number; // Clients the server dropped as slow readers.
  error?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// Measure one cell once: server up, clients in, load, drain, numbers.
async function measureOnce(cell: Cell, opts: Options) {
  const n = cell.clients;
  const topo = cell.scenario.topology;
  const groups = Array.from({ length: n }, (_, i) => topo.group(i, n));
  const setup = Array.from({ length: n }, (_, i) => topo.setup(i, n));
  const groupSize = new Map<number, number>();
  for (const g of groups) groupSize.set(g, (groupSize.get(g) ?? 0) + 1);
  // Deliveries of one line from each client. Redis pub/sub delivers to the
  // sender's own subscriber as well (see loadgen.c).
  const protocol: Protocol = cell.step.num === REDIS ? "resp" : "chat";
  const self = protocol === "resp" ? 0 : 1;
  const recipients = groups.reduce((sum, g) => sum + (groupSize.get(g) ?? 1) - self, 0);
  // Real-time priority for the latency cells only: a flat-out cell keeps
  // both cores busy, and at SCHED_FIFO it would starve everything else on
  // the machine for its whole length.
  const rt = opts.rt && cell.mode === "rate";

  const { servers, stopAll } = await startNodes(cell);
  if (opts.pin) for (const s of servers) pinTo(s.pid, 0);
  if (rt) for (const s of servers) setRealtime(s.pid);
  const slices = Math.max(1, Math.round(opts.seconds * 2)); // Half-second slices.
  const load = LoadProcess.start(
    {
      protocol,
      mode: cell.mode,
      rate: cell.rate,
      // Flat-out: the same deliveries in flight whatever the client count,
      // so every cell queues the same amount of work.
      window: Math.max(1, Math.round(opts.window / Math.max(1, recipients / n))),
      warmupMs: opts.warmup * 1000,
      measureMs: opts.seconds * 1000,
      slices,
      ports: servers.map((s) => s.port),
      groups,
      setup,
    },
    opts,
    rt,
  );
  try {
    await load.next("ready", 60000);
    await load.next("measuring", opts.warmup * 1000 + 10000);
    const cpuStart = servers.reduce((sum, s) => sum + cpuSeconds(s.pid), 0);
    const waitStart = servers.reduce((sum, s) => sum + waitSeconds(s.pid), 0);
    const loadWaitStart = waitSeconds(load.pid);
    const wallStart = performance.now();
    await load.next("stopped", opts.seconds * 1000 + 10000);
    const wall = (performance.now() - wallStart) / 1000;
    const serverCpu = (servers.reduce((sum, s) => sum + cpuSeconds(s.pid), 0) - cpuStart) / wall;
    const serverWait = (servers.reduce((sum, s) => sum + waitSeconds(s.pid), 0) - waitStart) / wall;
    const loadWait = (waitSeconds(load.pid) - loadWaitStart) / wall;
    // The load drains by itself: until every expected delivery is in, or
    // nothing has arrived for a second (it never will), or 20 s passed.
    const line = await load.next("report ", 30000);
    const report = JSON.parse(line.slice("report ".length)) as LoadReport;
    const drops = servers.reduce((sum, s) => sum + countDrops(s.logFile), 0);
    return {
      reports: [report],
      expected: report.expected,
      serverCpu,
      serverWait,
      loadWait,
      closed: report.closed,
      drops,
      slices,
    };
  } finally {
    load.stop();
    await stopAll();
  }
}

// The cell's server, or with `nodes` several nodes of the step on one
// private redis-server, each connected to it before the clients come.
async function startNodes(cell: Cell): Promise<{ servers: Server[]; stopAll(): Promise<void> }> {
  const count = cell.scenario.nodes ?? 1;
  if (count <= 1) {
    const server =
      cell.step.num === REDIS ? await startRedisServer() : await startServer(cell.step);
    return { servers: [server], stopAll: () => server.stop().catch(() => {}) };
  }
  const redis: RunningRedis = await startRedis();
  const servers: Server[] = [];
  const stopAll = async () => {
    await Promise.all(servers.map((s) => s.stop().catch(() => {})));
    await redis.stop();
  };
  try {
    for (let i = 0; i < count; i++) {
      const server = await startServer(cell.step, ["--redis", redis.url]);
      servers.push(server);
      const deadline = Date.now() + 10000;
      while (!/^redis: connected/m.test(fs.readFileSync(server.logFile, "utf8").slice(0, 4096))) {
        if (Date.now() > deadline) throw new Error("node did not connect to redis-server");
        await sleep(25);
      }
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { servers, stopAll };
}

// Measure a cell once and turn the load's reports into numbers.
export async function runCell(cell: Cell, opts: Options): Promise<CellResult> {
  const m = await measureOnce(cell, opts);
  const hist = new Histogram();
  const slices = new Array<number>(m.slices).fill(0);
  for (const rep of m.reports) {
    hist.add(rep.latency);
    rep.slices.forEach((c, i) => {
      slices[i]! += c;
    });
  }
  const sliceSeconds = (m.reports[0]?.sliceMs ?? 1000) / 1000;
  const sum = (f: (r: LoadReport) => number) => m.reports.reduce((s, r) => s + f(r), 0);
  const received = sum((r) => r.received);
  return {
    step: cell.step.num,
    scenario: cell.scenario.name,
    clients: cell.clients,
    mode: cell.mode,
    offered: cell.mode === "rate" ? cell.rate : opts.window,
    delivered: median(slices.map((c) => c / sliceSeconds)),
    p50: hist.percentile(0.5) / 1000,
    p99: hist.percentile(0.99) / 1000,
    p999: hist.percentile(0.999) / 1000,
    max: hist.percentile(1) / 1000,
    sent: sum((r) => r.sent),
    expected: m.expected,
    received,
    loss: m.expected - received,
    serverCpu: m.serverCpu,
    loadCpu: Math.max(...m.reports.map((r) => r.cpu)),
    serverWait: m.serverWait,
    loadWait: m.loadWait,
    closed: m.closed,
    corrupt: sum((r) => r.corrupt),
    drops: m.drops,
  };
}

// The runs of one cell as one row: medians, except for what must add up.
function combine(runs: CellResult[]): CellResult {
  const failed = runs.find((r) => r.error);
  if (failed) return failed;
  const first = runs[0]!;
  const med = (f: (r: CellResult) => number) => median(runs.map(f));
  const total = (f: (r: CellResult) => number) => runs.reduce((s, r) => s + f(r), 0);
  return {
    ...first,
    delivered: med((r) => r.delivered),
    p50: med((r) => r.p50),
    p99: med((r) => r.p99),
    p999: med((r) => r.p999),
    max: med((r) => r.max),
    serverCpu: med((r) => r.serverCpu),
    loadCpu: med((r) => r.loadCpu),
    serverWait: med((r) => r.serverWait),
    loadWait: med((r) => r.loadWait),
    // Loss is never a median: one lost message in any run is a lost message.
    sent: total((r) => r.sent),
    expected: total((r) => r.expected),
    received: total((r) => r.received),
    loss: total((r) => r.loss),
    closed: total((r) => r.closed),
    corrupt: total((r) => r.corrupt),
    drops: total((r) => r.drops),
  };
}

/* ============================ The whole run =============================== */

export interface RunResult {
  results: CellResult[];
  /** The machine's 1-minute load average when the run started. */
  loadAverage: number;
  notes: string[];
  seconds: number;
  opts: Options;
}

// Run every cell of every scenario. `progress` gets one line per event
// (the CLI prints them on stderr; a test may ignore them).
export async function runBenchmark(
  opts: Options,
  progress: (line: string) => void = () => {},
): Promise<RunResult> {
  const t0 = performance.now();
  const loadAverage = os.loadavg()[0] ?? 0;
  const notes: string[] = [];
  // Two cores and one of them is ours to measure with: other work on the
  // machine moves every number. Say so where the numbers are read.
  if (loadAverage > os.cpus().length / 2) {
    notes.push(
      `the machine was busy when the run started (load average ${loadAverage.toFixed(1)} on ${os.cpus().length} cores): numbers are low and noisy`,
    );
  }
  const steps = findSteps(opts.steps, notes);
  for (const note of notes) progress(note);
  // The steps of one condition (clients, mode, rate) run back to back, and
  // --repeat runs the whole list again rather than one cell three times: on
  // a shared machine the load of the neighbours drifts, and what a ratio
  // needs is its two rows measured under the same drift.
  const cells: Cell[] = [];
  for (const scenario of opts.scenarios) {
    for (const clients of scenario.clients ?? opts.clients) {
      for (const mode of scenario.modes ?? opts.modes) {
        for (const rate of mode === "flat" ? [0] : opts.rates) {
          for (const step of steps) {
            if (scenario.steps && !scenario.steps.includes(step.num)) continue;
            cells.push({ step, scenario, clients, mode, rate });
          }
        }
      }
    }
  }
  const perCell = (opts.warmup + opts.seconds + 1) * opts.repeat;
  progress(`${cells.length} cells, about ${Math.ceil((cells.length * perCell) / 10) * 10} s`);

  const runs: CellResult[][] = cells.map(() => []);
  const broken = new Set<string>(); // Steps whose server does not start.
  try {
    for (let round = 0; round < opts.repeat; round++) {
      for (const [k, cell] of cells.entries()) {
        const label = `[${round * cells.length + k + 1}/${cells.length * opts.repeat}] step ${cell.step.num}, ${cell.clients} clients, ${modeName(cell)}`;
        if (broken.has(cell.step.num)) continue;
        try {
          const r = await runCell(cell, opts);
          runs[k]!.push(r);
          progress(
            `${label}: ${Math.round(r.delivered)} msg/s, p99 ${r.p99.toFixed(2)} ms,` +
              ` p99.9 ${r.p999.toFixed(2)} ms, max ${r.max.toFixed(2)} ms, loss ${r.loss}` +
              ` (server cpu ${pct(r.serverCpu)}, load cpu ${pct(r.loadCpu)},` +
              ` waited for a core ${pct(r.serverWait)}/${pct(r.loadWait)})`,
          );
        } catch (err) {
          const message = (err as Error).message;
          if (/exited with|no listening line|redis-server/.test(message)) {
            broken.add(cell.step.num);
            const note = `step ${cell.step.num}: server failed to start (${message}), skipped`;
            notes.push(note);
            progress(note);
            continue;
          }
          progress(`${label}: error: ${message}`);
          runs[k]!.push({
            step: cell.step.num,
            scenario: cell.scenario.name,
            clients: cell.clients,
            mode: cell.mode,
            offered: cell.mode === "rate" ? cell.rate : opts.window,
            delivered: Number.NaN,
            p50: Number.NaN,
            p99: Number.NaN,
            p999: Number.NaN,
            max: Number.NaN,
            sent: 0,
            expected: 0,
            received: 0,
            loss: Number.NaN,
            serverCpu: Number.NaN,
            loadCpu: Number.NaN,
            serverWait: Number.NaN,
            loadWait: Number.NaN,
            closed: 0,
            corrupt: 0,
            drops: 0,
            error: message,
          });
        }
      }
    }
  } finally {
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
    tmpDir = null;
  }
  // Report order: by step (redis first), then as the cells were listed.
  const order = (step: string) => (step === REDIS ? "" : step);
  const results = cells
    .map((_, k) => runs[k]!)
    .filter((rs) => rs.length > 0)
    .map(combine)
    .map((r, i) => ({ r, i }))
    .sort((a, b) => order(a.r.step).localeCompare(order(b.r.step)) || a.i - b.i)
    .map(({ r }) => r);
  return { results, loadAverage, notes, seconds: (performance.now() - t0) / 1000, opts };
}

function modeName(cell: Cell): string {
  const mode = cell.mode === "flat" ? "flat-out" : `fixed rate ${cell.rate}/s`;
  return cell.scenario.topology === EVERYONE ? mode : `${mode}, ${cell.scenario.name}`;
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${Math.round(x * 100)}%` : "?";
}

/* ============================ Main ======================================== */

async function main(): Promise<void> {
  let opts: Options;
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n${HELP}`);
    process.exit(2);
  }
  process.once("SIGINT", () => process.exit(130)); // 'exit' kills the children.
  const run = await runBenchmark(opts, (line) => process.stderr.write(`${line}\n`));
  console.log(formatTable(run.results, opts.baseline));
  const files = writeReport(run);
  process.stderr.write(
    `${run.seconds.toFixed(0)} s; report: ${path.relative(process.cwd(), files.report)}\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  void main();
}
