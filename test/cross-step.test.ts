// cross-step.test.ts -- step 09's chat nodes, relaying through each of our own Redis servers.
//
// The tutorial's promise: the chat cluster of step 09 runs on the Redis
// that steps 10-26 write, and the circle closes at step 24. This test keeps
// the promise honest. It finds every Redis-track step on disk, starts its
// server, points two of step 09's nodes at it, and runs one row per thing
// step 09 needs from Redis. A `since` table says which step first has the
// commands a row needs (step 09's README, "What step 09 needs from Redis").
// A step at or after `since` must pass the row. A step before it must show
// exactly what is missing: it answers the row's commands with Redis's
// "unknown command" error, and the nodes degrade the way step 09 promises
// (local chat goes on, the cluster-wide answers say "this node only").
// The same rows run against a real redis-server, the reference: a row
// that passes there must pass on every step from its `since` on.
//
// Steps 10-12 have no pub/sub yet: the nodes, which subscribe as soon as
// they connect, never count as connected there, and only the first row's
// limited cell runs. New Redis steps join by existing; a step that lands
// without a command its row needs fails here.

import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  joinNode,
  nodeId,
  startNodes,
  untilAnswer,
  untilNickGranted,
  untilTrue,
} from "./src/cluster.ts";
import { testSteps } from "./src/corpus.ts";
import { closeAll, connectClient, type RunningServer, startServer } from "./src/harness.ts";
import { startRedis } from "./src/redis.ts";
import { listSteps } from "./src/steps.ts";

// What the nodes run on: one of our steps, or the real thing.
interface Backend {
  url: string;
  stop(): Promise<unknown>;
}

interface Target {
  label: string;
  /** The step's number; the reference has every command. */
  num: number;
  start(): Promise<Backend>;
}

interface Ctx {
  nodes: RunningServer[];
  /** A plain client of the backend, to look at keys as the nodes left them. */
  probe: Redis;
  /** The backend is the real redis-server (7.0), not one of our steps. */
  reference: boolean;
  /** Which of the row's `needs` the backend does not have. */
  lacking: string[];
}

interface Row {
  name: string;
  /** First Redis-track step that has what this row needs. */
  since: number;
  /** The commands the row needs (the nodes', and the probe's). */
  needs: string[];
  /** Steps from `since` on, and the reference. */
  check(ctx: Ctx): Promise<void>;
  /** Steps before `since`: how the nodes do without the missing commands. */
  limited?: (ctx: Ctx) => Promise<void>;
}

// step 09's node says this when a cluster-wide question got no answer,
// whether Redis is down or does not know the command.
const THIS_NODE = "Redis is unreachable, this node only";
const LEASE_MS = 5000; // step 09's cluster.ts
// A lease the probe cuts short: more than a tick, so a node that renews
// gets the chance to, with room for a busy machine.
const SHORT_LEASE_MS = 2000;
const BURST = 200;

