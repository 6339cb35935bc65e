// crash-test.ts -- kill -9 the server under load, again and again; nothing acknowledged may be lost.
//
// Clients each count in three ways at once: INCR of their own counter,
// LPUSH of the sequence numbers 1, 2, 3... to their own list, XADD of the
// same numbers to their own stream. Each remembers what the server
// acknowledged. At a random moment (some rounds in the middle of a
// BGREWRITEAOF) the server gets SIGKILL, is started again on the same
// directory, and every client's data must hold everything acknowledged:
// the counter at the last INCR reply (or one more, the one in flight), the
// list exactly n..1, the stream exactly 1..n, with n the last acknowledged
// number (or one more). The files must always load.
//
//   npm run crash-test -- [--rounds 20] [--clients 50] [--fsync always]
//
// test/crash.test.ts runs a short version of the same thing.

import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const SERVER = fileURLToPath(new URL("../src/server.ts", import.meta.url));

/* ============================ A tiny RESP client ========================== */

type Reply = string | number | null | Reply[] | Error;

// One connection, one request at a time: send, wait for the whole reply.
export class Conn {
  private buf = Buffer.alloc(0);
  private waiting: ((r: Reply) => void)[] = [];
  private head = 0; // waiting[head] gets the next reply (shift() is O(n)).
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const r = parseReply(this.buf, 0);
        if (r === undefined) break;
        this.buf = this.buf.subarray(r[1]);
        this.waiting[this.head++]?.(r[0]);
        if (this.head === this.waiting.length) {
          this.waiting = [];
          this.head = 0;
        }
      }
    });
    const fail = () => {
      this.closed = true;
      for (const w of this.waiting.splice(this.head)) w(new Error("connection closed"));
    };
    socket.on("close", fail);
    socket.on("error", fail);
  }

  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => resolve(new Conn(s)));
      s.once("error", reject);
    });
  }

  cmd(...args: (string | number)[]): Promise<Reply> {
    if (this.closed) return Promise.resolve(new Error("connection closed"));
    const parts = args.map(String);
    let out = `*${parts.length}\r\n`;
    for (const p of parts) out += `$${Buffer.byteLength(p)}\r\n${p}\r\n`;
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.socket.write(out);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

function parseReply(b: Buffer, at: number): [Reply, number] | undefined {
  const eol = b.indexOf("\r\n", at);
  if (eol < 0) return undefined;
  const line = b.toString("latin1", at + 1, eol);
  const next = eol + 2;
  switch (b[at]) {
    case 0x2b: // +
      return [line, next];
    case 0x2d: // -
      return [new Error(line), next];
    case 0x3a: // :
      return [Number(line), next];
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return [null, next];
      if (b.length < next + n + 2) return undefined;
      return [b.toString("utf8", next, next + n), next + n + 2];
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: Reply[] = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(b, p);
        if (r === undefined) return undefined;
        items.push(r[0]);
        p = r[1];
      }
      return [items, p];
    }
    default:
      throw new Error(`bad reply byte ${b[at]}`);
  }
}

/* ============================ The server ================================== */

export interface Server {
  port: number;
  proc: ChildProcess;
  logs: string[];
}

export function startServer(dir: string, args: string[] = []): Promise<Server> {
  const proc = spawn(
    process.execPath,
    ["--import", "tsx", SERVER, "--host", "127.0.0.1", "--port", "0", "--appendonly", "yes"]
      .concat(["--dir", dir])
      .concat(args),
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const logs: string[] = [];
  return new Promise((resolve, reject) => {
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (line === "") continue;
        logs.push(line);
        const m = /^listening on .*:(\d+)$/.exec(line);
        if (m) resolve({ port: Number(m[1]), proc, logs });
      }
    };
    proc.stdout.on("data", onLine);
    proc.stderr.on("data", onLine);
    proc.once("exit", (code) =>
      reject(new Error(`server exited with ${code}:\n${logs.slice(-5).join("\n")}`)),
    );
  });
}

export function kill9(s: Server): Promise<void> {
  return new Promise((resolve) => {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) resolve();
    s.proc.once("exit", () => resolve());
    s.proc.kill("SIGKILL");
  });
}

/* ============================ The load ==================================== */

interface Counter {
  acked: number; // Last number the server acknowledged on all three.
}

// One client: INCR, LPUSH n, XADD n, in order, until `stop` or an error
// (the server died). After the XADD reply the whole step n is acknowledged.
async function worker(conn: Conn, i: number, c: Counter, stop: { now: boolean }): Promise<void> {
  while (!stop.now) {
    const n = c.acked + 1;
    const r1 = await conn.cmd("INCR", `counter:${i}`);
    if (r1 instanceof Error) return;
    if (r1 !== n) throw new Error(`client ${i}: INCR answered ${r1}, expected ${n}`);
    if ((await conn.cmd("LPUSH", `list:${i}`, n)) instanceof Error) return;
    if ((await conn.cmd("XADD", `stream:${i}`, "*", "n", n)) instanceof Error) return;
    c.acked = n;
  }
}

