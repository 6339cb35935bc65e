// xread-block.ts -- the blocking-reader benchmark: N readers in XREAD BLOCK, one writer, vs Redis.
//
// Step 21's XREAD BLOCK delivers one entry to every reader blocked on the
// stream. This measures how fast: N connections loop on `XREAD BLOCK 0
// STREAMS s <last id seen>`, one connection appends `XADD s * t <send
// time>` as fast as its replies come back (one in flight), and every entry
// a reader receives is a delivery, timed from the writer's send to the
// reader's receipt. The same run goes against step 21's server and a
// private redis-server.
//
//   npx tsx test/bench/xread-block.ts [--readers 100] [--seconds 3] [--step 24]
//
// All sockets live in this one process and speak raw RESP (no client
// library), so the load generator costs little; it still shares the
// machine's two cores with the server, which the numbers include.

import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { parseArgs } from "node:util";
import { freePort, startRedis } from "../src/redis.ts";
import { encodeCommand, frameEnd } from "../src/redis-diff.ts";
import { Histogram } from "./stats.ts";

const { values } = parseArgs({
  options: {
    readers: { type: "string", default: "100" },
    seconds: { type: "string", default: "3" },
    step: { type: "string", default: "21-xread" },
  },
});
const READERS = Number(values.readers);
const SECONDS = Number(values.seconds);

// A connection that hands each complete RESP frame to `onFrame`.
function connect(port: number, onFrame: (frame: Buffer) => void): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.setNoDelay(true);
    s.once("error", reject);
    let buf = Buffer.alloc(0);
    s.on("data", (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let pos = 0;
      for (;;) {
        const end = frameEnd(buf, pos);
        if (end === -1) break;
        onFrame(buf.subarray(pos, end));
        pos = end;
      }
      buf = buf.subarray(pos);
    });
  });
}

// Each entry of an XREAD reply: `<id>` then the fields `t <time>`.
const ENTRY = /\r\n(\d+-\d+)\r\n\*2\r\n\$1\r\nt\r\n\$\d+\r\n([\d.]+)\r\n/g;

interface Result {
  delivered: number;
  written: number;
  seconds: number;
  hist: Histogram;
}

async function run(port: number): Promise<Result> {
  const hist = new Histogram();
  let delivered = 0;
  let measuring = false;
  let stop = false;
  const readers: net.Socket[] = [];
  for (let i = 0; i < READERS; i++) {
    let last = "$";
    let sock: net.Socket | undefined;
    const ask = () => sock!.write(encodeCommand(["XREAD", "BLOCK", "0", "STREAMS", "s", last]));
    sock = await connect(port, (frame) => {
      const now = performance.now();
      for (const m of frame.toString("latin1").matchAll(ENTRY)) {
        last = m[1]!;
        if (measuring) {
          delivered++;
          hist.record(now - Number(m[2]));
        }
      }
      if (!stop) ask();
    });
    readers.push(sock);
    ask();
  }
  // Give every reader's first XREAD time to arrive before writing.
  const admin = await connect(port, () => {});
  await new Promise<void>((resolve) => {
    admin.removeAllListeners("data");
    admin.on("data", () => resolve());
    admin.write(encodeCommand(["PING"]));
  });
  let written = 0;
  const writer = await connect(port, () => {
    written++;
    if (!stop) write();
  });
  const write = () =>
    writer.write(encodeCommand(["XADD", "s", "*", "t", performance.now().toFixed(3)]));
  write();
  // One warm-up second, then the measurement.
  await new Promise((r) => setTimeout(r, 1000));
  measuring = true;
  const w0 = written;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  const w1 = written;
  stop = true;
  for (const s of [...readers, writer, admin]) s.destroy();
  return { delivered, written: w1 - w0, seconds, hist };
}

async function startOurs(step: string): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const file = new URL(`../../steps/${step}/src/server.ts`, import.meta.url).pathname;
  const proc = spawn(process.execPath, ["--import", "tsx", file, "--port", String(port)], {
    stdio: "ignore",
  });
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return { port, proc };
    await new Promise((r) => setTimeout(r, 50));
  }
}

function line(name: string, r: Result): string {
  const per = (n: number) => Math.round(n / r.seconds).toLocaleString("en-US");
  return `${name.padEnd(14)} entries written/s ${per(r.written).padStart(9)}   delivered/s ${per(
    r.delivered,
  ).padStart(
    10,
  )}   p50 ${r.hist.percentile(0.5).toFixed(2)} ms   p99 ${r.hist.percentile(0.99).toFixed(2)} ms`;
}

const ours = await startOurs(values.step);
const redis = await startRedis();
try {
  console.log(`${READERS} readers in XREAD BLOCK, one writer, ${SECONDS} s each`);
  console.log(line(`step ${values.step.slice(0, 2)}`, await run(ours.port)));
  console.log(line("redis-server", await run(redis.port)));
} finally {
  ours.proc.kill("SIGKILL");
  await redis.stop();
}
