// harness.ts -- start a real server, talk to it over real sockets.
//
// Every test in every step uses these two things and nothing fancier: a
// server process started exactly as a reader starts it (tsx, --port 0), and
// line clients on plain TCP sockets. Waiting is always for an event (a log
// line, a received line, a close) with a timeout, never a sleep: a sleep is
// either too short on a busy CI machine or wastes time everywhere else.

import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { nodeArgs } from "./compiled.ts";

export const DEFAULT_TIMEOUT = 10000;

/* ============================ Waiting =====================================
 * A Waiter collects items (log lines, received lines) and lets a test wait
 * for the first item matching a predicate that has not been taken yet.
 * ======================================================================== */

export type Match = string | RegExp | ((item: string) => boolean);

function matches(item: string, match: Match): boolean {
  if (typeof match === "string") return item.includes(match);
  if (match instanceof RegExp) return match.test(item);
  return match(item);
}

class Waiter {
  readonly items: string[] = [];
  private taken = 0;
  private waiting: Array<() => void> = [];
  private ended: string | null = null;

  push(item: string): void {
    this.items.push(item);
    this.wake();
  }

  end(reason: string): void {
    this.ended = reason;
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const fn of waiting) fn();
  }

  // Resolve with the first item at or after the read position that matches,
  // and move the read position past it (items skipped on the way are kept in
  // `items` for debugging but never returned again).
  wait(match: Match, timeoutMs: number, what: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((fn) => fn !== check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} ${String(match)}; seen:\n` +
              this.items.slice(-20).join("\n"),
          ),
        );
      }, timeoutMs);
      const check = () => {
        for (let i = this.taken; i < this.items.length; i++) {
          const item = this.items[i]!;
          if (matches(item, match)) {
            this.taken = i + 1;
            clearTimeout(timer);
            resolve(item);
            return;
          }
        }
        if (this.ended !== null) {
          clearTimeout(timer);
          reject(new Error(`${what} ended (${this.ended}) before ${String(match)}`));
          return;
        }
        this.waiting.push(check);
      };
      check();
    });
  }

  // Everything not yet taken, and mark it taken.
  drain(): string[] {
    const rest = this.items.slice(this.taken);
    this.taken = this.items.length;
    return rest;
  }
}

/* ============================ Programs ==================================== */

export interface RunningProgram {
  proc: ChildProcess;
  /** Every line the program printed, stdout and stderr. */
  logs: string[];
  /** Wait for a printed line after the last one waited for (lines in between are passed over). */
  waitForLog(match: Match, timeoutMs?: number): Promise<string>;
  /** Write to the program's standard input. */
  write(data: string): void;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const proc of running) proc.kill("SIGKILL");
});

// What a test started and did not stop itself: programs other than servers,
// and client sockets. closeAll() (in an afterEach) ends them, so a failed
// test never leaves a client behind to hear the next test's messages.
const started = { programs: new Set<RunningProgram>(), clients: new Set<LineClient>() };

export function closeAll(): void {
  for (const program of started.programs) program.proc.kill();
  for (const client of started.clients) client.close();
  started.programs.clear();
  started.clients.clear();
}

// Start a .ts entry point as `node --import tsx file ...args`: one process,
// not the two that the `tsx` binary starts, so that a kill really frees
// its port. closeAll() ends it.
export function startProgram(
  file: URL | string,
  args: string[] = [],
  env: Record<string, string> = {},
): RunningProgram {
  const program = launch(file, args, env);
  started.programs.add(program);
  return program;
}

function launch(
  file: URL | string,
  args: string[] = [],
  env: Record<string, string> = {},
): RunningProgram {
  const proc = spawn(process.execPath, nodeArgs(file, args), {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  running.add(proc);
  const log = new Waiter();
  const exited = new Promise<number | null>((resolve) => {
    proc.once("exit", (code) => {
      running.delete(proc);
      log.end(`exited with ${code}`);
      resolve(code);
    });
  });
  for (const stream of [proc.stdout, proc.stderr]) {
    let partial = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) log.push(line);
    });
  }
  return {
    proc,
    logs: log.items,
    waitForLog: (match, timeoutMs = DEFAULT_TIMEOUT) => log.wait(match, timeoutMs, "output"),
    write: (data) => proc.stdin?.write(data),
    exited,
  };
}

/* ============================ Servers ===================================== */

export interface RunningServer extends RunningProgram {
  host: string;
  port: number;
  /** SIGTERM, and resolve with the exit code once the process is gone. */
  stop(): Promise<number | null>;
}

// Start `serverFile` as a reader would, on port 0, and resolve once it
// prints "listening on <host>:<port>".
export async function startServer(
  serverFile: URL | string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<RunningServer> {
  const program = launch(serverFile, ["--host", "127.0.0.1", "--port", "0", ...args], env);
  const ready = await program.waitForLog(/^listening on /, 15000);
  const [, host, port] = /^listening on (.*):(\d+)$/.exec(ready) ?? [];
  const { proc, exited } = program;
  return {
    ...program,
    host: host ?? "127.0.0.1",
    port: Number(port),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      return exited;
    },
  };
}

/* ============================ Clients ===================================== */

export interface LineClient {
  socket: net.Socket;
  /** Every complete line received so far, without its "\n" (or "\r\n"). */
  lines: string[];
  /** Total bytes received, complete lines or not. */
  received(): Buffer;
  /** Wait until the bytes received so far (as UTF-8) contain `text`. */
  waitForText(text: string, timeoutMs?: number): Promise<void>;
  /** Wait for a received line after the last one waited for (lines in between are passed over). */
  waitForLine(match: Match, timeoutMs?: number): Promise<string>;
  /** Wait for the next line, whatever it is. */
  nextLine(timeoutMs?: number): Promise<string>;
  /** Lines received but not yet waited for (and mark them taken). */
  drain(): string[];
  /** Write raw text or bytes; nothing is added. */
  send(data: string | Buffer): Promise<void>;
  /** Resolves when the server closes the connection (or it errors). */
  closed: Promise<void>;
  close(): void;
}

// Connect a line-reading client. By default it waits for the server's
// welcome line so that a test starts once the server knows the client.
export async function connectClient(
  port: number,
  opts: { host?: string; welcome?: Match | null; timeoutMs?: number } = {},
): Promise<LineClient> {
  const { host = "127.0.0.1", welcome = /welcome/i, timeoutMs = DEFAULT_TIMEOUT } = opts;
  const socket = net.connect({ host, port, noDelay: true });
  const inbox = new Waiter();
  const chunks: Buffer[] = [];
  // The raw stream as one "item" that grows, for waits on text that is not
  // (yet) a complete line.
  const raw = new Waiter();
  let partial = "";
  socket.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    raw.push("");
    const parts = (partial + chunk.toString("utf8")).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) inbox.push(line.endsWith("\r") ? line.slice(0, -1) : line);
  });
  const closed = new Promise<void>((resolve) => {
    socket.once("close", () => {
      inbox.end("connection closed");
      raw.end("connection closed");
      resolve();
    });
  });
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const client: LineClient = {
    socket,
    lines: inbox.items,
    received: () => Buffer.concat(chunks),
    waitForText: async (text, ms = timeoutMs) => {
      const has = () => Buffer.concat(chunks).toString("utf8").includes(text);
      if (!has()) await raw.wait(() => has(), ms, `text ${JSON.stringify(text)} in`);
    },
    waitForLine: (match, ms = timeoutMs) => inbox.wait(match, ms, "line"),
    nextLine: (ms = timeoutMs) => inbox.wait(() => true, ms, "next line"),
    drain: () => inbox.drain(),
    send: (data) =>
      new Promise((resolve, reject) =>
        socket.write(data, (err) => (err ? reject(err) : resolve())),
      ),
    closed,
    close: () => socket.destroy(),
  };
  started.clients.add(client);
  if (welcome !== null) await client.waitForLine(welcome);
  return client;
}

// Connect n clients (each past its welcome line).
export function connectClients(port: number, n: number): Promise<LineClient[]> {
  return Promise.all(Array.from({ length: n }, () => connectClient(port)));
}

/* ============================ Floods ======================================
 * To prove that a client which stops reading is dropped while the others
 * lose nothing, a test must send more than the kernel buffers plus the
 * server's 1 MiB output limit, fast, without making the *reader* fall
 * behind too: on a busy CI machine a test process that floods flat out
 * reads too slowly to keep up, and the server rightly drops it as well.
 * So the flood goes in batches, each sent only once the reader has every
 * byte of the one before: the reader is never more than a batch behind,
 * the client that never reads falls behind by everything.
 * ======================================================================== */

export const FLOOD_LINE = `${"z".repeat(4000)}\n`;

// Send `lines` copies of FLOOD_LINE from `sender`, `batch` at a time, and
// resolve once `reader` has received all their payload ("z" bytes: no
// server text contains a "z", and merged or split lines still count).
export async function floodPaced(
  sender: LineClient,
  reader: LineClient,
  lines = 3000,
  batch = 50,
): Promise<void> {
  const payload = FLOOD_LINE.length - 1;
  let seen = 0;
  const count = (bytes: Buffer) => {
    for (const byte of bytes) if (byte === 0x7a) seen++;
  };
  count(reader.received());
  const base = seen;
  let wake = () => {};
  const onData = (chunk: Buffer) => {
    count(chunk);
    wake();
  };
  reader.socket.on("data", onData);
  try {
    for (let sent = 0; sent < lines; sent += batch) {
      const n = Math.min(batch, lines - sent);
      await sender.send(FLOOD_LINE.repeat(n));
      const target = base + (sent + n) * payload;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`reader got ${seen - base} of ${target - base} flood bytes`)),
          20000,
        );
        wake = () => {
          if (seen < target) return;
          clearTimeout(timer);
          resolve();
        };
        wake();
      });
    }
  } finally {
    reader.socket.off("data", onData);
  }
}

// Start a fresh server before each test of the calling file and stop it
// after: tests must not hear each other's clients. Returns the running
// test's server. Clients and programs a test started are closed after it.
export function serverForEachTest(file: URL | string, args: string[] = []): () => RunningServer {
  let server: RunningServer | undefined;
  beforeEach(async () => {
    server = await startServer(file, args);
  });
  afterEach(async () => {
    closeAll();
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error("serverForEachTest: no test is running");
    return server;
  };
}

// One server for every test of the calling file, for tests that keep out
// of each other's way (their own nicks, their own channels). Clients and
// programs a test started are still closed after it.
export function serverForAllTests(file: URL | string, args: string[] = []): () => RunningServer {
  let server: RunningServer | undefined;
  beforeAll(async () => {
    server = await startServer(file, args);
  });
  afterEach(() => closeAll());
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error("serverForAllTests: the server has not started");
    return server;
  };
}
