// matrix.test.ts -- every behaviour, run against every step.
//
// One table says which step teaches which behaviour (`since`). A step at or
// after `since` must show the behaviour. A step before it either lacks the
// feature (the cell is empty) or, when the behaviour fixes a naive
// shortcut, must still show that shortcut (`naive`): step 01 really merges
// two lines sent in one packet. So the matrix documents the evolution, and
// fails both when a later step regresses and when an earlier step is
// quietly "fixed" without its README telling the story.

import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { joinNode, startNodes } from "./src/cluster.ts";
import { testSteps } from "./src/corpus.ts";
import {
  closeAll,
  connectClient,
  floodPaced,
  type LineClient,
  type RunningServer,
  startProgram,
  startServer,
} from "./src/harness.ts";
import { killAll, spawnTsInPty } from "./src/pty.ts";
import { startRedis } from "./src/redis.ts";
import { listSteps, type Step } from "./src/steps.ts";

interface Ctx {
  step: Step;
  server: RunningServer;
  connect(): Promise<LineClient>;
}

interface Behaviour {
  name: string;
  /** First step that has it. */
  since: number;
  /** Steps from `since` on must pass this. */
  check(ctx: Ctx): Promise<void>;
  /** Steps before `since`: assert the known limitation. Absent: not applicable. */
  naive?: (ctx: Ctx) => Promise<void>;
  /** First step with the limitation (the feature it limits arrived there); default: step 01. */
  naiveSince?: number;
}

// Set the nick and wait until the server has really taken it: in step 01 a
// line written right after /nick could arrive in the same read as the /nick.
async function nick(ctx: Ctx, c: LineClient, name: string): Promise<void> {
  await c.send(`/nick ${name}\n`);
  await ctx.server.waitForLog(`is now known as ${name}`);
}

// Flood past a client that never reads (client 1), paced by a reader that
// does (client 3), from a sender (client 2). Returns once the reader has it all.
async function floodPastSlowClient(ctx: Ctx): Promise<void> {
  const slow = await ctx.connect();
  slow.socket.pause();
  const sender = await ctx.connect();
  const reader = await ctx.connect();
  await floodPaced(sender, reader, 3000);
}

// The timer (the "tr" column of /proc/net/tcp) on the server's end of the
// connection from `clientPort`: "02" is the keepalive timer, "00" none.
function keepaliveTimer(serverPort: number, clientPort: number): string | undefined {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");
  const ours = `:${hex(serverPort)} 0100007F:${hex(clientPort)} `;
  const row = readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .find((l) => l.includes(ours));
  return row?.trim().split(/\s+/)[5]?.split(":")[0];
}

// A keyed piped client (step 06 on), named by a typed /nick, which every
// keyed client understands, once the server has taken the nick.
const KEY_ENV = { SMALLCHAT_KEY: "sck1.CSMWmGn_MHNrKJtltoJdKcnd0Q44HHE8St6bKFWClE0" };
async function keyedClient(ctx: Ctx, name: string) {
  const program = startProgram(ctx.step.client!, ["127.0.0.1", String(ctx.server.port)], KEY_ENV);
  await program.waitForLog(/Welcome/);
  program.write(`/nick ${name}\n`);
  await ctx.server.waitForLog((l) => l.endsWith(`is now known as ${name}`));
  return program;
}

// Alice says something sealed; once she has left, a raw socket that
// recorded it takes her nick and sends the sealed line again. Returns bob,
// past the first time he was shown the line.
async function replayToBob(ctx: Ctx) {
  const mallory = await ctx.connect();
  const bob = await keyedClient(ctx, "bob");
  const alice = await keyedClient(ctx, "alice");
  alice.write("pay mallory 5 euros\n");
  const relayed = await mallory.waitForLine(/^alice> ~sc/);
  await bob.waitForLog("[e2e] alice> pay mallory 5 euros");
  alice.proc.kill();
  await ctx.server.waitForLog(/^Disconnected client id=\d+, nick=alice:/);
  await mallory.send("/nick alice\n/who\n");
  expect((await mallory.waitForLine(/^Users: /)).split(" ")).toContain("alice");
  await mallory.send(`${relayed.slice("alice> ".length)}\n`);
  return bob;
}

