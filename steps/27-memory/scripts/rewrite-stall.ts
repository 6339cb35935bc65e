// rewrite-stall.ts -- how long can a rewrite of 1,000,000 keys keep a client waiting?
//
// Loads a million keys, then runs BGREWRITEAOF while a client PINGs in a
// tight loop (one PING in flight at a time) and records the slowest reply.
// The same PING loop runs first without a rewrite, for the baseline: on a
// busy machine the scheduler alone makes some replies slow.
//
//   npm run rewrite-stall -- [--keys 1000000]

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Conn, kill9, startServer } from "./crash-test.ts";

const { values } = parseArgs({ options: { keys: { type: "string", default: "1000000" } } });
const KEYS = Number(values.keys);

async function pingWhile(conn: Conn, busy: () => Promise<boolean>): Promise<number[]> {
  const rtts: number[] = [];
  let checks = 0;
  while (checks++ % 50 !== 0 || (await busy())) {
    const t = performance.now();
    await conn.cmd("PING");
    rtts.push(performance.now() - t);
  }
  return rtts.sort((a, b) => a - b);
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rewrite-stall-"));
const server = await startServer(dir, ["--appendfsync", "everysec"]);
try {
  const conn = await Conn.open(server.port);
  const t0 = performance.now();
  const batches: Promise<unknown>[] = [];
  for (let k = 0; k < KEYS; k += 1000) {
    const kv: string[] = [];
    for (let j = k; j < Math.min(KEYS, k + 1000); j++) kv.push(`key:${j}`, `value:${j}`);
    batches.push(conn.cmd("MSET", ...kv));
    if (batches.length >= 20) await Promise.all(batches.splice(0));
  }
  await Promise.all(batches);
  console.log(`loaded ${KEYS} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const pinger = await Conn.open(server.port);
  const baseEnd = performance.now() + 3000;
  const base = await pingWhile(pinger, async () => performance.now() < baseEnd);
  await conn.cmd("BGREWRITEAOF");
  const t1 = performance.now();
  const during = await pingWhile(pinger, async () =>
    /aof_rewrite_in_progress:1/.test(String(await conn.cmd("INFO", "persistence"))),
  );
  const took = (performance.now() - t1) / 1000;
  const slice = server.logs.find((l) => l.includes("longest slice")) ?? "";
  const show = (xs: number[]) =>
    `${xs.length} PINGs, p50 ${pct(xs, 0.5).toFixed(2)} ms, p99 ${pct(xs, 0.99).toFixed(2)} ms, max ${xs[xs.length - 1]!.toFixed(1)} ms`;
  console.log(`without a rewrite (3 s): ${show(base)}`);
  console.log(`during the rewrite (${took.toFixed(1)} s): ${show(during)}`);
  console.log(`server: ${slice}`);
  const size = fs.statSync(path.join(dir, "appendonlydir", "appendonly.aof.2.base.aof")).size;
  console.log(
    `new base file: ${(size / 1e6).toFixed(1)} MB; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`,
  );
  conn.close();
  pinger.close();
} finally {
  await kill9(server);
  fs.rmSync(dir, { recursive: true, force: true });
}
