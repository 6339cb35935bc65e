// cluster.ts -- step 09's chat nodes on a Redis, as the cross-step tests start them.
//
// The behaviour matrix runs a step's nodes on a real redis-server; the
// cross-step test runs step 09's nodes on each of our own Redis servers.
// Both start nodes, join them to channels and wait for things that happen
// "within a lease" the same way, so that lives here once.

import { connectClient, type LineClient, type RunningServer, startServer } from "./harness.ts";

// Start `n` nodes of the chat server `serverFile` on the Redis at `url`,
// side by side, and resolve once each says it is connected (ioredis's
// handshake done, its node channel subscribed), or, with `connected` false
// (a Redis the nodes cannot use), once each listens. `started` gets each
// node as soon as it runs, so the caller can stop it even if another fails.
export function startNodes(
  serverFile: string,
  url: string,
  n: number,
  started: RunningServer[],
  connected = true,
): Promise<RunningServer[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const node = await startServer(serverFile, ["--redis", url]);
      started.push(node);
      if (connected) await node.waitForLog(/^redis: connected to /);
      return node;
    }),
  );
}

// A client on `node` called `nick`, talking in `channel`, once the node
// hears `channel` in Redis.
export async function joinNode(
  node: RunningServer,
  nick: string,
  channel: string,
): Promise<LineClient> {
  const c = await connectClient(node.port);
  await c.send(`/nick ${nick}\n/join ${channel}\n`);
  const subscribed = `redis: subscribed to ${channel}`;
  if (!node.logs.includes(subscribed)) await node.waitForLog(subscribed);
  await c.waitForLine(`* now talking in ${channel}`);
  return c;
}

// The id a node picked, from its log.
export function nodeId(node: RunningServer): string {
  const line = node.logs.find((l) => l.startsWith("redis: connected to "));
  return /as node (\w+)$/.exec(line ?? "")?.[1] ?? "?";
}

/* ============================ Retrying ====================================
 * Some things happen "within the lease" or "once the transaction ran", not
 * at a moment a log line announces. These retry on each answer, with a
 * short pause between tries, until a deadline.
 * ======================================================================== */

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function untilTrue(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still not true after ${timeoutMs} ms: ${what}`);
    await pause(100);
  }
}

// Ask `c` the same question until the answer satisfies `ok`.
export async function untilAnswer(
  c: LineClient,
  ask: string,
  ok: (line: string) => boolean,
  timeoutMs = 5000,
): Promise<void> {
  let last = "";
  await untilTrue(
    async () => {
      await c.send(ask);
      last = await c.nextLine();
      return ok(last);
    },
    timeoutMs,
    `an answer to ${ask.trim()}`,
  ).catch(() => {
    throw new Error(`last answer to ${ask.trim()}: ${last}`);
  });
}

// Try `/nick <nick>` from `c` on `node` until the node grants it (a taken
// nick is answered with an ERR line; a granted one only logged).
export async function untilNickGranted(
  node: RunningServer,
  c: LineClient,
  nick: string,
  timeoutMs: number,
): Promise<void> {
  const granted = () => node.logs.some((l) => l.endsWith(`is now known as ${nick}`));
  await untilTrue(
    async () => {
      const answered = c.lines.length;
      await c.send(`/nick ${nick}\n`);
      // Whichever comes first: the ERR line, or the log line of a grant.
      const deadline = Date.now() + 1000;
      while (!granted() && c.lines.length === answered && Date.now() < deadline) await pause(20);
      c.drain();
      return granted();
    },
    timeoutMs,
    `${nick} granted on port ${node.port}`,
  );
}