const ROWS: Row[] = [
  {
    name: "nodes connect (HELLO 3, CLIENT SETINFO, INFO)",
    // The first row: before it, the nodes never count as connected, and
    // only its own limited cell runs (the others' assume nodes that connect).
    since: 14,
    needs: ["hello", "client", "info", "subscribe"],
    async limited({ nodes: [A, B] }) {
      // A node is connected once its own channel is subscribed (and, for
      // ioredis, once INFO answered its ready check): before step 14 it
      // never is. It serves its own clients and says so.
      const a = await connectClient(A!.port);
      const b = await connectClient(B!.port);
      await a.send("/nick alice\n");
      await A!.waitForLog(/is now known as alice$/);
      await b.send("/nick alice\n"); // Nobody between them to say it is taken.
      await B!.waitForLog(/is now known as alice$/);
      await a.send("/who\n");
      expect(await a.nextLine()).toBe(`Users (${THIS_NODE}): alice`);
      for (const node of [A!, B!]) {
        expect(node.logs.filter((l) => l.startsWith("redis: connected"))).toEqual([]);
      }
    },
    async check({ nodes, probe }) {
      expect(nodes.map(nodeId)).not.toContain("?");
      // Two connections per node, both in RESP3 (HELLO 3 took): one for
      // commands, one subscribed to the node's own channel.
      const me = await probe.client("ID");
      const list = String(await probe.client("LIST"))
        .split("\n")
        .filter((l) => l.startsWith("id=") && !l.startsWith(`id=${me} `));
      expect(list).toHaveLength(4);
      for (const l of list) expect(l).toMatch(/ resp=3( |$)/);
      expect(list.filter((l) => / flags=P /.test(l))).toHaveLength(2);
      expect(list.filter((l) => / sub=1 /.test(l))).toHaveLength(2);
      // CLIENT SETINFO is Redis 7.2's: neither the reference (7.0) nor our
      // steps have it, an error ioredis shrugs off.
      for (const l of list) expect(l).not.toMatch(/ lib-name=/);
    },
  },
  {
    name: "channel lines and notices cross nodes: no echo, no duplicate, burst in order",
    // No key needed: before step 15 the nodes' SETs fail (no nick leases, no
    // presence), and channels still relay. Found by running it.
    since: 14,
    needs: ["subscribe", "unsubscribe", "publish"],
    async check({ nodes: [A, B] }) {
      const a = await joinNode(A!, "alice", "#rust");
      const a2 = await joinNode(A!, "amy", "#rust");
      expect(await a.nextLine()).toBe("#rust * amy joined");
      const b = await joinNode(B!, "bob", "#rust");
      expect(await a.nextLine()).toBe("#rust * bob joined");
      expect(await a2.nextLine()).toBe("#rust * bob joined");
      const lines = Array.from({ length: BURST }, (_, i) => `#rust alice> burst ${i}`);
      await a.send(lines.map((_, i) => `burst ${i}\n`).join(""));
      await b.waitForLine(lines.at(-1)!, 15000);
      await a2.waitForLine(lines.at(-1)!, 15000);
      for (const r of [b, a2]) expect(r.lines.slice(-BURST)).toEqual(lines);
      // The next thing alice hears is bob, not her burst coming back, and
      // amy heard the burst once (locally), not again from Redis.
      await b.send("got it\n");
      expect(await a.nextLine()).toBe("#rust bob> got it");
      expect(await a2.nextLine()).toBe("#rust bob> got it");
      await b.send("/part\n");
      expect(await b.nextLine()).toBe("* left #rust");
      expect(await a.nextLine()).toBe("#rust * bob left");
      await B!.waitForLog("redis: unsubscribed from #rust");
    },
  },
  {
    name: "nicks are unique across nodes; /msg finds a nick on another node",
    // A lease is SET ... PX: SET arrives in step 15, its PX option with
    // expiry in step 17, as PEXPIRE does (the probe's stand-in for PX).
    since: 17,
    needs: ["set", "get", "del", "publish", "pexpire"],
    async check({ nodes: [A, B], probe }) {
      const a = await joinNode(A!, "alice", "#lobby");
      expect(await probe.get("smallchat:nick:alice")).toBe(nodeId(A!));
      const b = await connectClient(B!.port);
      await b.send("/nick alice\n");
      expect(await b.nextLine()).toBe("ERR nick alice is already taken");
      await b.send("/msg alice psst\n");
      expect(await a.waitForLine(/private/)).toBe(`user:1@${nodeId(B!)}> (private) psst`);
      await b.send("/msg nobody hello?\n");
      expect(await b.nextLine()).toBe("ERR no such nick: nobody");
    },
    async limited({ nodes: [A, B], lacking }) {
      // SET (or its PX) fails, and the node takes the error for an outage:
      // it grants the nick locally. So two nodes each have an alice.
      const a = await joinNode(A!, "alice", "#lobby");
      const b = await joinNode(B!, "alice", "#lobby");
      expect(b.drain()).not.toContain("ERR nick alice is already taken");
      expect(B!.logs.some((l) => l.endsWith(" is now known as alice"))).toBe(true);
      // /msg to a chosen nick needs GET: without it the node says it can
      // only look here; with it (step 15) the answer is the cluster's.
      await b.send("/msg carol psst\n");
      expect(await b.nextLine()).toBe(
        lacking.includes("get")
          ? `ERR no such nick: carol (on this node; ${THIS_NODE})`
          : "ERR no such nick: carol",
      );
      // A default nick names its node, no key needed: that still crosses.
      const c = await connectClient(B!.port);
      await a.send(`/msg user:2@${nodeId(B!)} still works\n`);
      expect(await c.waitForLine(/private/)).toBe("alice> (private) still works");
    },
  },
  {
    name: "/who, /names and /list answer for the whole cluster",
    since: 17,
    needs: ["set", "scan", "mget"],
    async check({ nodes: [A, B] }) {
      const a = await joinNode(A!, "alice", "#rust");
      await joinNode(B!, "bob", "#rust");
      expect(await a.nextLine()).toBe("#rust * bob joined");
      // Presence is written right after a change; ask until both are in.
      await untilAnswer(a, "/who\n", (l) => l === "Users: alice bob");
      await untilAnswer(a, "/names #rust\n", (l) => l === "Names #rust: alice bob");
      await untilAnswer(a, "/list\n", (l) => l === "Channels: #lobby(2) #rust(2)");
    },
    async limited({ nodes: [A, B] }) {
      const a = await joinNode(A!, "alice", "#rust");
      await joinNode(B!, "bob", "#rust");
      expect(await a.nextLine()).toBe("#rust * bob joined"); // The notice crossed...
      // ...but who is there can only be answered from this node.
      await a.send("/who\n");
      expect(await a.nextLine()).toBe(`Users (${THIS_NODE}): alice`);
      await a.send("/names\n");
      expect(await a.nextLine()).toBe(`Names #rust (${THIS_NODE}): alice`);
      await a.send("/list\n");
      expect(await a.nextLine()).toBe(`Channels (${THIS_NODE}): #lobby(1) #rust(1)`);
    },
  },
  {
    name: "leases: the node's timer renews them; a freed nick is free on another node",
    since: 24,
    needs: ["watch", "multi", "exec", "mget", "pexpire", "pttl", "get", "del"],
    async check({ nodes: [A, B], probe }) {
      const a = await joinNode(A!, "alice", "#lobby");
      const key = "smallchat:nick:alice";
      // Stretch the lease by hand: the next renewal (WATCH, MGET, MULTI,
      // PEXPIRE, EXEC) sets it back to LEASE_MS.
      await probe.pexpire(key, 100_000);
      await untilTrue(async () => (await probe.pttl(key)) <= LEASE_MS, 8000, "lease renewed");
      const b = await connectClient(B!.port);
      await b.send("/nick alice\n");
      expect(await b.nextLine()).toBe("ERR nick alice is already taken");
      // Stretch it again and let alice go: only the node's check-and-delete
      // (WATCH, GET, MULTI, DEL, EXEC) can free the nick before 100 s.
      await probe.pexpire(key, 100_000);
      // A reset, not a FIN: the node frees a client that only ended its
      // input a tick later (it may still be listening), a reset at once.
      a.socket.resetAndDestroy();
      await A!.waitForLog(/^Disconnected client id=1/);
      await untilNickGranted(B!, b, "alice", 8000);
    },
    async limited({ nodes: [A, B], probe }) {
      // Without WATCH/MULTI/EXEC nobody renews the lease (and before step
      // 15, without PX, there is no lease at all): while alice is still
      // connected on A, her nick comes free and B grants it to someone else.
      const a = await joinNode(A!, "alice", "#lobby");
      // Shorten the lease rather than wait out all of it: a node that
      // renewed would set it back to LEASE_MS on its next tick (1 s), long
      // before it runs out, and B would never get the nick.
      const key = "smallchat:nick:alice";
      if ((await probe.pttl(key).catch(() => -2)) > SHORT_LEASE_MS) {
        await probe.pexpire(key, SHORT_LEASE_MS);
      }
      const b = await connectClient(B!.port);
      await untilNickGranted(B!, b, "alice", SHORT_LEASE_MS + 5000);
      expect(A!.logs.some((l) => / alice is now known as /.test(l))).toBe(false);
      await a.send("/who\n");
      expect(await a.nextLine()).toMatch(/^Users.*: alice( |$)/);
    },
  },
];

