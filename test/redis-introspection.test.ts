// redis-introspection.test.ts -- what monitoring tools read from every Redis step:
// INFO's sections and field names (compared with a real redis-server's),
// its figures (memory from the process, command counts and times), CONFIG
// SET and RESETSTAT taking effect, redis-cli --stat and --memkeys, and
// (from step 13, with COMMAND DOCS) redis-cli's help and typing hints.
//
// Exact replies live in the diff families (test/diff/info.ts,
// test/diff/introspection*.ts);
// here are the figures that differ on every run and the tools that read
// them.

import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { serverForAllTests } from "./src/harness.ts";
import { killAll, spawnInPty } from "./src/pty.ts";
import { redisCli, redisForAllTests } from "./src/redis.ts";
import { encodeCommand, frameEnd } from "./src/redis-diff.ts";
import { listSteps } from "./src/steps.ts";

afterAll(killAll);

// A connection that sends one command and reads its one reply.
async function connect(port: number) {
  const socket = net.connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  let buf = Buffer.alloc(0);
  let wake: (() => void) | null = null;
  socket.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  });
  // The next reply, as text (a bulk string's content, other frames raw).
  const reply = async (timeoutMs = 10000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    while (frameEnd(buf, 0) === -1) {
      if (Date.now() > deadline) throw new Error(`no reply; have ${JSON.stringify(String(buf))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    const end = frameEnd(buf, 0);
    const frame = buf.toString("latin1", 0, end);
    buf = buf.subarray(end);
    const bulk = /^\$\d+\r\n([\s\S]*)\r\n$/.exec(frame);
    return bulk ? bulk[1]! : frame;
  };
  const send = (...args: string[]) => socket.write(encodeCommand(args));
  const ask = async (...args: string[]) => {
    send(...args);
    return reply();
  };
  return { send, reply, ask, close: () => socket.destroy() };
}

// INFO's text as section title -> field -> value.
function parseInfo(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    if (line.startsWith("# ")) {
      current = new Map();
      sections.set(line.slice(2), current);
    } else if (line !== "") {
      const colon = line.indexOf(":");
      current.set(line.slice(0, colon), line.slice(colon + 1));
    }
  }
  return sections;
}

function stat(info: string, section: string, field: string): string | undefined {
  return parseInfo(info).get(section)?.get(field);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

// `redis-cli help <topic>` for the commands each step brings.
const HELP_TOPICS: [number, string][] = [
  [13, "PING"],
  [13, "CONFIG SET"],
  [13, "CLIENT LIST"],
  [13, "COMMAND LIST"],
  [15, "MSET"],
  [17, "SET"],
  [17, "EXPIRE"],
  [17, "SCAN"],
  [18, "LPOS"],
  [19, "BLMOVE"],
  [20, "XADD"],
  [22, "XREADGROUP"],
  [21, "XINFO STREAM"],
  [24, "WATCH"],
];

// Two fields of our own, from the persistence step on: what the last start
// loaded from the append-only file (Redis says it only in its log).
const OUR_FIELDS = new Set(["aof_last_load_keys_loaded", "aof_last_load_truncated"]);

// INFO and CONFIG arrive in step 12, COMMAND DOCS (redis-cli's help and
// hints) in step 13.
const redisSteps = listSteps().filter((s) => s.track === "redis" && s.num >= 12);
const COMMAND_DOCS_SINCE = 13;

describe("INFO and CONFIG, every Redis step", () => {
  const redis = redisForAllTests();
  for (const step of redisSteps) {
    describe(step.name, () => {
      const server = serverForAllTests(step.server);

      it("INFO everything: Redis 7.0's section titles and field names only", async () => {
        const theirs = parseInfo(await (await connect(redis().port)).ask("INFO", "everything"));
        const ours = parseInfo(await (await connect(server().port)).ask("INFO", "everything"));
        for (const [title, fields] of ours) {
          expect(theirs.has(title), `section ${title}`).toBe(true);
          const known = theirs.get(title)!;
          for (const name of fields.keys()) {
            if (title === "Commandstats") expect(name).toMatch(/^cmdstat_[a-z|-]+$/);
            else if (title === "Errorstats") expect(name).toMatch(/^errorstat_[A-Z]+$/);
            else if (title === "Keyspace") expect(name).toBe("db0");
            else if (!OUR_FIELDS.has(name)) expect(known.has(name), `${title}: ${name}`).toBe(true);
          }
        }
        for (const title of ["Server", "Clients", "Memory", "Persistence", "Stats"]) {
          expect(ours.has(title), title).toBe(true);
        }
        for (const title of ["Replication", "CPU", "Commandstats", "Errorstats", "Cluster"]) {
          expect(ours.has(title), title).toBe(true);
        }
      });

      it("INFO server clients answers both sections, and no other", async () => {
        const c = await connect(server().port);
        const info = parseInfo(await c.ask("INFO", "server", "CLIENTS"));
        expect([...info.keys()]).toEqual(["Server", "Clients"]);
        expect(info.get("Server")!.get("redis_version")).toBe("7.0.15");
        expect(info.get("Server")!.get("tcp_port")).toBe(String(server().port));
        expect(Number(info.get("Clients")!.get("connected_clients"))).toBeGreaterThanOrEqual(1);
        const def = parseInfo(await c.ask("INFO"));
        expect(def.has("Memory") && def.has("Keyspace") && !def.has("Commandstats")).toBe(true);
        c.close();
      });

      it("INFO memory and cpu: the process's own figures", async () => {
        const c = await connect(server().port);
        const info = await c.ask("INFO", "memory", "cpu");
        const used = Number(stat(info, "Memory", "used_memory"));
        const rss = Number(stat(info, "Memory", "used_memory_rss"));
        expect(used).toBeGreaterThan(1_000_000); // A Node process holds megabytes.
        expect(rss).toBeGreaterThan(used / 2);
        expect(Number(stat(info, "Memory", "used_memory_peak"))).toBeGreaterThanOrEqual(used);
        expect(stat(info, "Memory", "used_memory_human")).toMatch(/^\d+\.\d\dM$/);
        expect(stat(info, "Memory", "maxmemory_policy")).toBe("noeviction");
        expect(Number(stat(info, "CPU", "used_cpu_user"))).toBeGreaterThan(0);
        c.close();
      });

      it("commandstats counts calls, rejected and failed calls; RESETSTAT zeroes them", async () => {
        const c = await connect(server().port);
        expect(await c.ask("CONFIG", "RESETSTAT")).toBe("+OK\r\n");
        for (let i = 0; i < 3; i++) await c.ask("PING");
        await c.ask("ECHO"); // Refused before it runs: wrong arity.
        await c.ask("CONFIG", "SET", "nosuch", "1"); // Runs, answers an error.
        const info = await c.ask("INFO", "commandstats", "errorstats", "stats");
        expect(stat(info, "Commandstats", "cmdstat_ping")).toMatch(
          /^calls=3,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0$/,
        );
        expect(stat(info, "Commandstats", "cmdstat_echo")).toMatch(
          /^calls=0,usec=0,usec_per_call=0\.00,rejected_calls=1,failed_calls=0$/,
        );
        expect(stat(info, "Commandstats", "cmdstat_config|set")).toMatch(
          /^calls=1,.*,rejected_calls=0,failed_calls=1$/,
        );
        expect(stat(info, "Errorstats", "errorstat_ERR")).toBe("count=2");
        expect(stat(info, "Stats", "total_error_replies")).toBe("2");
        // RESETSTAT, then INFO: only those two ran since.
        expect(await c.ask("CONFIG", "RESETSTAT")).toBe("+OK\r\n");
        const after = parseInfo(await c.ask("INFO", "commandstats", "stats"));
        expect([...after.get("Commandstats")!.keys()].sort()).toEqual(["cmdstat_config|resetstat"]);
        expect(after.get("Stats")!.get("total_commands_processed")).toBe("1");
        c.close();
      });

      it("CONFIG GET dir is the working directory; CONFIG SET reaches open connections", async () => {
        const c = await connect(server().port);
        expect(await c.ask("CONFIG", "GET", "dir")).toBe(
          `*2\r\n$3\r\ndir\r\n$${Buffer.byteLength(process.cwd())}\r\n${process.cwd()}\r\n`,
        );
        const other = await connect(server().port);
        expect(await c.ask("CONFIG", "SET", "proto-max-bulk-len", "1mb")).toBe("+OK\r\n");
        other.send("ECHO", "x".repeat(1024 * 1024 + 1));
        expect(await other.reply()).toBe("-ERR Protocol error: invalid bulk length\r\n");
        expect(await c.ask("CONFIG", "SET", "proto-max-bulk-len", "512mb")).toBe("+OK\r\n");
        c.close();
        other.close();
      });

      it("redis-cli --stat shows the memory figure", async () => {
        const cli = spawnInPty("redis-cli", ["-p", String(server().port), "--stat", "-i", "0.2"]);
        const screen = await cli.waitForText(
          /\n\d+\s+\d+(\.\d+)?[BKMG]\s+\d+\s+\d+\s+\d+ \(\+\d+\)/,
        );
        expect(screen.text).not.toContain("-9223372036854775808");
        cli.kill();
      });

      // Before step 13, redis-cli's COMMAND DOCS gets an error and it falls
      // back on its own copy of Redis 7.0's table: these would pass without
      // proving anything about the server.
      if (step.num >= COMMAND_DOCS_SINCE) {
        it("redis-cli help prints the arguments it prints against redis-server", async () => {
          const topics = HELP_TOPICS.filter(([since]) => since <= step.num).map(([, t]) => t);
          for (const topic of topics) {
            const ours = await redisCli(server().port, ["help", ...topic.split(" ")]);
            const theirs = await redisCli(redis().port, ["help", ...topic.split(" ")]);
            expect(ours, topic).toBe(theirs);
          }
        });

        it("interactive redis-cli shows the typing hint of a command", async () => {
          const port = server().port;
          const cli = spawnInPty("redis-cli", ["-p", String(port)]);
          await cli.waitForText(`127.0.0.1:${port}>`);
          cli.write("PING ");
          await cli.waitForText("PING [message]");
          cli.write("\x15QUIT\r"); // Ctrl-U clears the line.
          await cli.waitForExit();
        });
      }

      if (step.num >= 17) {
        it("redis-cli --memkeys weighs keys with MEMORY USAGE", async () => {
          const port = server().port;
          await redisCli(port, ["SET", "memkey", "x".repeat(1000)]);
          const out = await redisCli(port, ["--memkeys"]);
          const bytes = /Biggest string found '"memkey"' has (\d+) bytes/.exec(out);
          expect(bytes, out).not.toBeNull();
          expect(Number(bytes![1])).toBeGreaterThan(1000);
          expect(Number(bytes![1])).toBeLessThan(2000);
          await redisCli(port, ["DEL", "memkey"]);
        });
      }

      if (step.num >= 19) {
        it("a blocked command counts as one call, once it is served", async () => {
          const c = await connect(server().port);
          const waiter = await connect(server().port);
          await c.ask("DEL", "introspection:q");
          expect(await c.ask("CONFIG", "RESETSTAT")).toBe("+OK\r\n");
          waiter.send("BLPOP", "introspection:q", "0");
          await waitFor("the waiter to block", async () =>
            (await c.ask("INFO", "clients")).includes("blocked_clients:1"),
          );
          const blocked = await c.ask("INFO", "commandstats");
          expect(stat(blocked, "Commandstats", "cmdstat_blpop")).toBeUndefined();
          await c.ask("RPUSH", "introspection:q", "v");
          expect(await waiter.reply()).toContain("introspection:q");
          const served = await c.ask("INFO", "commandstats");
          expect(stat(served, "Commandstats", "cmdstat_blpop")).toMatch(/^calls=1,/);
          waiter.send("BLPOP", "introspection:q", "0.01"); // Times out: a second call.
          expect(await waiter.reply()).toBe("*-1\r\n");
          const timedOut = await c.ask("INFO", "commandstats");
          expect(stat(timedOut, "Commandstats", "cmdstat_blpop")).toMatch(/^calls=2,/);
          c.close();
          waiter.close();
        });
      }
    });
  }
});
