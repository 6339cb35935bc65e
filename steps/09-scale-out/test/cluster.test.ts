// cluster.test.ts -- several nodes, one real redis-server between them.
//
// Every test starts its own redis-server (a private one, on a free port)
// and two or three nodes pointed at it, then talks to the nodes over real
// sockets. A node logs when Redis has confirmed a subscription, so a test
// waits for that log line before it expects a line from another node:
// pub/sub delivers only to those already subscribed.

import {
  closeAll,
  connectClient,
  type LineClient,
  type RunningServer,
  startProgram,
  startServer,
} from "@smallchat/test/harness";
import { type RunningRedis, redisCli, startRedis } from "@smallchat/test/redis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const SERVER = new URL("../src/server.ts", import.meta.url);

let redis: RunningRedis;
const nodes: RunningServer[] = [];

beforeEach(async () => {
  redis = await startRedis();
});

afterEach(async () => {
  closeAll();
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
  await redis.stop();
});

// Start a node on `redis` and wait until it is connected.
async function startNode(): Promise<RunningServer> {
  const node = await startServer(SERVER, ["--redis", redis.url]);
  nodes.push(node);
  await node.waitForLog(/^redis: connected to /);
  return node;
}

// Connect a client to `node`; wait until the node hears #lobby in Redis
// (its first client makes it subscribe).
async function join(node: RunningServer): Promise<LineClient> {
  const c = await connectClient(node.port);
  if (!node.logs.some((l) => l === "redis: subscribed to #lobby")) {
    await node.waitForLog("redis: subscribed to #lobby");
  }
  return c;
}

async function setNick(node: RunningServer, c: LineClient, nick: string): Promise<void> {
  await c.send(`/nick ${nick}\n`);
  await node.waitForLog(`is now known as ${nick}`);
}

// Join a channel and wait until this node is subscribed to it in Redis.
async function joinChannel(node: RunningServer, c: LineClient, name: string): Promise<void> {
  await c.send(`/join ${name}\n`);
  await c.waitForLine(`* now talking in ${name}`);
  await node.waitForLog(`redis: subscribed to ${name}`);
}

// The id a node picked, from its log.
function nodeId(node: RunningServer): string {
  const line = node.logs.find((l) => l.startsWith("redis: connected to "));
  return /as node (\w+)$/.exec(line ?? "")?.[1] ?? "?";
}

