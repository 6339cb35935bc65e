// aof-helpers.ts -- what the AOF tests share: a redis-server with an AOF, and a dataset as plain data.

import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { nodeArgs } from "@smallchat/test/compiled";
import { freePort } from "@smallchat/test/redis";
import type { Step } from "@smallchat/test/steps";
import { afterEach } from "vitest";
import { Conn, type Server } from "../scripts/crash-test.ts";

export { Conn, kill9 } from "../scripts/crash-test.ts";

// The server of `step`: this step's, or a later one's (the tests run on
// every step from 25, each file with one describe per step).
export const SERVER = (step: Step): string => step.server;

// Our server of `step` with its AOF in `dir`, as scripts/crash-test.ts starts it,
// but run from the test package's one-file build of it (nodeArgs, in
// test/src/compiled.ts): 0.1 s to "listening" instead of tsx's 0.4-1 s,
// and these tests start a few dozen. Rejects, with the last lines the
// server printed, if it exits first (a file it refuses to load).
export function startServer(step: Step, dir: string, args: string[] = []): Promise<Server> {
  const proc = spawn(
    process.execPath,
    nodeArgs(SERVER(step), [
      ...["--host", "127.0.0.1", "--port", "0", "--appendonly", "yes", "--dir", dir],
      ...args,
    ]),
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

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "aof-test-"));
}

// One test file's scratch on `step`: directories, and the servers (ours or
// redis-server) started in them, all killed and removed after each test.
// Call it once, at the top of the step's describe.
export function scratch(step: Step) {
  const dirs: string[] = [];
  const procs: ChildProcess[] = [];
  afterEach(() => {
    for (const p of procs.splice(0)) p.kill("SIGKILL");
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return {
    dir(): string {
      const d = tempDir();
      dirs.push(d);
      return d;
    },
    // Our server (the step's) on an AOF in `d`.
    async ours(d: string, args: string[] = []) {
      const s = await startServer(step, d, args);
      procs.push(s.proc);
      return s;
    },
    // Kill this one too after the test.
    track<T extends { proc: ChildProcess }>(p: T): T {
      procs.push(p.proc);
      return p;
    },
  };
}

export const aofDir = (d: string) => path.join(d, "appendonlydir");
export const readAof = (d: string, name: string) =>
  fs.readFileSync(path.join(aofDir(d), name), "latin1");

// Poll until `test` holds (an INFO field, say), for at most 15 s.
export async function until(test: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15000;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const rewriteDone = (conn: Conn) => async () =>
  /aof_rewrite_in_progress:0/.test(String(await conn.cmd("INFO", "persistence")));

export interface Redis {
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

// A real redis-server 7.0.15 with its AOF in `dir`, RESP base file.
export async function startRedisAof(dir: string): Promise<Redis> {
  const port = await freePort();
  const proc = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "yes",
    "--aof-use-rdb-preamble",
    "no",
    "--dir",
    dir,
  ]);
  let out = "";
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Ready to accept connections")) resolve();
    });
    proc.once("exit", (code) => reject(new Error(`redis-server exited with ${code}:\n${out}`)));
  });
  return {
    port,
    proc,
    stop: () =>
      new Promise((resolve) => {
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
      }),
  };
}

// Every key of the server, with its type, value and time to live, as
// plain data two servers' answers can be compared with. Stream groups are
// compared by what survives a restart (delivery times are not compared).
// `conn` (already on database `db`) or a connection of its own.
export async function dataset(port: number, db = 0, on?: Conn): Promise<Record<string, unknown>> {
  const conn = on ?? (await Conn.open(port));
  if (on === undefined && db !== 0) await conn.cmd("SELECT", db);
  const keys = ((await conn.cmd("KEYS", "*")) as string[]).sort();
  // Every key at once: the requests are pipelined on the one connection,
  // and the strings (tens of thousands in some tests) read by MGET, a
  // thousand a request.
  const [types, ttls] = await Promise.all([
    Promise.all(keys.map((key) => conn.cmd("TYPE", key))),
    Promise.all(keys.map((key) => conn.cmd("PTTL", key))),
  ]);
  const strings = keys.filter((_, i) => types[i] === "string");
  const chunks: string[][] = [];
  for (let i = 0; i < strings.length; i += 1000) chunks.push(strings.slice(i, i + 1000));
  const values = new Map<string, unknown>();
  const mgets = chunks.map(async (chunk) => {
    const got = (await conn.cmd("MGET", ...chunk)) as unknown[];
    for (const [i, key] of chunk.entries()) values.set(key, got[i]);
  });
  const one = async (key: string, type: unknown): Promise<void> => {
    if (type === "list") values.set(key, await conn.cmd("LRANGE", key, 0, -1));
    else if (type === "stream") {
      const groups = (await conn.cmd("XINFO", "GROUPS", key)) as unknown[][];
      const g = [];
      for (const group of groups) {
        const name = group[1] as string;
        const pending = (await conn.cmd("XPENDING", key, name, "-", "+", 1000)) as unknown[][];
        g.push({
          info: group.filter((_, i) => i !== 11), // Without "lag".
          pending: pending.map((p) => [p[0], p[1], p[3]]),
        });
      }
      values.set(key, { entries: await conn.cmd("XRANGE", key, "-", "+"), groups: g });
    }
  };
  await Promise.all([...mgets, ...keys.map((key, i) => one(key, types[i]))]);
  const out: Record<string, unknown> = {};
  keys.forEach((key, i) => {
    const left = Number(ttls[i]);
    const pttl = left < 0 ? left : Date.now() + left; // When it dies: comparable later.
    out[key] = { type: types[i], value: values.get(key), pttl };
  });
  if (on === undefined) conn.close();
  return out;
}

