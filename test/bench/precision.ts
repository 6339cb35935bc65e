// precision.ts -- is the bench's redis row what a native client measures?
//
// The fan-out bench's load (loadgen.c) must see Redis's own tail, not add
// one: its p99 on redis-server should be within 0.1 ms of an independent C
// client's. This script measures both on the same kind of cell, taking
// turns (bench, probe, bench, probe...) so that each pair runs under the
// same load from the rest of the machine, and prints every pair and the
// median difference.
//
// The independent client is redis-probe.c (two threads, blocking sockets,
// clock_nanosleep pacing, poll(), exact percentiles from sorted samples);
// see its header. Both get the same treatment: redis-server on core 0, the
// client on core 1, both at SCHED_FIFO where allowed (as the bench does).
//
// Usage: npx tsx test/bench/precision.ts [--clients 10] [--rate 20000,100000] [--repeat 5]

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startRedis } from "../src/redis.ts";
import { DEFAULTS, runBenchmark } from "./fanout.ts";
import { median } from "./stats.ts";

const PROBE_SRC = fileURLToPath(new URL("./redis-probe.c", import.meta.url));
const PROBE_BIN = fileURLToPath(new URL("./out/bin/redis-probe", import.meta.url));

function buildProbe(): void {
  if (fs.existsSync(PROBE_BIN) && fs.statSync(PROBE_BIN).mtimeMs >= fs.statSync(PROBE_SRC).mtimeMs)
    return;
  fs.mkdirSync(path.dirname(PROBE_BIN), { recursive: true });
  execFileSync("cc", ["-O2", "-Wall", "-pthread", "-o", PROBE_BIN, PROBE_SRC], {
    stdio: "inherit",
  });
}

// One probe run on a fresh redis-server, pinned and prioritised like a bench cell.
async function probe(clients: number, rate: number, warmup: number, seconds: number) {
  const redis = await startRedis();
  try {
    const cmd: string[] = [];
    if (DEFAULTS.pin) {
      execFileSync("taskset", ["-a", "-c", "-p", "0", String(redis.pid)], { stdio: "ignore" });
      cmd.push("taskset", "-c", "1");
    }
    if (DEFAULTS.rt) {
      execFileSync("chrt", ["-f", "-p", "10", String(redis.pid)], { stdio: "ignore" });
      cmd.push("chrt", "-f", "10");
    }
    cmd.push(PROBE_BIN, String(redis.port), String(clients), String(rate));
    cmd.push(String(warmup), String(seconds));
    const out = execFileSync(cmd[0]!, cmd.slice(1), { encoding: "utf8" });
    const m = /p50 ([\d.]+) p99 ([\d.]+) p999 ([\d.]+)/.exec(out);
    if (!m) throw new Error(`redis-probe said: ${out}`);
    return { p50: Number(m[1]), p99: Number(m[2]), p999: Number(m[3]) };
  } finally {
    await redis.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clients: { type: "string", default: "10" },
      rate: { type: "string", default: "20000,100000" },
      repeat: { type: "string", default: "5" },
      seconds: { type: "string", default: "3" },
    },
  });
  const clients = values.clients.split(",").map(Number);
  const rates = values.rate.split(",").map(Number);
  const repeat = Number(values.repeat);
  const seconds = Number(values.seconds);
  buildProbe();
  const load = () => os.loadavg()[0]!.toFixed(1);
  console.log(`pin ${DEFAULTS.pin}, real-time ${DEFAULTS.rt}, load average ${load()} at the start`);
  for (const n of clients) {
    for (const rate of rates) {
      const diffs: number[] = [];
      for (let k = 0; k < repeat; k++) {
        const run = await runBenchmark({
          ...DEFAULTS,
          steps: ["redis"],
          clients: [n],
          modes: ["rate"],
          rates: [rate],
          seconds,
          scenarios: DEFAULTS.scenarios.slice(0, 1),
        });
        const bench = run.results[0]!;
        const p = await probe(n, rate, DEFAULTS.warmup, seconds);
        diffs.push(bench.p99 - p.p99);
        console.log(
          `${n} clients, ${rate}/s: bench p99 ${bench.p99.toFixed(3)} p99.9 ${bench.p999.toFixed(3)}` +
            ` | probe p99 ${p.p99.toFixed(3)} p99.9 ${p.p999.toFixed(3)}` +
            ` | p99 difference ${(bench.p99 - p.p99).toFixed(3)} ms (load ${load()})`,
        );
      }
      console.log(
        `${n} clients, ${rate}/s: median p99 difference ${median(diffs).toFixed(3)} ms over ${repeat} pairs`,
      );
    }
  }
}

void main();
