// redis.ts -- a private, real redis-server for a test, never the machine's own.
//
// The Redis steps are checked against the real thing, and step 09's nodes
// relay through it. Each test that needs one gets its own redis-server on a
// free port, with no persistence (nothing written to disk, nothing read back
// from an earlier run), bound to loopback, and killed when the test is done.
// A test can also kill it and start it again on the same port, which is how
// the fault tests take Redis away from a running chat.

import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import net from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";

export interface RunningRedis {
  port: number;
  url: string;
  /** The running redis-server's process id (the benchmark reads its CPU time). */
  readonly pid: number | undefined;
  /** Every line redis-server printed. */
  logs: string[];
  /** SIGKILL, as a crash would: no goodbye to its clients. Resolves once it is gone. */
  kill(): Promise<void>;
  /** Start it again on the same port (after kill), empty. */
  restart(): Promise<void>;
  /** Stop it for good (SIGTERM). */
  stop(): Promise<void>;
}

// Why not `which`: a clear sentence beats ENOENT from spawn.
export function redisInstalled(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

const MISSING =
  "redis-server is not installed: `apt-get install redis-server redis-tools` (.ci/run does this)";

// A free port on loopback: bind port 0, read what the kernel chose, close.
// Another process could take it in between; on a test machine that is rare
// enough, and startRedis() tries again when it happens.
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const proc of live) proc.kill("SIGKILL");
});

function spawnRedis(port: number, logs: string[]): Promise<ChildProcess> {
  const proc = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "no",
      "--dir",
      "/tmp",
      "--dbfilename",
      `smallchat-test-${port}.rdb`,
      "--loglevel",
      "notice",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  live.add(proc);
  proc.once("exit", () => live.delete(proc));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`redis-server on ${port} did not start:\n${logs.slice(-10).join("\n")}`));
    }, 10000);
    let partial = "";
    const onData = (chunk: Buffer) => {
      const parts = (partial + chunk.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        logs.push(line);
        if (line.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve(proc);
        }
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    proc.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(
        new Error(`redis-server on ${port} exited with ${code}:\n${logs.slice(-10).join("\n")}`),
      );
    });
  });
}

function gone(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once("exit", () => resolve()));
}

// Start a private redis-server on a free port and resolve once it is ready.
export async function startRedis(): Promise<RunningRedis> {
  if (!redisInstalled()) throw new Error(MISSING);
  const logs: string[] = [];
  let proc: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; proc === undefined; attempt++) {
    port = await freePort();
    try {
      proc = await spawnRedis(port, logs);
    } catch (err) {
      if (attempt >= 2) throw err;
    }
  }
  let current: ChildProcess = proc;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return current.pid;
    },
    logs,
    kill: async () => {
      current.kill("SIGKILL");
      await gone(current);
    },
    restart: async () => {
      current = await spawnRedis(port, logs);
    },
    stop: async () => {
      current.kill("SIGTERM");
      await gone(current);
    },
  };
}

// One redis-server for every test of the calling file.
export function redisForAllTests(): () => RunningRedis {
  let redis: RunningRedis | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  return () => {
    if (redis === undefined) throw new Error("redisForAllTests: redis has not started");
    return redis;
  };
}

// A fresh redis-server for each test of the calling file.
export function redisForEachTest(): () => RunningRedis {
  let redis: RunningRedis | undefined;
  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await redis?.stop();
  });
  return () => {
    if (redis === undefined) throw new Error("redisForEachTest: no test is running");
    return redis;
  };
}

// Run redis-cli against a port and resolve with what it printed (stdout).
// `input` goes to its standard input, for piped mode.
export function redisCli(port: number, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "redis-cli",
      ["-h", "127.0.0.1", "-p", String(port), ...args],
      { timeout: 10000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}