// JSON of plain data, errors by their message: equal text, equal data.
const text = (v: unknown): string =>
  JSON.stringify(v, (_, x) => (x instanceof Error ? `Error: ${x.message}` : x));

// Two datasets hold the same keys, types and values, and TTLs within a
// second (the two servers read their clocks at different times).
export function expectSameData(
  got: Record<string, unknown>,
  want: Record<string, unknown>,
  expect: (v: unknown) => { toEqual(w: unknown): void; toBeLessThanOrEqual(n: number): void },
): void {
  const strip = (d: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(d).map(([k, v]) => {
        const { pttl, ...rest } = v as { pttl: number };
        return [k, { ...rest, expires: pttl >= 0 }];
      }),
    );
  // Both are built in key order: when their text is the same, so are they,
  // and the deep comparison (slow on 50,000 keys) is only for the diff.
  const [a, b] = [strip(got), strip(want)];
  if (text(a) !== text(b)) expect(a).toEqual(b);
  for (const [k, v] of Object.entries(want)) {
    const a = (v as { pttl: number }).pttl;
    const b = (got[k] as { pttl: number }).pttl;
    if (a >= 0) expect(Math.abs(a - b)).toBeLessThanOrEqual(1000);
  }
}

// The dataset of every database that has keys, by its number.
export async function datasets(port: number): Promise<Record<number, Record<string, unknown>>> {
  const out: Record<number, Record<string, unknown>> = {};
  const conn = await Conn.open(port);
  for (let db = 0; db < 16; db++) {
    await conn.cmd("SELECT", db);
    const d = await dataset(port, db, conn);
    if (Object.keys(d).length > 0) out[db] = d;
  }
  conn.close();
  return out;
}

// The same databases hold the same data (expectSameData, per database).
export function expectSameDatasets(
  got: Record<number, Record<string, unknown>>,
  want: Record<number, Record<string, unknown>>,
  expect: Parameters<typeof expectSameData>[2] & ((v: unknown) => { toEqual(w: unknown): void }),
): void {
  expect(Object.keys(got)).toEqual(Object.keys(want));
  for (const db of Object.keys(want)) expectSameData(got[Number(db)]!, want[Number(db)]!, expect);
}

// A dataset of every type, written with commands.
export async function writeEveryType(conn: Conn): Promise<void> {
  const cmds: (string | number)[][] = [
    ["SET", "plain", "value"],
    ["SET", "ttl", "v", "EX", 500],
    ["SET", "bin", "a\r\nb"],
    ["INCRBYFLOAT", "float", "1.5"],
    ["RPUSH", "list", "a", "b", "c", "d"],
    ["LPOP", "list"],
    ["EXPIRE", "list", 1000],
    ["XADD", "stream", "*", "f", "1"],
    ["XADD", "stream", "*", "f", "2"],
    ["XADD", "stream", "*", "f", "3"],
    ["XGROUP", "CREATE", "stream", "g", "0"],
    ["XREADGROUP", "GROUP", "g", "alice", "COUNT", 2, "STREAMS", "stream", ">"],
    ["XACK", "stream", "g", "0-1"],
    ["XGROUP", "CREATECONSUMER", "stream", "g", "bob"],
    ["XADD", "empty", "5-5", "f", "v"],
    ["XDEL", "empty", "5-5"],
    ["SET", "gone", "x"],
    ["DEL", "gone"],
  ];
  for (const c of cmds) {
    const r = await conn.cmd(...c);
    if (r instanceof Error) throw r;
  }
}