// After a restart: each client's data holds every acknowledged step, and
// at most one more (the one in flight when the server died). Then a step
// cut between its three commands is completed, so each client resumes
// from one number.
async function verify(conn: Conn, counters: Counter[]): Promise<void> {
  for (const [i, c] of counters.entries()) {
    const value = Number((await conn.cmd("GET", `counter:${i}`)) ?? 0);
    const list = ((await conn.cmd("LRANGE", `list:${i}`, 0, -1)) as string[]).map(Number);
    const stream = (await conn.cmd("XRANGE", `stream:${i}`, "-", "+")) as [string, string[]][];
    const ids = stream.map(([, fields]) => Number(fields[1]));
    const want = (n: number) => Array.from({ length: n }, (_, k) => k + 1);
    const okCount = (n: number) => n === c.acked || n === c.acked + 1;
    if (!okCount(value)) throw new Error(`client ${i}: counter ${value}, acknowledged ${c.acked}`);
    if (!okCount(list.length) || list.join() !== want(list.length).reverse().join()) {
      throw new Error(`client ${i}: list ${list.slice(0, 5).join()}..., acknowledged ${c.acked}`);
    }
    if (!okCount(ids.length) || ids.join() !== want(ids.length).join()) {
      throw new Error(`client ${i}: stream has ${ids.length} entries, acknowledged ${c.acked}`);
    }
    // Complete the step in flight, so every client resumes at one n.
    const n = Math.max(value, list.length, ids.length);
    if (value < n) await conn.cmd("INCR", `counter:${i}`);
    if (list.length < n) await conn.cmd("LPUSH", `list:${i}`, n);
    if (ids.length < n) await conn.cmd("XADD", `stream:${i}`, "*", "n", n);
    c.acked = n;
  }
}

export interface CrashOptions {
  rounds: number;
  clients: number;
  fsync: "always" | "everysec" | "no";
  preload: number; // Keys loaded first, so that a rewrite takes a while.
  maxRunMs: number; // Load runs a random time up to this before the kill.
  log?: (line: string) => void;
}

export async function runCrashTest(o: CrashOptions): Promise<{ acked: number; rewrites: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "crash-test-"));
  const say = o.log ?? (() => {});
  const counters: Counter[] = Array.from({ length: o.clients }, () => ({ acked: 0 }));
  const args = ["--appendfsync", o.fsync];
  let rewrites = 0;
  const alive: { server?: Server } = {}; // The one to kill in the end, whatever happens.
  try {
    let server = await startServer(dir, args);
    alive.server = server;
    if (o.preload > 0) {
      const conn = await Conn.open(server.port);
      for (let k = 0; k < o.preload; k += 1000) {
        const kv: string[] = [];
        for (let j = k; j < Math.min(o.preload, k + 1000); j++) kv.push(`pre:${j}`, `v${j}`);
        await conn.cmd("MSET", ...kv);
      }
      conn.close();
    }
    for (let round = 1; round <= o.rounds; round++) {
      const conns = await Promise.all(counters.map(() => Conn.open(server.port)));
      const stop = { now: false };
      const work = conns.map((conn, i) => worker(conn, i, counters[i]!, stop));
      const runMs = 50 + Math.random() * o.maxRunMs;
      const duringRewrite = round % 3 === 0;
      if (duringRewrite) {
        await new Promise((r) => setTimeout(r, runMs / 2));
        const admin = await Conn.open(server.port);
        await admin.cmd("BGREWRITEAOF");
        admin.close();
        rewrites++;
        await new Promise((r) => setTimeout(r, Math.random() * 100));
      } else {
        await new Promise((r) => setTimeout(r, runMs));
      }
      const midRewrite = duringRewrite && !server.logs.some((l) => l.includes("rewrite finished"));
      await kill9(server);
      stop.now = true;
      await Promise.all(work);
      for (const conn of conns) conn.close();
      server = await startServer(dir, args); // Throws if the files do not load.
      alive.server = server;
      const check = await Conn.open(server.port);
      await verify(check, counters);
      if (o.preload > 0 && Number(await check.cmd("EXISTS", `pre:${o.preload - 1}`)) !== 1) {
        throw new Error("preloaded keys lost");
      }
      check.close();
      const total = counters.reduce((s, c) => s + c.acked, 0);
      say(
        `round ${round}: killed after ${runMs.toFixed(0)} ms` +
          `${duringRewrite ? (midRewrite ? " in the middle of a rewrite" : " after a rewrite") : ""}, ` +
          `restarted, ${total} acknowledged steps all present`,
      );
    }
    return { acked: counters.reduce((s, c) => s + c.acked, 0), rewrites };
  } finally {
    // Also when a check failed: no server may outlive the test.
    if (alive.server !== undefined) await kill9(alive.server);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/* ============================ Main ======================================== */

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "20" },
      clients: { type: "string", default: "50" },
      fsync: { type: "string", default: "always" },
      preload: { type: "string", default: "200000" },
    },
  });
  const started = Date.now();
  runCrashTest({
    rounds: Number(values.rounds),
    clients: Number(values.clients),
    fsync: values.fsync as CrashOptions["fsync"],
    preload: Number(values.preload),
    maxRunMs: 1500,
    log: console.log,
  }).then(
    (r) => {
      console.log(
        `PASS: ${values.rounds} kills (${r.rewrites} during a rewrite), ${r.acked} acknowledged steps, ` +
          `nothing lost, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    },
    (err) => {
      console.error(`FAIL: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
