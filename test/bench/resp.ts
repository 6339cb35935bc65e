// resp.ts -- `npm run bench:resp`: pub/sub fan-out in RESP, a Redis step against a real redis-server.
//
// N subscribers (10, 100, 500) on one channel and one publisher, over
// loopback, in two modes: flat-out (the publisher keeps about 10,000
// deliveries in flight, pipelining PUBLISH) measures capacity; fixed rate
// (20,000 deliveries/s offered whatever N) measures latency at a load both
// servers carry. The same load process runs against the step's server and
// against redis-server in the same run, so the ratio means something even
// on a busy machine.
//
// Every message is the same size and carries its send time at a fixed
// place, so a subscriber counts frames and finds a send time by arithmetic
// instead of parsing (the load must stay cheaper than the servers it
// measures): latency is sampled once per read, from its oldest message. Loss is the
// sum of PUBLISH's receiver counts minus the messages received, after the
// publisher stops and the sockets drain.
//
// Usage: npm run bench:resp -- [--step 17] [--clients 10,100,500] [--seconds 3] [--modes flat,rate]

import { type ChildProcess, fork, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import { parseArgs } from "node:util";
import { freePort } from "../src/redis.ts";
import { findStep, listSteps } from "../src/steps.ts";
import { Histogram } from "./stats.ts";

type Mode = "flat" | "rate";

interface Job {
  port: number;
  subscribers: number;
  mode: Mode;
  warmupMs: number;
  measureMs: number;
  inFlight: number; // Flat-out: deliveries kept in flight.
  rate: number; // Fixed rate: deliveries per second.
}

interface Result {
  deliveries: number;
  perSecond: number;
  p50: number;
  p99: number;
  expected: number;
  received: number;
  loss: number;
}

/* ============================ The load process ============================ */

const CHANNEL = "bench";
const PAYLOAD_BYTES = 32; // 16 digits of send time (µs), then padding.
const FRAME = (payload: string) =>
  `*3\r\n$7\r\nmessage\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n$${payload.length}\r\n${payload}\r\n`;
const FRAME_BYTES = FRAME("x".repeat(PAYLOAD_BYTES)).length;
const TIME_AT = FRAME_BYTES - 2 - PAYLOAD_BYTES;

const nowMicros = () => Number(process.hrtime.bigint() / 1000n);
const cmd = (...a: string[]) =>
  `*${a.length}\r\n${a.map((x) => `$${x.length}\r\n${x}\r\n`).join("")}`;

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, noDelay: true });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

async function runLoad(job: Job): Promise<Result> {
  const hist = new Histogram();
  let measuring = false;
  let measured = 0;
  let received = 0;
  // Subscribers: count frames, read the send time of each.
  const subs: net.Socket[] = [];
  for (let i = 0; i < job.subscribers; i++) {
    const s = await connect(job.port);
    await new Promise<void>((resolve) => {
      let skip = -1; // Bytes of the subscribe confirmation still to skip.
      let offset = 0; // Position inside the current message frame.
      s.on("data", (d: Buffer) => {
        let p = 0;
        if (skip === -1) {
          // The first bytes are the confirmation: ["subscribe", channel, 1].
          skip = `*3\r\n$9\r\nsubscribe\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n:1\r\n`.length;
          resolve();
        }
        const take = Math.min(skip, d.length);
        p += take;
        skip -= take;
        if (p === d.length) return;
        // One latency sample per read: the first send time wholly in it
        // (the oldest message of the read, so if anything a pessimistic
        // sample). Frames are counted by arithmetic, not parsed.
        const at = p + (offset <= TIME_AT ? TIME_AT - offset : FRAME_BYTES - offset + TIME_AT);
        const end = offset + (d.length - p);
        const frames = Math.floor(end / FRAME_BYTES);
        offset = end % FRAME_BYTES;
        received += frames;
        if (measuring) {
          measured += frames;
          if (at + 16 <= d.length)
            hist.record(nowMicros() - Number(d.toString("latin1", at, at + 16)));
        }
      });
      s.write(cmd("SUBSCRIBE", CHANNEL));
    });
    subs.push(s);
  }
  // The publisher: PUBLISH replies are ":N\r\n"; N summed is what was promised.
  const pub = await connect(job.port);
  let expected = 0;
  let outstanding = 0;
  let tail = "";
  let running = true;
  const perPublish = job.subscribers;
  const window = Math.max(1, Math.floor(job.inFlight / perPublish));
  const payload = () => `${String(nowMicros()).padStart(16, "0")}${".".repeat(PAYLOAD_BYTES - 16)}`;
  const publish = (n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += cmd("PUBLISH", CHANNEL, payload());
    outstanding += n;
    pub.write(s);
  };
  pub.on("data", (d: Buffer) => {
    const text = tail + d.toString("latin1");
    const lines = text.split("\r\n");
    tail = lines.pop() ?? "";
    let done = 0;
    for (const l of lines) {
      expected += Number(l.slice(1));
      done++;
    }
    outstanding -= done;
    if (job.mode === "flat" && running && outstanding < window / 2) publish(window - outstanding);
  });
  let timer: NodeJS.Timeout | null = null;
  if (job.mode === "flat") {
    publish(window);
  } else {
    const perSecond = job.rate / perPublish;
    const start = performance.now();
    let sent = 0;
    timer = setInterval(() => {
      const due = Math.floor(((performance.now() - start) / 1000) * perSecond) - sent;
      if (due > 0) {
        publish(due);
        sent += due;
      }
    }, 1);
  }
  await new Promise((r) => setTimeout(r, job.warmupMs));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, job.measureMs));
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  running = false;
  if (timer) clearInterval(timer);
  // Drain: every reply back, then every promised delivery (or 5 s).
  const deadline = Date.now() + 5000;
  while ((outstanding > 0 || received < expected) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const s of [...subs, pub]) s.destroy();
  return {
    deliveries: measured,
    perSecond: measured / seconds,
    p50: hist.percentile(0.5),
    p99: hist.percentile(0.99),
    expected,
    received,
    loss: expected - received,
  };
}