// Several nodes of this step on one private redis-server (step 09 on):
// run `fn` with them, connected, then stop them all.
async function withCluster(
  ctx: Ctx,
  n: number,
  fn: (nodes: RunningServer[]) => Promise<void>,
): Promise<void> {
  const redis = await startRedis();
  const nodes: RunningServer[] = [];
  try {
    await fn(await startNodes(ctx.step.server, redis.url, n, nodes));
  } finally {
    closeAll();
    await Promise.all(nodes.map((node) => node.stop()));
    await redis.stop();
  }
}

const BEHAVIOURS: Behaviour[] = [
  {
    name: "welcome line hints at /nick",
    since: 1,
    async check(ctx) {
      const a = await connectClient(ctx.server.port, { welcome: null });
      expect(await a.nextLine()).toBe("Welcome to Simple Chat! Use /nick <nick> to set your nick.");
    },
  },
  {
    name: "fanout excludes the sender",
    since: 1,
    async check(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send("ping\n");
      expect(await b.nextLine()).toBe("user:1> ping");
      await b.send("pong\n");
      expect(await a.nextLine()).toBe("user:2> pong");
    },
  },
  {
    name: "/nick renames, other commands are refused",
    since: 1,
    async check(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await nick(ctx, a, "alice");
      await a.send("/dance\n");
      expect(await a.nextLine()).toBe("Unsupported command");
      await a.send("hi\n");
      expect(await b.nextLine()).toBe("alice> hi");
    },
  },
  {
    name: "half a line waits for the rest",
    since: 2,
    async check(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send("hel");
      await a.send("lo\n");
      expect(await b.nextLine()).toBe("user:1> hello");
    },
    async naive(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send("hel");
      await b.waitForText("user:1> hel");
      await a.send("lo\n");
      expect(await b.nextLine()).toBe("user:1> heluser:1> lo");
    },
  },
  {
    name: "two lines in one packet are two messages",
    since: 2,
    async check(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send("one\ntwo\n");
      expect([await b.nextLine(), await b.nextLine()]).toEqual(["user:1> one", "user:1> two"]);
    },
    async naive(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send("one\ntwo\n");
      expect([await b.nextLine(), await b.nextLine()]).toEqual(["user:1> one", "two"]);
    },
  },
  {
    name: "CRLF line endings are stripped",
    since: 2,
    async check(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send("telnet\r\n");
      await b.waitForLine("user:1> telnet");
      expect(b.received().toString()).toContain("user:1> telnet\n");
    },
    async naive(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send("telnet\r\n");
      await b.waitForLine("user:1> telnet");
      expect(b.received().toString()).toContain("user:1> telnet\r\n");
    },
  },
  {
    name: "an overlong line is refused with an error",
    since: 2,
    async check(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send(`${"x".repeat(10000)}\nshort\n`);
      expect(await a.nextLine()).toMatch(/^ERR line too long/);
      expect(await b.nextLine()).toBe("user:1> short");
    },
    async naive(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send(`${"x".repeat(10000)}\n`);
      await b.waitForText(`${"x".repeat(10000)}\n`);
      expect(a.lines.filter((l) => l.startsWith("ERR"))).toEqual([]);
    },
  },
  {
    name: "a client that stops reading is dropped, the rest lose nothing",
    since: 2,
    async check(ctx) {
      await floodPastSlowClient(ctx);
      await ctx.server.waitForLog(/^Disconnected client id=1, .*output buffer over/, 20000);
    },
    async naive(ctx) {
      // Step 01 keeps everything for the slow client in memory, for ever:
      // once the reader has every byte, the slow client is still connected.
      await floodPastSlowClient(ctx);
      expect(ctx.server.logs.join("\n")).not.toMatch(/Disconnected client id=1/);
    },
  },
  {
    name: "invalid UTF-8 gets an error line",
    since: 2,
    async check(ctx) {
      const a = await ctx.connect();
      await a.send(Buffer.from([0xff, 0xfe, 0x0a]));
      expect(await a.nextLine()).toBe("ERR invalid UTF-8: line discarded");
    },
    async naive(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send(Buffer.from([0xff, 0xfe, 0x0a]));
      expect(await b.nextLine()).toBe("user:1> \ufffd\ufffd");
    },
  },
  {
    name: "garbage and resets do not stop the server",
    since: 1,
    async check(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send(Buffer.from([0, 1, 2, 0xc0, 0x80, 0xed, 0xa0, 0x80, 27, 0x5b, 0x41, 10]));
      await a.send("half a li");
      a.socket.resetAndDestroy();
      // Not anchored: step 01 prints messages without adding a newline.
      await ctx.server.waitForLog(/Disconnected client id=1/);
      const c = await ctx.connect();
      await c.send("alive\n");
      expect(await b.waitForLine(/> alive$/)).toMatch(/user:3> alive$/);
    },
  },
  {
    name: "C1 controls are neutralised like C0",
    since: 2,
    async check(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send("\u009b2J\u001b[2J\n");
      expect(await b.nextLine()).toBe("user:1> \ufffd2J\ufffd[2J");
    },
    async naive(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send("\u009b2J\n");
      expect(await b.nextLine()).toBe("user:1> \u009b2J");
    },
  },
  {
    name: "whitespace-only lines are not relayed",
    since: 2,
    async check(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send("   \n");
      await a.send("after\n");
      expect(await b.nextLine()).toBe("user:1> after");
    },
    async naive(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send("   \n");
      expect(await b.nextLine()).toBe("user:1>    ");
    },
  },
  {
    name: "command names in any case; /nick alone gets its usage",
    since: 2,
    async check(ctx) {
      const a = await ctx.connect();
      await a.send("/nick\n");
      expect(await a.nextLine()).toBe("ERR usage: /nick <nick>");
      await nick(ctx, a, "x");
      await a.send("/NICK Loud\n");
      await ctx.server.waitForLog("is now known as Loud");
    },
    async naive(ctx) {
      const a = await ctx.connect();
      await a.send("/nick\n");
      expect(await a.nextLine()).toBe("Unsupported command");
      await a.send("/NICK Loud\n");
      expect(await a.nextLine()).toBe("Unsupported command");
    },
  },
  {
    name: "the text after the last newline is relayed at end of input",
    since: 2,
    async check(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send("one\nlast");
      a.socket.end();
      expect([await b.nextLine(), await b.nextLine()]).toEqual(["user:1> one", "user:1> last"]);
    },
    async naive(ctx) {
      // Step 01 relays each read as it comes, so the last words do go out,
      // glued to the read they came in and without a newline.
      const a = await ctx.connect();
      const b = await ctx.connect();
      await a.send("one\nlast");
      a.socket.end();
      await b.waitForText("user:1> one\nlast");
      expect(b.received().toString()).not.toContain("user:1> last");
    },
  },
  {
    name: "a client that ended its input keeps receiving",
    since: 2,
    async check(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      a.socket.end();
      await ctx.server.waitForLog("Client id=1 ended its input");
      await b.send("still there?\n");
      expect(await a.waitForLine(/still there/)).toBe("user:2> still there?");
    },
    async naive(ctx) {
      const a = await ctx.connect();
      await ctx.connect();
      a.socket.end();
      await ctx.server.waitForLog(/Disconnected client id=1, nick=user:1: closed by peer/);
      await a.closed;
    },
  },
  {
    // A vanished peer cannot be staged on loopback without root: check the
    // kernel's view instead, the keepalive timer on the server's socket.
    name: "TCP keepalive notices a vanished peer",
    since: 2,
    async check(ctx) {
      if (process.platform !== "linux") return;
      expect(keepaliveTimer(ctx.server.port, (await ctx.connect()).socket.localPort!)).toBe("02");
    },
    async naive(ctx) {
      if (process.platform !== "linux") return;
      expect(keepaliveTimer(ctx.server.port, (await ctx.connect()).socket.localPort!)).toBe("00");
    },
  },
  {
    name: "nicks are unique",
    since: 3,
    async check(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await nick(ctx, a, "alice");
      await b.send("/nick alice\n");
      expect(await b.nextLine()).toBe("ERR nick alice is already taken");
    },
    async naive(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      const c = await ctx.connect();
      await nick(ctx, a, "alice");
      await nick(ctx, b, "alice");
      await a.send("one\n");
      expect(await c.nextLine()).toBe("alice> one");
      await b.send("two\n");
      expect(await c.nextLine()).toBe("alice> two");
    },
  },
  {
    name: "nicks refuse invisible, control and bidi characters",
    since: 3,
    async check(ctx) {
      const a = await ctx.connect();
      await a.send("/nick root\u200b\n");
      expect(await a.nextLine()).toBe(
        "ERR invalid nick: U+200B is an invisible, control or bidi character",
      );
    },
    async naive(ctx) {
      const a = await ctx.connect();
      await nick(ctx, a, "root\u200b");
    },
  },
  {
    name: "/msg sends a private message",
    since: 3,
    async check(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      await nick(ctx, b, "bob");
      await a.send("/msg bob psst\n");
      expect(await b.nextLine()).toBe("user:1> (private) psst");
    },
    async naive(ctx) {
      const a = await ctx.connect();
      await a.send("/msg bob psst\n");
      expect(await a.nextLine()).toBe("Unsupported command");
    },
  },
  {
    name: "/who lists the connected nicks",
    since: 3,
    async check(ctx) {
      const a = await ctx.connect();
      await ctx.connect();
      await a.send("/who\n");
      expect(await a.nextLine()).toBe("Users: user:1 user:2");
    },
    async naive(ctx) {
      const a = await ctx.connect();
      await a.send("/who\n");
      expect(await a.nextLine()).toBe("Unsupported command");
    },
  },
  {
    name: "2,000 clients at once",
    since: 1,
    async check(ctx) {
      const clients: LineClient[] = [];
      for (let i = 0; i < 8; i++) {
        clients.push(...(await Promise.all(Array.from({ length: 250 }, () => ctx.connect()))));
      }
      await clients[0]!.send("crowd\n");
      await Promise.all(clients.slice(1).map((c) => c.waitForLine("user:1> crowd", 15000)));
    },
  },
  {
    name: "encrypted chat: the server relays only ciphertext",
    since: 6,
    async check(ctx) {
      const sniffer = await ctx.connect();
      const bob = await keyedClient(ctx, "bob");
      const alice = await keyedClient(ctx, "alice");
      alice.write("meet at the old mill\n");
      await bob.waitForLog("[e2e] alice> meet at the old mill");
      expect(await sniffer.waitForLine(/^alice> /)).toMatch(/^alice> ~sc\d+ [A-Za-z0-9+/=]+$/);
      expect(sniffer.received().toString()).not.toContain("old mill");
      expect(ctx.server.logs.join("\n")).not.toContain("old mill");
    },
  },
  {
    // A keyed client never sends what the user typed in clear, and a line
    // typed before the server confirmed the nick waits for it.
    name: "keyed client: nothing typed leaks or is lost",
    since: 7,
    async check(ctx) {
      const sniffer = await ctx.connect();
      const key = { SMALLCHAT_KEY: "sck1.CSMWmGn_MHNrKJtltoJdKcnd0Q44HHE8St6bKFWClE0" };
      const args = (nick: string) => ["127.0.0.1", String(ctx.server.port), "--nick", nick];
      const bob = startProgram(ctx.step.client!, args("bob"), key);
      await bob.waitForLog("* you are now known as bob");
      const alice = startProgram(ctx.step.client!, args("alice"), key);
      alice.write("/me the code is 1234\nfirst words\n");
      await alice.waitForLog(/^\[!\] not sent: \/me is not a command/);
      await bob.waitForLog("[e2e] alice> first words");
      expect(sniffer.received().toString()).not.toMatch(/1234|first words/);
    },
  },
  {
    name: "a keyed client refuses a replayed sealed line",
    since: 7,
    naiveSince: 6,
    async check(ctx) {
      const bob = await replayToBob(ctx);
      await bob.waitForLog("[!] alice> replayed message rejected");
      expect(bob.logs.filter((l) => l.includes("pay mallory"))).toHaveLength(1);
    },
    async naive(ctx) {
      // Step 06 has no memory of what it opened: the same line opens again.
      const bob = await replayToBob(ctx);
      await bob.waitForLog("[e2e] alice> pay mallory 5 euros");
    },
  },
  {
    // Alice asks for a nick that is taken, and says a line right after.
    name: "a keyed client seals with the nick the server gave it",
    since: 7,
    naiveSince: 6,
    async check(ctx) {
      const bob = await keyedClient(ctx, "bob");
      const alice = await keyedClient(ctx, "alice");
      alice.write("/nick bob\nstill alice\n");
      expect(await bob.waitForLog(/> still alice$/)).toBe("[e2e] alice> still alice");
      expect(bob.logs.filter((l) => l.startsWith("[!]"))).toEqual([]);
    },
    async naive(ctx) {
      // Step 06 seals with the nick it asked for, and bob is told it was relabeled.
      const bob = await keyedClient(ctx, "bob");
      const alice = await keyedClient(ctx, "alice");
      alice.write("/nick bob\nstill alice\n");
      await bob.waitForLog("[!] sealed by bob but relayed as from alice:");
      expect(await bob.waitForLog(/> still alice$/)).toBe("[e2e] bob> still alice");
    },
  },
  {
    name: "channels: a line reaches its channel only",
    since: 8,
    async check(ctx) {
      const [a, b, c] = [await ctx.connect(), await ctx.connect(), await ctx.connect()];
      await a.send("/join #rust\n");
      expect(await a.nextLine()).toBe("* now talking in #rust");
      await b.send("/join #rust\n");
      expect(await b.nextLine()).toBe("* now talking in #rust");
      expect(await a.nextLine()).toBe("#rust * user:2 joined");
      await a.send("in rust\n");
      expect(await b.nextLine()).toBe("#rust user:1> in rust");
      await b.send("/part #rust\n");
      expect(await a.waitForLine(/^#rust \*/)).toBe("#rust * user:2 left");
      // The lobby still reaches everybody, unprefixed; and c, never in #rust,
      // heard nothing of it: the reply to its /who is the first line it gets.
      await c.send("in the lobby\n");
      expect(await b.waitForLine(/in the lobby/)).toBe("user:3> in the lobby");
      await c.send("/who\n");
      expect(await c.nextLine()).toMatch(/^Users: /);
    },
    async naive(ctx) {
      const a = await ctx.connect();
      await a.send("/join #rust\n");
      expect(await a.nextLine()).toBe("Unsupported command");
    },
  },
  {
    name: "cross-node: a line said on one node reaches another",
    since: 9,
    async check(ctx) {
      await withCluster(ctx, 2, async ([A, B]) => {
        const a = await joinNode(A!, "alice", "#rust");
        const b = await joinNode(B!, "bob", "#rust");
        expect(await a.nextLine()).toBe("#rust * bob joined");
        await a.send("across\n");
        expect(await b.nextLine()).toBe("#rust alice> across");
      });
    },
    async naive(ctx) {
      // One server is the whole chat: there is nothing to point at a Redis.
      const node = startProgram(ctx.step.server, ["--port", "0", "--redis", "redis://x"]);
      await node.waitForLog(/Unknown option '--redis'/);
      expect(await node.exited).not.toBe(0);
    },
  },
  {
    name: "cross-node: /msg reaches a nick on another node",
    since: 9,
    async check(ctx) {
      await withCluster(ctx, 2, async ([A, B]) => {
        const a = await joinNode(A!, "alice", "#lobby");
        await joinNode(B!, "bob", "#lobby");
        const b = await joinNode(B!, "carol", "#lobby");
        await b.send("/msg alice psst\n");
        expect(await a.waitForLine(/private/)).toBe("carol> (private) psst");
      });
    },
  },
  {
    name: "cross-node: nicks are unique across nodes",
    since: 9,
    async check(ctx) {
      await withCluster(ctx, 2, async ([A, B]) => {
        await joinNode(A!, "alice", "#lobby");
        const b = await connectClient(B!.port);
        await b.send("/nick alice\n");
        expect(await b.nextLine()).toBe("ERR nick alice is already taken");
      });
    },
  },
  {
    name: "terminal client: a message lands above the half-typed line",
    since: 4,
    async check(ctx) {
      const bob = await ctx.connect();
      const pty = spawnTsInPty(ctx.step.client!, ["127.0.0.1", String(ctx.server.port)]);
      await pty.waitForText("Welcome to Simple Chat!");
      pty.write("half");
      await pty.waitForCursor(4);
      await bob.send("hi\n");
      const screen = await pty.waitFor("message above", (s) => s.lines.includes("user:1> hi"));
      expect([screen.cursorLine, screen.cursor.x]).toEqual(["half", 4]);
      pty.write(" done\r");
      expect(await bob.nextLine()).toBe("user:2> half done");
    },
  },
  {
    // Every server speaks the same protocol: the newest client works with all.
    name: "the newest client, piped, chats with this server",
    since: 1,
    async check(ctx) {
      const bob = await ctx.connect();
      const client = startProgram(NEWEST_CLIENT!, ["127.0.0.1", String(ctx.server.port)]);
      await client.waitForLog("Welcome to Simple Chat!");
      client.write("from a pipe\n");
      expect(await bob.nextLine()).toBe("user:2> from a pipe");
      await bob.send("to a pipe\n");
      await client.waitForLog("user:1> to a pipe");
      // At the end of its input the client half-closes and waits for the
      // server to close (step 01 does at once; later steps keep listening,
      // and the client gives up after a grace period, client.test.ts). The
      // server going away is the goodbye it waits for.
      client.proc.stdin?.end();
      await ctx.server.waitForLog(/Client id=2 ended its input|Disconnected client id=2/);
      await ctx.server.stop();
      expect(await client.exited).toBe(0);
    },
  },
];

/* ============================ Running it =================================
 * One fresh server per cell: behaviours must not see each other's clients.
 * ======================================================================== */

// The matrix is about chat servers: the Redis steps have suites of their own.
// (testSteps: every step, or only the one `npm test -- --step NN` names.)
const steps = testSteps().filter((s) => s.track === "chat");
// The newest client of the chat track, whichever steps this run narrows to.
const NEWEST_CLIENT = listSteps()
  .filter((s) => s.track === "chat")
  .findLast((s) => s.client !== null)?.client;
type Cell = "yes" | "naive" | "";
const table = new Map<string, Map<string, Cell>>();

for (const step of steps) {
  describe(step.name, () => {
    for (const b of BEHAVIOURS) {
      const naive = b.naive !== undefined && step.num >= (b.naiveSince ?? 1);
      const cell: Cell = step.num >= b.since ? "yes" : naive ? "naive" : "";
      if (!table.has(b.name)) table.set(b.name, new Map());
      table.get(b.name)!.set(step.name, cell);
      if (cell === "") continue;
      const run = cell === "yes" ? b.check : b.naive!;
      it(`${cell === "naive" ? "(naive) " : ""}${b.name}`, async () => {
        const server = await startServer(step.server);
        try {
          await run({ step, server, connect: () => connectClient(server.port) });
        } finally {
          killAll();
          closeAll();
          await server.stop();
        }
      });
    }
  });
}

// Print the matrix: rows are behaviours, columns steps.
afterAll(() => {
  const cols = steps.map((s) => s.name.slice(0, 2));
  const width = Math.max(...BEHAVIOURS.map((b) => b.name.length));
  const mark = { yes: "✓", naive: "naive", "": "·" } as const;
  const lines = [`${"behaviour".padEnd(width)}  ${cols.map((c) => c.padEnd(5)).join(" ")}`];
  for (const [name, cells] of table) {
    const row = steps.map((s) => mark[cells.get(s.name) ?? ""].padEnd(5)).join(" ");
    lines.push(`${name.padEnd(width)}  ${row}`);
  }
  console.log(
    `\nBehaviour matrix (✓ has it, naive: the old limitation is asserted, · not yet)\n${lines.join("\n")}\n`,
  );
});
