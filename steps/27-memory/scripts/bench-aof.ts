// bench-aof.ts -- what durability costs: SET requests/s with appendonly no, everysec and always, ours and redis-server's.
//
// Not a timed test: numbers depend on the machine and on what else runs on
// it. Each server gets a fresh directory; redis-benchmark sends SETs of
// random keys from 50 clients, one request in flight per client.
//
//   npm run bench-aof -- [--requests 50000] [--clients 50]

import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { kill9, startServer } from "./crash-test.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "50000" },
    clients: { type: "string", default: "50" },
  },
});

function benchmark(port: number): number {
  const out = execFileSync(
    "redis-benchmark",
    [
      "-p",
      String(port),
      "-t",
      "set",
      "-r",
      "100000",
      "-n",
      values.requests,
      "-c",
      values.clients,
      "-q",
    ],
    { encoding: "utf8" },
  );
  // "SET: 41666.67 requests per second, p50=0.903 msec" (after \r progress lines).
  const m = /SET: ([\d.]+) requests per second/.exec(out);
  if (!m) throw new Error(`unexpected redis-benchmark output: ${out}`);
  return Number(m[1]);
}

async function ours(args: string[]): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-aof-"));
  const s = await startServer(dir, args);
  try {
    return benchmark(s.port);
  } finally {
    await kill9(s);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function redis(args: string[]): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-aof-redis-"));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const proc = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", ""].concat(
      ["--dir", dir, "--aof-use-rdb-preamble", "no"],
      args,
    ),
  );
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on("data", (d) => String(d).includes("Ready to accept") && resolve());
    proc.once("exit", (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  try {
    return benchmark(port);
  } finally {
    proc.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const configs: [string, string[]][] = [
  ["appendonly no", ["--appendonly", "no"]],
  ["appendfsync no", ["--appendonly", "yes", "--appendfsync", "no"]],
  ["appendfsync everysec", ["--appendonly", "yes", "--appendfsync", "everysec"]],
  ["appendfsync always", ["--appendonly", "yes", "--appendfsync", "always"]],
];
console.log(
  `| SET, ${values.clients} clients | ours (requests/s) | redis-server 7.0.15 (requests/s) |`,
);
console.log("|---|---:|---:|");
for (const [name, args] of configs) {
  const a = await ours(args);
  const b = await redis(args);
  console.log(`| ${name} | ${Math.round(a)} | ${Math.round(b)} |`);
}
console.log(`\nload average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`);