describe("two nodes", () => {
  it("relay #lobby lines both ways, with no echo and no duplicate", async () => {
    const [A, B] = [await startNode(), await startNode()];
    const a = await join(A);
    const a2 = await join(A);
    const b = await join(B);
    await a.send("hello from A\n");
    expect(await b.nextLine()).toBe(`user:1@${nodeId(A)}> hello from A`);
    expect(await a2.nextLine()).toBe(`user:1@${nodeId(A)}> hello from A`);
    await b.send("hello from B\n");
    expect(await a.nextLine()).toBe(`user:1@${nodeId(B)}> hello from B`);
    // a2 got A's line once (locally, not again from Redis), then B's line.
    expect(await a2.nextLine()).toBe(`user:1@${nodeId(B)}> hello from B`);
    // And the sender never hears itself: b's next line is a's answer, not
    // its own line back from Redis.
    await b.send("again\n");
    expect(await a.nextLine()).toBe(`user:1@${nodeId(B)}> again`);
    await a.send("answer\n");
    expect(await b.nextLine()).toBe(`user:1@${nodeId(A)}> answer`);
  });

  it("without --redis the node is step 08: nothing crosses", async () => {
    const single = await startServer(SERVER);
    nodes.push(single);
    const B = await startNode();
    const s = await connectClient(single.port);
    const s2 = await connectClient(single.port);
    const b = await join(B);
    await s.send("local only\n");
    expect(await s2.nextLine()).toBe("user:1> local only");
    await b.send("/who\n");
    expect(await b.nextLine()).toBe(`Users: user:1@${nodeId(B)}`);
  });

  it("/msg reaches a nick on another node; unknown nicks get an error", async () => {
    const [A, B] = [await startNode(), await startNode()];
    const a = await join(A);
    const b = await join(B);
    await setNick(B, b, "bob");
    await a.send("/msg bob psst\n");
    expect(await b.nextLine()).toBe(`user:1@${nodeId(A)}> (private) psst`);
    await a.send("/msg nobody hello?\n");
    expect(await a.nextLine()).toBe("ERR no such nick: nobody");
    // Default nicks name their node: no lookup needed.
    await b.send(`/msg user:1@${nodeId(A)} back at you\n`);
    expect(await a.nextLine()).toBe("bob> (private) back at you");
  });

  it("a client waits for Redis's answers: /nick, /who, then a line, all in one packet", async () => {
    const [A, B] = [await startNode(), await startNode()];
    const a = await join(A);
    const b = await join(B);
    await a.send("/nick alice\n/who\nhi\n");
    expect(await a.nextLine()).toMatch(/^Users: alice( |$)/);
    expect(await b.nextLine()).toBe("alice> hi");
  });

  it("nicks are unique across nodes, and free again when their owner leaves", async () => {
    const [A, B] = [await startNode(), await startNode()];
    const a = await join(A);
    const b = await join(B);
    await setNick(A, a, "alice");
    expect(await redisCli(redis.port, ["GET", "smallchat:nick:alice"])).toBe(`${nodeId(A)}\n`);
    await b.send("/nick alice\n");
    expect(await b.nextLine()).toBe("ERR nick alice is already taken");
    a.socket.resetAndDestroy(); // Gone at once: a FIN would wait for the node's next tick.
    await A.waitForLog(/^Disconnected client id=1/);
    // The release is a transaction of its own: try until it has happened.
    await untilNickTaken(B, b, "alice", 5000);
  });

  it("the node's timer renews its leases", async () => {
    const A = await startNode();
    const a = await join(A);
    await setNick(A, a, "alice");
    const key = "smallchat:nick:alice";
    const pttl = async () => Number(await redisCli(redis.port, ["PTTL", key]));
    expect(await pttl()).toBeGreaterThan(0);
    // Stretch the lease by hand: the next renewal (WATCH, MGET, MULTI,
    // PEXPIRE, EXEC) sets it back to 5 s.
    await redisCli(redis.port, ["PEXPIRE", key, "100000"]);
    await untilTrue(async () => (await pttl()) <= 5000, 4000);
  });

  it("/who, /names and /list answer for the whole cluster", async () => {
    const [A, B] = [await startNode(), await startNode()];
    const a = await join(A);
    const b = await join(B);
    await setNick(A, a, "alice");
    await setNick(B, b, "bob");
    await joinChannel(A, a, "#rust");
    await joinChannel(B, b, "#rust");
    expect(await a.nextLine()).toBe("#rust * bob joined");
    // Presence is written right after a change; ask until both are in.
    await untilAnswer(a, "/who\n", (l) => l === "Users: alice bob");
    await untilAnswer(b, "/names #rust\n", (l) => l === "Names #rust: bob alice");
    await untilAnswer(a, "/list\n", (l) => l === "Channels: #lobby(2) #rust(2)");
  });
});

describe("configuration", () => {
  it("takes REDIS_URL from the environment, and --redis wins over it", async () => {
    const fromEnv = await startServer(SERVER, [], { REDIS_URL: redis.url });
    nodes.push(fromEnv);
    await fromEnv.waitForLog(`redis: connected to ${redis.url} as node `);
    const bogus = "redis://127.0.0.1:1";
    const fromFlag = await startServer(SERVER, ["--redis", redis.url], { REDIS_URL: bogus });
    nodes.push(fromFlag);
    await fromFlag.waitForLog(`redis: connected to ${redis.url} as node `);
  });

  it("refuses a --redis that is not a redis:// URL", async () => {
    const bad = startProgram(SERVER, ["--port", "0", "--redis", "localhost:6379"]);
    await bad.waitForLog("invalid --redis: localhost:6379");
    expect(await bad.exited).toBe(2);
  });
});

