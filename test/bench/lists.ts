// lists.ts -- the list benchmark: redis-benchmark's list tests and a BLPOP queue, ours vs Redis.
//
// `npx tsx test/bench/lists.ts [--step 19] [--requests 100000] [--seconds 3]`
//
// Two scenarios, each run against a step's server (18 lists or later) and
// a private redis-server on the same machine, one after the other:
//
// - Request/response: redis-benchmark -t lpush,rpush,lpop,rpop,lrange_100
//   with 50 clients, at -P 1 (one request in flight per client: latency
//   bound) and -P 16 (pipelined: throughput bound). The targets are those
//   the strings step had: at least 0.8x Redis at -P 1, 0.5x at -P 16.
// - A blocking queue (step 19 on: step 18 has no BLPOP): consumers loop
//   on BLPOP, producers RPUSH items that carry their send time. We report
//   items/s delivered and the p50/p99 wait from RPUSH sent to BLPOP reply
//   received. Producers keep at most WINDOW items in the list, so the
//   wait measures the server's hand-off, not a backlog.
//
// The load runs in this process, on the same 2 cores as the server: the
// ratio between the two servers is what to read, not the absolute numbers.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import net from "node:net";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { Histogram } from "./stats.ts";

const { values } = parseArgs({
  options: {
    step: { type: "string", default: "19" },
    requests: { type: "string", default: "100000" },
    seconds: { type: "string", default: "3" },
  },
});
// `--step 19` or `--step 19-blocking`: the step folder whose number it is.
const stepsDir = new URL("../../steps/", import.meta.url);
const stepDir =
  readdirSync(stepsDir).find((d) => d === values.step || d.startsWith(`${values.step}-`)) ??
  values.step!;
const STEP_NUM = Number.parseInt(stepDir, 10);
const REQUESTS = Number(values.requests);
const SECONDS = Number(values.seconds);

/* ============================ Servers ===================================== */

interface Target {
  name: string;
  port: number;
  proc: ChildProcess;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.once("error", reject);
  });
}

async function startOurs(): Promise<Target> {
  const file = new URL(`../../steps/${stepDir}/src/server.ts`, import.meta.url);
  const proc = spawn(
    process.execPath,
    ["--import", "tsx", file.pathname, "--host", "127.0.0.1", "--port", "0"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on .*:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once("exit", () => reject(new Error("server exited")));
  });
  proc.stdout!.resume();
  return { name: `step ${values.step}`, port, proc };
}

async function startRedis(): Promise<Target> {
  const port = await freePort();
  const proc = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise<void>((resolve) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("Ready to accept connections")) resolve();
    });
  });
  proc.stdout!.resume();
  return { name: "redis-server 7", port, proc };
}

/* ============================ redis-benchmark ============================= */

const TESTS = "lpush,rpush,lpop,rpop,lrange_100";

// requests/s per test name, from redis-benchmark --csv.
function benchmark(
  port: number,
  pipeline: number,
  requests = REQUESTS,
): Promise<Map<string, number>> {
  const args = [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-t",
    TESTS,
    "-n",
    String(requests),
    "-c",
    "50",
    "-P",
    String(pipeline),
    "--csv",
  ];
  return new Promise((resolve, reject) => {
    execFile("redis-benchmark", args, { maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) return reject(err);
      const rps = new Map<string, number>();
      for (const line of stdout.split("\n")) {
        const m = /^"([^"]+)","([\d.]+)"/.exec(line);
        if (m) rps.set(m[1]!, Number(m[2]));
      }
      resolve(rps);
    });
  });
}

/* ============================ The blocking queue ========================== */

const CONSUMERS = 10;
const PRODUCERS = 2;
const WINDOW = 200; // Items pushed but not yet received, at most.

function encode(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, noDelay: true }, () => resolve(s));
    s.once("error", reject);
  });
}