/* ============================ Running it ================================= */

// The chat step whose nodes we run: the newest one (step 09).
const CHAT = listSteps()
  .filter((s) => s.track === "chat")
  .at(-1)!;

// testSteps: every Redis step, or only the one `npm test -- --step NN` names.
// The reference proves the rows themselves: it runs in the full run, not
// again for each single step.
const REDIS_STEPS = testSteps().filter((s) => s.track === "redis");
const TARGETS: Target[] = [
  ...REDIS_STEPS.map((s) => ({
    label: s.name,
    num: s.num,
    async start(): Promise<Backend> {
      const server = await startServer(s.server);
      return { url: `redis://127.0.0.1:${server.port}`, stop: () => server.stop() };
    },
  })),
  ...(!process.env.STEP
    ? [{ label: "redis-server (reference)", num: Number.POSITIVE_INFINITY, start: startRedis }]
    : []),
];

type Cell = "pass" | "limited" | "";

// The first step with everything step 09's nodes open with: HELLO 3,
// CLIENT, INFO (ioredis's ready check) and SUBSCRIBE: the first row's.
const NODES_CONNECT = ROWS[0]!.since;
const table = new Map<string, Map<string, Cell>>();

// The running test's processes, stopped after it whatever happened.
let running: { backend?: Backend; nodes: RunningServer[]; probe?: Redis } = { nodes: [] };