describe("three nodes", () => {
  it("channel lines and notices reach members on every node, and only them", async () => {
    const [A, B, C] = [await startNode(), await startNode(), await startNode()];
    const a = await join(A);
    const b = await join(B);
    const c = await join(C);
    await setNick(A, a, "alice");
    await setNick(B, b, "bob");
    await setNick(C, c, "carol");
    await joinChannel(A, a, "#rust");
    await joinChannel(B, b, "#rust");
    expect(await a.nextLine()).toBe("#rust * bob joined");
    await a.send("in rust\n");
    expect(await b.nextLine()).toBe("#rust alice> in rust");
    await b.send("/part\n");
    expect(await b.nextLine()).toBe("* left #rust");
    expect(await a.nextLine()).toBe("#rust * bob left");
    await B.waitForLog("redis: unsubscribed from #rust");
    await a.send("nobody on B hears this\n");
    // carol (never in #rust) and bob (left it) hear nothing of it: the first
    // line each gets next is from the lobby.
    await a.send("/join #lobby\n");
    await a.send("lobby line\n");
    expect(await b.nextLine()).toBe("* now talking in #lobby");
    expect(await b.nextLine()).toBe("alice> lobby line");
    expect(await c.nextLine()).toBe("alice> lobby line");
    expect(await a.nextLine()).toBe("* now talking in #lobby");
    // A quit is a notice too.
    await joinChannel(C, c, "#rust");
    expect(await a.nextLine()).toBe("#rust * carol joined");
    c.socket.resetAndDestroy(); // Gone at once: a FIN would wait for the node's next tick.
    expect(await a.nextLine()).toBe("#rust * carol quit");
  });

  it("keeps one sender's order across nodes under a burst of 1,000 lines", async () => {
    const [A, B, C] = [await startNode(), await startNode(), await startNode()];
    const a = await join(A);
    const b = await join(B);
    const c = await join(C);
    const lines = Array.from({ length: 1000 }, (_, i) => `burst ${i}`);
    await a.send(lines.map((l) => `${l}\n`).join(""));
    const prefix = `user:1@${nodeId(A)}> `;
    for (const r of [b, c]) {
      await r.waitForLine(`${prefix}burst 999`, 15000);
      expect(r.lines.slice(1)).toEqual(lines.map((l) => prefix + l)); // After the welcome.
    }
  });
});