/* ============================ The orchestrator ============================ */

interface Running {
  port: number;
  pid: number;
  stop: () => void;
}

// CPU time (user + system, ms) a process has used, from /proc (Linux); NaN
// elsewhere. CPU per delivery is steadier than deliveries/s on a machine
// where other work competes for the cores.
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // Clock ticks at 100 Hz.
  } catch {
    return Number.NaN;
  }
}

function startProcess(cmdline: string, args: string[], ready: RegExp): Promise<Running> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmdline, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) resolve({ port: Number(m[1]), pid: proc.pid!, stop: () => proc.kill("SIGKILL") });
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.once("exit", (code) => reject(new Error(`${cmdline} exited with ${code}:\n${out}`)));
  });
}

async function startTarget(target: string, serverFile: string): Promise<Running> {
  if (target === "redis") {
    const port = await freePort();
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ];
    const r = await startProcess("redis-server", args, /Ready to accept connections/);
    return { ...r, port };
  }
  return startProcess(
    process.execPath,
    ["--import", "tsx", serverFile, "--host", "127.0.0.1", "--port", "0"],
    /listening on .*:(\d+)/,
  );
}

function runInChild(job: Job): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = fork(new URL(import.meta.url).pathname, ["--load"], {
      execArgv: ["--import", "tsx"],
    });
    child.once("message", (m) => {
      resolve(m as Result);
      child.kill();
    });
    child.once("exit", (code) => reject(new Error(`load process exited with ${code}`)));
    child.send(job);
  });
}

const USAGE =
  "usage: npm run bench:resp -- [--step 17] [--clients 10,100,500] [--seconds 3] [--modes flat,rate]";

// The command line, checked: --help prints the usage and exits 0; a bad
// option or value prints what is wrong and the usage, and exits 2.
function parseOptions(argv: string[]) {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        step: { type: "string", default: "" },
        clients: { type: "string", default: "10,100,500" },
        seconds: { type: "string", default: "3" },
        modes: { type: "string", default: "flat,rate" },
        help: { type: "boolean" },
      },
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    // Pub/sub arrives in step 14: the Redis steps before it cannot be measured.
    const redisSteps = listSteps().filter((s) => s.track === "redis" && s.num >= 14);
    const step = values.step ? findStep(redisSteps, values.step) : redisSteps.at(-1);
    if (step === undefined) {
      throw new Error(
        `no Redis step with pub/sub ${values.step} (they are: ${redisSteps.map((s) => s.name).join(" ")})`,
      );
    }
    const ns = values.clients.split(",").map(Number);
    if (ns.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new Error(`invalid --clients: ${values.clients}`);
    }
    const modes = values.modes.split(",") as Mode[];
    if (modes.some((m) => m !== "flat" && m !== "rate")) {
      throw new Error(`invalid --modes: ${values.modes}`);
    }
    const seconds = Number(values.seconds);
    if (!(seconds > 0)) throw new Error(`invalid --seconds: ${values.seconds}`);
    return { step, ns, modes, measureMs: seconds * 1000 };
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  if (process.argv.includes("--load")) {
    process.once("message", async (job: Job) => {
      process.send?.(await runLoad(job));
    });
    return;
  }
  const { step, ns, modes, measureMs } = parseOptions(process.argv.slice(2));
  console.log(`pub/sub fan-out, ${step.name} vs redis-server; one publisher, N subscribers`);
  console.log(
    "| N | mode | server | deliveries/s | p50 µs | p99 µs | loss | server CPU ns/delivery | vs Redis |",
  );
  console.log("|---:|---|---|---:|---:|---:|---:|---:|---:|");
  for (const n of ns) {
    for (const mode of modes) {
      const results: Record<string, Result> = {};
      const cpu: Record<string, number> = {};
      for (const target of ["redis", step.name]) {
        const server = await startTarget(target, step.server);
        try {
          const cpu0 = cpuMs(server.pid);
          results[target] = await runInChild({
            port: server.port,
            subscribers: n,
            mode,
            warmupMs: 1000,
            measureMs,
            inFlight: 10000,
            rate: 20000,
          });
          cpu[target] = ((cpuMs(server.pid) - cpu0) * 1e6) / results[target]!.received;
        } finally {
          server.stop();
        }
        const r = results[target]!;
        const base = results.redis!;
        const ratio =
          target === "redis"
            ? ""
            : mode === "flat"
              ? `${(r.perSecond / base.perSecond).toFixed(2)}x rate`
              : `${(r.p99 / base.p99).toFixed(2)}x p99`;
        const ns = Math.round(cpu[target]!);
        const cpuRatio =
          target === "redis" ? "" : `, ${(cpu[target]! / cpu.redis!).toFixed(2)}x CPU`;
        console.log(
          `| ${n} | ${mode} | ${target} | ${Math.round(r.perSecond)} | ${r.p50} | ${r.p99} | ${r.loss} | ${ns} | ${ratio}${cpuRatio} |`,
        );
      }
    }
  }
}

await main();
