// redis-safety.test.ts -- Redis 7's safety defaults on every Redis step,
// and the first-hour commands that do not fit the diff harness.
//
// Protected mode is about where a client comes from, so these tests connect
// from 127.0.0.2 (any 127/8 address reaches this machine, and Redis counts
// only 127.0.0.1 and ::1 as local). A password changes what every command
// answers before AUTH, which the diff harness cannot show (its sync PING
// would be refused too), so those replies are compared here with a private
// redis-server started with the same --requirepass.

import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "./src/harness.ts";
import { freePort, redisCli } from "./src/redis.ts";
import { encodeCommand, frameEnd } from "./src/redis-diff.ts";
import { listSteps } from "./src/steps.ts";

// Protected mode, bind, AUTH, CLIENT and SHUTDOWN arrive in step 11; CONFIG
// GET (to read bind back) and INFO (ioredis's ready check) in step 12.
const SINCE = 11;
const CONFIG_SINCE = 12;
const EVERYWHERE = ["--bind", "* -::*"]; // Redis's default: startServer's --host narrows it.

// Connect (from `from`), send each command, read one frame per command
// (or what is left when the server closes). Returns the frames as text.
async function converse(
  port: number,
  commands: string[][],
  opts: { from?: string; host?: string } = {},
): Promise<string[]> {
  const socket = net.connect({
    host: opts.host ?? "127.0.0.1",
    port,
    localAddress: opts.from,
  });
  let buf = Buffer.alloc(0);
  let closed = false;
  let wake: (() => void) | null = null;
  socket.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  });
  socket.on("close", () => {
    closed = true;
    wake?.();
  });
  socket.on("error", () => {});
  const frame = async (): Promise<string> => {
    const deadline = Date.now() + 5000;
    while (true) {
      const end = frameEnd(buf, 0);
      if (end !== -1) {
        const f = buf.toString("latin1", 0, end);
        buf = buf.subarray(end);
        return f;
      }
      if (closed) return buf.length > 0 ? `(closed after ${buf.toString("latin1")})` : "(closed)";
      if (Date.now() > deadline) return "(timeout)";
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  };
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const out: string[] = [];
  for (const cmd of commands) {
    if (!closed) socket.write(encodeCommand(cmd));
    out.push(await frame());
  }
  // What arrives without being asked (DENIED) or after the last reply.
  if (commands.length === 0) out.push(await frame());
  socket.destroy();
  return out;
}