afterEach(async () => {
  closeAll();
  running.probe?.disconnect();
  await Promise.all(running.nodes.map((n) => n.stop()));
  await running.backend?.stop();
  running = { nodes: [] };
});

// Which of `names` the backend does not know (COMMAND INFO answers nil).
async function missing(probe: Redis, names: string[]): Promise<string[]> {
  const unknown = (err: unknown) => /^ERR unknown command /.test((err as Error).message);
  try {
    const info = (await probe.call("COMMAND", "INFO", ...names)) as unknown[];
    return names.filter((_, i) => info[i] === null);
  } catch (err) {
    if (!unknown(err)) throw err;
  }
  // No COMMAND to ask (it arrives in step 12): call each with an argument,
  // and see which the server does not know. Harmless where it answers:
  // those steps know few commands, none of them SUBSCRIBE or MULTI.
  const lacking: string[] = [];
  for (const name of names) {
    const known = await probe.call(name, "smallchat:probe").then(
      () => true,
      (err) => !unknown(err),
    );
    if (!known) lacking.push(name);
  }
  return lacking;
}

for (const target of TARGETS) {
  describe(target.label, () => {
    // Nodes that never connect (the first row's limited cell) tell nothing
    // about the other rows.
    const connects = target.num >= NODES_CONNECT;
    for (const row of ROWS) {
      const cell: Cell =
        target.num >= row.since
          ? "pass"
          : row.limited && (connects || row === ROWS[0])
            ? "limited"
            : "";
      if (!table.has(row.name)) table.set(row.name, new Map());
      table.get(row.name)!.set(target.label, cell);
      if (cell === "") continue;
      it(`${cell === "limited" ? "(limited) " : ""}${row.name}`, async () => {
        running.backend = await target.start();
        // No ready check: before step 12 there is no INFO to answer it.
        const probe = new Redis(running.backend.url, {
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
          enableReadyCheck: false,
        });
        running.probe = probe;
        const lacking = await missing(probe, row.needs);
        if (cell === "pass") {
          expect(lacking, `commands ${target.label} must have for this row`).toEqual([]);
        } else {
          // The limitation is real: the server refuses a command the row
          // needs, with Redis's own error.
          expect(lacking.length).toBeGreaterThan(0);
          await expect(probe.call(lacking[0]!, "smallchat:probe")).rejects.toThrow(
            `ERR unknown command '${lacking[0]}', with args beginning with: 'smallchat:probe' `,
          );
        }
        const nodes = await startNodes(
          CHAT.server,
          running.backend.url,
          2,
          running.nodes,
          connects,
        );
        await (cell === "pass" ? row.check : row.limited!)({
          nodes,
          probe,
          reference: !Number.isFinite(target.num),
          lacking,
        });
        // Whatever the backend lacked, no node crashed or printed a stack.
        for (const node of nodes) {
          expect(node.proc.exitCode).toBe(null);
          expect(node.logs.join("\n")).not.toMatch(/Unhandled|Error:|^\s+at /m);
        }
      });
    }
  });
}

// The circle closes at step 24: by then every row must pass.
it("every row is promised by step 24 at the latest", () => {
  for (const row of ROWS) expect(row.since, row.name).toBeLessThanOrEqual(24);
});

// The table, as the matrix prints its own: rows × backends.
afterAll(() => {
  const cols = TARGETS.map((t) => (Number.isFinite(t.num) ? t.label.slice(0, 2) : "redis"));
  const width = Math.max(...ROWS.map((r) => r.name.length));
  const mark = { pass: "✓", limited: "ltd", "": "·" } as const;
  const lines = [`${"row".padEnd(width)}  ${cols.map((c) => c.padEnd(5)).join(" ")}`];
  for (const [name, cells] of table) {
    const row = TARGETS.map((t) => mark[cells.get(t.label) ?? ""].padEnd(5)).join(" ");
    lines.push(`${name.padEnd(width)}  ${row}`);
  }
  console.log(
    `\nStep ${CHAT.name}'s nodes on each Redis (✓ passes, ltd: the limitation is asserted)\n${lines.join("\n")}\n`,
  );
});