describe("faults", () => {
  it("Redis killed mid-chat: local chat goes on, cross-node chat resumes after restart", async () => {
    const [A, B] = [await startNode(), await startNode()];
    const a = await join(A);
    const a2 = await join(A);
    const b = await join(B);
    await setNick(A, a, "alice");
    await redis.kill();
    await A.waitForLog(/^redis: cannot reach .*serving local clients only/);
    await B.waitForLog(/^redis: cannot reach .*serving local clients only/);
    for (let i = 0; i < 20; i++) await a.send(`local ${i}\n`);
    await a2.waitForLine("alice> local 19");
    await a.send("/who\n");
    expect(await a.nextLine()).toBe(
      `Users (Redis is unreachable, this node only): user:2@${nodeId(A)} alice`,
    );
    await a.send("/msg carol hi\n");
    expect(await a.nextLine()).toBe(
      "ERR no such nick: carol (on this node; Redis is unreachable, this node only)",
    );
    await redis.restart();
    await A.waitForLog(
      "redis: reconnected: resubscribed to 1 channels, re-claiming 1 nicks",
      15000,
    );
    await B.waitForLog(
      "redis: reconnected: resubscribed to 1 channels, re-claiming 0 nicks",
      15000,
    );
    await a.send("back\n");
    expect(await b.waitForLine(/back$/)).toBe("alice> back");
    // The nick was claimed again in the new, empty Redis.
    await untilTrue(
      async () =>
        (await redisCli(redis.port, ["GET", "smallchat:nick:alice"])) === `${nodeId(A)}\n`,
    );
    // One log line per outage, not one per message or per retry.
    for (const node of [A, B]) {
      expect(node.logs.filter((l) => l.startsWith("redis: cannot reach"))).toHaveLength(1);
      expect(node.logs.join("\n")).not.toMatch(/Unhandled|Error:/);
    }
  });

  it("Redis down at start: the node serves locally, then joins the cluster", async () => {
    await redis.kill();
    const A = await startServer(SERVER, ["--redis", redis.url]);
    nodes.push(A);
    await A.waitForLog(/^redis: cannot reach /);
    const a = await connectClient(A.port);
    const a2 = await connectClient(A.port);
    await a.send("still here\n");
    expect(await a2.nextLine()).toMatch(/^user:1@\w+> still here$/);
    await redis.restart();
    await A.waitForLog("redis: reconnected: resubscribed to 1 channels", 15000);
    const B = await startNode();
    const b = await join(B);
    await b.send("hi A\n");
    expect(await a.nextLine()).toBe(`user:1@${nodeId(B)}> hi A`);
  });

  it("a nick claimed on two nodes during an outage is renamed on one of them", async () => {
    const [A, B] = [await startNode(), await startNode()];
    const a = await join(A);
    const b = await join(B);
    await setNick(A, a, "alice");
    await redis.kill();
    await B.waitForLog(/^redis: cannot reach /);
    await setNick(B, b, "alice"); // Granted locally: Redis cannot be asked.
    await redis.restart();
    const notice =
      /^\* your nick alice was taken on another node while this one was cut off: you are user:1@\w+ now$/;
    const lost = await Promise.race([
      a.waitForLine(notice, 15000).then(
        () => "a",
        () => new Promise<never>(() => {}),
      ),
      b.waitForLine(notice, 15000).then(
        () => "b",
        () => new Promise<never>(() => {}),
      ),
    ]);
    const [loser, winner] = lost === "a" ? [A, B] : [B, A];
    expect(await redisCli(redis.port, ["GET", "smallchat:nick:alice"])).toBe(`${nodeId(winner)}\n`);
    await loser.waitForLog(`alice is now known as user:1@${nodeId(loser)}`);
  });

  it("a node killed: its nicks come free when their lease runs out", async () => {
    const [A, B] = [await startNode(), await startNode()];
    const a = await join(A);
    const b = await join(B);
    await setNick(A, a, "alice");
    A.proc.kill("SIGKILL");
    await A.exited;
    await b.send("/nick alice\n");
    expect(await b.nextLine()).toBe("ERR nick alice is already taken");
    // Cut the lease to 2 s rather than wait out its 5: nobody renews it now.
    const t0 = Date.now();
    await redisCli(redis.port, ["PEXPIRE", "smallchat:nick:alice", "2000"]);
    await untilNickTaken(B, b, "alice", 10000);
    expect(Date.now() - t0).toBeGreaterThan(1000); // Not at once: the lease had to run out.
  });
});

/* ============================ Retrying ====================================
 * Some things happen "within the lease" or "once the transaction ran", not
 * at a moment a log line announces. These retry on each answer, with a
 * short pause between tries, until a deadline.
 * ======================================================================== */

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function untilTrue(check: () => Promise<boolean>, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition still false at the deadline");
    await pause(100);
  }
}

async function untilAnswer(c: LineClient, ask: string, ok: (line: string) => boolean) {
  let last = "";
  await untilTrue(async () => {
    await c.send(ask);
    last = await c.nextLine();
    return ok(last);
  }, 5000).catch(() => {
    throw new Error(`last answer to ${ask.trim()}: ${last}`);
  });
}

// A taken nick is answered with an ERR line; a granted one only logged.
async function untilNickTaken(node: RunningServer, c: LineClient, nick: string, ms: number) {
  const granted = () => node.logs.some((l) => l.endsWith(`is now known as ${nick}`));
  await untilTrue(async () => {
    const answered = c.lines.length;
    await c.send(`/nick ${nick}\n`);
    // Whichever comes first: the ERR line, or the log line of a grant.
    const deadline = Date.now() + 1000;
    while (!granted() && c.lines.length === answered && Date.now() < deadline) await pause(20);
    c.drain();
    return granted();
  }, ms);
}