async function queue(port: number): Promise<{ itemsPerSec: number; p50: number; p99: number }> {
  const hist = new Histogram();
  let received = 0;
  let sent = 0;
  let measuring = false;
  let measured = 0;
  let running = true;
  const consumers = await Promise.all(Array.from({ length: CONSUMERS }, () => connect(port)));
  const producers = await Promise.all(Array.from({ length: PRODUCERS }, () => connect(port)));
  const wakeProducers: (() => void)[] = [];
  for (const c of consumers) {
    let buf = "";
    c.setEncoding("latin1");
    c.on("data", (d: string) => {
      buf += d;
      // Each reply: *2 $5 queue $<n> <sendTime>.
      while (true) {
        const m = /^\*2\r\n\$5\r\nqueue\r\n\$(\d+)\r\n/.exec(buf);
        if (m === null) break;
        const start = m[0].length;
        const len = Number(m[1]);
        if (buf.length < start + len + 2) break;
        const t = Number(buf.slice(start, start + len));
        buf = buf.slice(start + len + 2);
        received++;
        if (measuring) {
          measured++;
          hist.record(performance.now() * 1000 - t);
        }
        if (running) c.write(encode("BLPOP", "queue", "0"));
        for (const w of wakeProducers.splice(0)) w();
      }
    });
    c.write(encode("BLPOP", "queue", "0"));
  }
  const produce = async (p: net.Socket) => {
    p.on("data", () => {}); // Integer replies: not needed.
    while (running) {
      if (sent - received >= WINDOW) {
        await new Promise<void>((resolve) => wakeProducers.push(resolve));
        continue;
      }
      sent++;
      p.write(encode("RPUSH", "queue", String(Math.round(performance.now() * 1000))));
      if (sent % 32 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  const producing = producers.map(produce);
  await new Promise((resolve) => setTimeout(resolve, 500)); // Warm up.
  measuring = true;
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  running = false;
  for (const w of wakeProducers.splice(0)) w();
  await Promise.all(producing);
  for (const s of [...consumers, ...producers]) s.destroy();
  return { itemsPerSec: measured / elapsed, p50: hist.percentile(0.5), p99: hist.percentile(0.99) };
}

/* ============================ Main ======================================== */

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main(): Promise<void> {
  const ours = await startOurs();
  const redis = await startRedis();
  try {
    console.log(`# Lists: ${ours.name} vs ${redis.name} (${REQUESTS} requests, 50 clients)`);
    console.log(
      `load average at start: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
    // One unmeasured pass: V8 compiles our hot paths during the first
    // seconds, and the first test measured would pay for it.
    await benchmark(ours.port, 16, 50_000);
    for (const pipeline of [1, 16]) {
      const a = await benchmark(ours.port, pipeline);
      const b = await benchmark(redis.port, pipeline);
      console.log(
        `\n-P ${pipeline}\n\n| test | ours req/s | Redis req/s | ratio |\n|---|---:|---:|---:|`,
      );
      for (const [name, theirs] of b) {
        const mine = a.get(name) ?? 0;
        console.log(`| ${name} | ${fmt(mine)} | ${fmt(theirs)} | ${(mine / theirs).toFixed(2)} |`);
      }
    }
    if (STEP_NUM < 19) return; // BLPOP arrives in step 19.
    console.log(
      `\nBlocking queue: ${PRODUCERS} producers (RPUSH), ${CONSUMERS} consumers (BLPOP), ` +
        `at most ${WINDOW} items in flight, ${SECONDS} s\n\n| server | items/s | p50 wait µs | p99 wait µs |\n|---|---:|---:|---:|`,
    );
    for (const t of [ours, redis]) {
      const q = await queue(t.port);
      console.log(`| ${t.name} | ${fmt(q.itemsPerSec)} | ${fmt(q.p50)} | ${fmt(q.p99)} |`);
    }
  } finally {
    ours.proc.kill();
    redis.proc.kill();
  }
}

void main();