// A private redis-server with extra options (startRedis takes none).
async function startRealRedis(args: string[]): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(
    "redis-server",
    ["--port", String(port), "--save", "", "--appendonly", "no", ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("redis-server did not start")), 10000);
    proc.stdout?.on("data", (d: Buffer) => {
      if (d.toString().includes("Ready to accept connections")) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return { port, proc };
}

const maskId = (frames: string[]) => frames.map((f) => f.replace(/(\r\nid\r\n:)\d+/, "$1<id>"));

// What a client sees before and after AUTH when a password is set.
const AUTH_CONVERSATION = [
  ["PING"],
  ["CLIENT", "ID"],
  ["TIME"],
  ["nosuch"],
  ["ECHO"],
  ["HELLO", "3"],
  ["HELLO", "2", "AUTH", "default", "wrong"],
  ["HELLO", "2", "AUTH", "a", "b", "extra"],
  ["AUTH", "wrong"],
  ["AUTH", "default", "wrong"],
  ["AUTH", "nobody", "sekret"],
  ["AUTH", "a", "b", "c"],
  ["PING"],
  ["AUTH", "sekret"],
  ["PING"],
  ["AUTH", "wrong"],
  ["PING"],
  ["AUTH", "default", "sekret"],
  ["HELLO", "3", "SETNAME", "x", "AUTH", "default", "sekret"],
  ["CLIENT", "GETNAME"],
];

let real: { port: number; proc: ChildProcess };
let realProtected: { port: number; proc: ChildProcess };

beforeAll(async () => {
  real = await startRealRedis(["--requirepass", "sekret"]);
  realProtected = await startRealRedis([]);
});

afterAll(() => {
  real?.proc.kill("SIGKILL");
  realProtected?.proc.kill("SIGKILL");
});

for (const step of listSteps().filter((s) => s.track === "redis" && s.num >= SINCE)) {
  describe(step.name, () => {
    // ioredis's default settings from step 12 on; before, without its
    // ready check (INFO).
    const ioredisOptions = (port: number) => ({
      port,
      host: "127.0.0.1",
      enableReadyCheck: step.num >= CONFIG_SINCE,
    });
    it("protected mode: 127.0.0.2 gets Redis's DENIED and is closed; 127.0.0.1 and ::1 are served", async () => {
      const server = await startServer(step.server, EVERYWHERE);
      try {
        const theirs = await converse(realProtected.port, [["PING"]], { from: "127.0.0.2" });
        expect(theirs[0]).toMatch(/^-DENIED Redis is running in protected mode/);
        expect(await converse(server.port, [["PING"]], { from: "127.0.0.2" })).toEqual(theirs);
        // Even without sending anything: the DENIED comes on connect.
        expect(await converse(server.port, [], { from: "127.0.0.2" })).toEqual([theirs[0]]);
        expect(await converse(server.port, [["PING"]])).toEqual(["+PONG\r\n"]);
        // The default bind is "* -::*": IPv6 too, as redis-cli -h ::1 shows.
        expect(await redisCli(server.port, ["-h", "::1", "PING"]).catch(String)).toBe("PONG\n");
        if (step.num >= CONFIG_SINCE) {
          expect(await converse(server.port, [["CONFIG", "GET", "bind"]])).toEqual([
            "*2\r\n$4\r\nbind\r\n$6\r\n* -::*\r\n",
          ]);
          expect(await converse(server.port, [["CONFIG", "GET", "protected-mode"]])).toEqual([
            "*2\r\n$14\r\nprotected-mode\r\n$3\r\nyes\r\n",
          ]);
        }
      } finally {
        await server.stop();
      }
    });

    it("--protected-mode no lets 127.0.0.2 in; --bind says where we listen", async () => {
      const server = await startServer(step.server, [
        "--bind",
        "127.0.0.1 ::1",
        "--protected-mode",
        "no",
      ]);
      try {
        expect(await converse(server.port, [["PING"]], { from: "127.0.0.2" })).toEqual([
          "+PONG\r\n",
        ]);
        expect(await converse(server.port, [["PING"]], { host: "::1" })).toEqual(["+PONG\r\n"]);
        if (step.num >= CONFIG_SINCE) {
          expect(await converse(server.port, [["CONFIG", "GET", "bind"]])).toEqual([
            "*2\r\n$4\r\nbind\r\n$13\r\n127.0.0.1 ::1\r\n",
          ]);
        }
        // 127.0.0.2 is not bound: nobody listens there.
        await expect(converse(server.port, [["PING"]], { host: "127.0.0.2" })).rejects.toThrow(
          /ECONNREFUSED/,
        );
      } finally {
        await server.stop();
      }
    });

    it("--requirepass: NOAUTH, AUTH and HELLO AUTH answer as redis-server does", async () => {
      const server = await startServer(step.server, [...EVERYWHERE, "--requirepass", "sekret"]);
      try {
        // From step 14 on, SUBSCRIBE before AUTH is refused too.
        const conversation =
          step.num >= 14 ? [["SUBSCRIBE", "a"], ...AUTH_CONVERSATION] : AUTH_CONVERSATION;
        const theirs = maskId(await converse(real.port, conversation));
        expect(maskId(await converse(server.port, conversation))).toEqual(theirs);
        // With a password, protected mode lets other addresses in: they must AUTH.
        expect(
          await converse(server.port, [["PING"], ["AUTH", "sekret"], ["PING"]], {
            from: "127.0.0.2",
          }),
        ).toEqual(["-NOAUTH Authentication required.\r\n", "+OK\r\n", "+PONG\r\n"]);
        // redis-cli, ioredis and node-redis with a password, as a user would.
        expect(await redisCli(server.port, ["--no-auth-warning", "-a", "sekret", "PING"])).toBe(
          "PONG\n",
        );
        expect(await redisCli(server.port, ["PING"])).toMatch(/NOAUTH/);
        const io = new Redis({ ...ioredisOptions(server.port), password: "sekret" });
        try {
          expect(await io.ping()).toBe("PONG");
        } finally {
          io.disconnect();
        }
        const nr = createClient({
          socket: { host: "127.0.0.1", port: server.port, localAddress: "127.0.0.2" },
          password: "sekret",
        });
        nr.on("error", () => {});
        await nr.connect();
        try {
          expect(await nr.ping()).toBe("PONG");
        } finally {
          nr.destroy();
        }
      } finally {
        await server.stop();
      }
    });

    it("ioredis and node-redis connect (CLIENT SETINFO refused)", async () => {
      const server = await startServer(step.server);
      try {
        const io = new Redis(ioredisOptions(server.port));
        try {
          expect(await io.ping()).toBe("PONG");
        } finally {
          io.disconnect();
        }
        const nr = createClient({ socket: { host: "127.0.0.1", port: server.port } });
        nr.on("error", () => {});
        await nr.connect();
        try {
          expect(await nr.ping()).toBe("PONG");
          // node-redis parses CLIENT INFO into an object.
          const info = await nr.clientInfo();
          expect(info.id).toBeGreaterThan(0);
          expect(info.cmd).toBe("client|info");
          expect(info.flags).toBe("N");
        } finally {
          nr.destroy();
        }
      } finally {
        await server.stop();
      }
    });

    it("CLIENT KILL closes another connection by ip:port and by ID", async () => {
      const server = await startServer(step.server);
      try {
        const victim = new Redis({
          ...ioredisOptions(server.port),
          retryStrategy: () => null,
        });
        const closed = new Promise<void>((resolve) => victim.once("end", () => resolve()));
        const id = await victim.client("ID");
        const killer = new Redis(ioredisOptions(server.port));
        try {
          const list = String(await killer.client("LIST"));
          const addr = new RegExp(`^id=${id} addr=(\\S+) `, "m").exec(list)?.[1];
          expect(await killer.client("KILL", addr!)).toBe("OK");
          await closed;
          const other = new Redis({
            ...ioredisOptions(server.port),
            retryStrategy: () => null,
          });
          const gone = new Promise<void>((resolve) => other.once("end", () => resolve()));
          const otherId = await other.client("ID");
          expect(await killer.client("KILL", "ID", String(otherId))).toBe(1);
          await gone;
        } finally {
          killer.disconnect();
        }
      } finally {
        await server.stop();
      }
    });

    // Sixteen databases arrive with the keyspace, in step 15.
    if (step.num >= 15)
      it("redis-cli -n 2 uses database 2; --databases N sets how many", async () => {
        const server = await startServer(step.server, ["--databases", "4"]);
        try {
          expect(await redisCli(server.port, ["-n", "2", "SET", "k", "two"])).toBe("OK\n");
          expect(await redisCli(server.port, ["-n", "2", "GET", "k"])).toBe("two\n");
          expect(await redisCli(server.port, ["GET", "k"])).toBe("\n");
          expect(await redisCli(server.port, ["-n", "3", "DBSIZE"])).toBe("0\n");
          expect(
            await converse(server.port, [
              ["SELECT", "3"],
              ["SELECT", "4"],
              ["CONFIG", "GET", "databases"],
            ]),
          ).toEqual([
            "+OK\r\n",
            "-ERR DB index is out of range\r\n",
            "*2\r\n$9\r\ndatabases\r\n$1\r\n4\r\n",
          ]);
        } finally {
          await server.stop();
        }
      });

    it("SHUTDOWN stops the server (exit 0); redis-cli shutdown prints nothing", async () => {
      for (const args of [["SHUTDOWN"], ["shutdown", "nosave"], ["SHUTDOWN", "SAVE", "NOW"]]) {
        const server = await startServer(step.server);
        expect(await redisCli(server.port, args)).toBe("");
        expect(await server.exited).toBe(0);
      }
    });
  });
}
