// cluster.ts -- several chat nodes, one Redis between them.
//
// One process on one machine only goes so far. When a chat outgrows it,
// you run several chat servers ("nodes") and put a broker between them;
// the one everybody reaches for is Redis. This file is the whole Redis side
// of a node; server.ts calls it from a handful of places and stays the
// chat of step 08.
//
// What goes through Redis, and how:
//
// - Channel lines and notices: PUBLISH smallchat:chan:<#name>. A node
//   SUBSCRIBEs to a channel while it has local members there, and
//   UNSUBSCRIBEs when the last one leaves. Every message carries the id of
//   the node that said it, so a node ignores its own messages coming back
//   (its local members already got them): no echo, no duplicates.
// - Private messages: each node SUBSCRIBEs to smallchat:node:<id>. /msg
//   looks up which node holds the nick (GET smallchat:nick:<nick>) and
//   PUBLISHes there.
// - Nicks: a nick is a lease, SET smallchat:nick:<nick> <node> NX PX 5000.
//   The node's timer renews its leases every second, a node frees a nick
//   when its client leaves or renames, and a node that dies stops renewing:
//   its nicks free themselves within five seconds.
// - /who, /names, /list: each node keeps a presence key (its nicks and
//   channels, as JSON) under the same kind of lease; a question about the
//   whole cluster reads them all (SCAN, then MGET).
//
// What stays local: the sockets, the buffers, the channel maps, everything
// a local client does with local clients. If Redis goes away, the node goes
// on serving its own clients as step 08 did, and says so once.
//
// The order of one sender's messages is kept end to end: every PUBLISH goes
// out on one connection in the order the lines were read, Redis delivers a
// channel's messages in the order it received them, and the node delivers
// them in the order they arrive. A command that must wait for Redis (/nick,
// a /msg to another node, /who) makes its client wait too (server.ts), so
// nothing a client typed later can overtake it.

import { randomBytes } from "node:crypto";
import { log } from "@smallchat/shared/chatlib";
import { Redis } from "ioredis";

// Every key and channel of the chat lives under this prefix, so several
// chats (or a chat and anything else) can share one Redis.
const PREFIX = "smallchat:";

// How long a nick (and a node's presence) lives in Redis unless renewed.
// The node renews every tick (1 s), so a lease survives four missed ticks;
// a dead node's nicks come free within this time.
export const LEASE_MS = 5000;

// Reconnect backoff: 100 ms, doubling up to 2 s, for ever. A chat node
// never gives up on its Redis; it just serves local clients meanwhile.
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2000;
const COMMAND_TIMEOUT_MS = 5000;

// What the node's cluster-wide answers are made of: what every node last
// wrote as its presence.
export interface Presence {
  nicks: string[];
  channels: Record<string, string[]>; // Channel name -> local member nicks, join order.
}

// What cluster.ts needs from the chat: it delivers what other nodes said,
// and asks for what the node holds. All of these run outside the event
// loop's iteration (from Redis's callbacks), so each batch ends with flush().
export interface ChatHooks {
  deliverToChannel(name: string, text: string): void;
  deliverToNick(nick: string, text: string): void;
  nickLost(nick: string): void; // Another node holds it now: rename its client.
  presence(): Presence;
  flush(): void;
}

// Take --redis URL out of the arguments (REDIS_URL in the environment
// otherwise; the flag wins). Null: no Redis, the server is step 08.
export function parseRedisUrl(
  argv: string[],
  env: NodeJS.ProcessEnv,
): { url: string | null; rest: string[] } {
  const rest: string[] = [];
  let url: string | null = env.REDIS_URL || null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--redis") url = argv[++i] ?? "";
    else if (arg.startsWith("--redis=")) url = arg.slice("--redis=".length);
    else rest.push(arg);
  }
  if (url !== null && !/^rediss?:\/\/./.test(url)) {
    console.error(
      `invalid --redis: ${url || "(missing)"}\nusage: --redis redis://HOST:PORT (or REDIS_URL)`,
    );
    process.exit(2);
  }
  return { url, rest };
}

export class Cluster {
  // Who we are in Redis: the value of our nick leases, the origin of our
  // messages, the name of our private channel. Random, so that a restarted
  // node is a new node and never mistakes an old lease for its own.
  readonly nodeId = randomBytes(3).toString("hex");

  // Two connections: a connection that has SUBSCRIBEd only listens (that
  // is how Redis pub/sub works), so commands go on the other one.
  private readonly cmd: Redis;
  private readonly sub: Redis;

  private up = false; // Both connections ready, and subscribed.
  private subscribed = false; // The subscriber connection hears what it should.
  private outageLogged = false; // One log line per outage, not one per message.
  private lastError = "";

  // The channels we want to hear: those with local members.
  private readonly wanted = new Set<string>();
  // The nicks this node holds (or is claiming) in Redis.
  private readonly mine = new Set<string>();
  private presenceScheduled = false;
  private flushScheduled = false;
  private renewing = false;
  // Lease transactions (WATCH ... EXEC) one at a time: WATCH state belongs
  // to the connection, and two interleaved transactions would share it.
  private txChain: Promise<void> = Promise.resolve();

  constructor(
    readonly url: string,
    private readonly hooks: ChatHooks,
  ) {
    const options = {
      // Down means down: a command while disconnected fails at once
      // instead of waiting in memory (without bound) to be sent late.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // A client waits for some answers (server.ts): a Redis that hangs
      // must not make it wait for ever.
      commandTimeout: COMMAND_TIMEOUT_MS,
      autoResendUnfulfilledCommands: false,
      // We resubscribe ourselves, from the channels we really have.
      autoResubscribe: false,
      retryStrategy: (times: number) =>
        Math.min(RETRY_FIRST_MS * 2 ** Math.min(times - 1, 5), RETRY_MAX_MS),
    };
    this.cmd = new Redis(url, options);
    this.sub = new Redis(url, options);
    for (const conn of [this.cmd, this.sub]) {
      // ioredis reports every failed reconnect: one line per outage is
      // enough, so errors are only remembered here.
      conn.on("error", (err: Error) => {
        this.lastError = err.message;
        this.linkChanged();
      });
      conn.on("close", () => {
        if (conn === this.sub) this.subscribed = false;
        this.linkChanged();
      });
    }
    this.cmd.on("ready", () => {
      this.reclaimNicks();
      this.writePresence();
      this.linkChanged();
    });
    this.sub.on("ready", () => this.resubscribe());
    this.sub.on("message", (channel: string, message: string) => this.onMessage(channel, message));
  }

  /* ========================== Connection state ========================== */

  // Log the transitions, once each: connected, lost, back.
  private linkChanged(): void {
    const up = this.cmd.status === "ready" && this.subscribed;
    if (up === this.up) {
      if (!up && !this.outageLogged && this.lastError !== "") this.logOutage();
      return;
    }
    const wasEverUp = this.outageLogged || this.up;
    this.up = up;
    if (up) {
      log(
        wasEverUp
          ? `redis: reconnected: resubscribed to ${this.wanted.size} channels, re-claiming ${this.mine.size} nicks`
          : `redis: connected to ${this.url} as node ${this.nodeId}`,
      );
      this.outageLogged = false;
      this.lastError = "";
    } else {
      this.logOutage();
    }
  }

  private logOutage(): void {
    this.outageLogged = true;
    log(
      `redis: cannot reach ${this.url}${this.lastError ? ` (${this.lastError})` : ""}: ` +
        "serving local clients only, retrying with backoff",
    );
  }

  // Called when the subscriber connection is (again) ready: a new
  // connection hears nothing until told what to hear. The node counts as
  // connected once Redis has confirmed.
  private resubscribe(): void {
    const channels = [this.nodeChannel(this.nodeId), ...[...this.wanted].map(chanKey)];
    this.sub.subscribe(...channels).then(
      () => {
        this.subscribed = true;
        this.linkChanged();
      },
      () => {}, // Lost again already: the next 'ready' tries again.
    );
  }

  /* ========================== Channels ================================== */

  // A local channel changed membership: subscribe on its first local
  // member, unsubscribe when the last one leaves. Called by the server
  // after every join and part; `done` runs once Redis has confirmed a new
  // subscription (at once if there is none to make).
  channelChanged(name: string, localMembers: number, done = () => {}): void {
    this.presenceChanged();
    if (localMembers > 0 && !this.wanted.has(name)) {
      this.wanted.add(name);
      if (this.sub.status !== "ready") {
        done(); // resubscribe() will, once Redis is back.
        return;
      }
      this.sub
        .subscribe(chanKey(name))
        .then(
          () => log(`redis: subscribed to ${name}`),
          () => {},
        )
        .finally(() => this.callChat(done));
      return;
    }
    done();
    if (localMembers === 0 && this.wanted.has(name)) {
      this.wanted.delete(name);
      if (this.sub.status !== "ready") return;
      this.sub.unsubscribe(chanKey(name)).then(
        () => log(`redis: unsubscribed from ${name}`),
        () => {},
      );
    }
  }

  // Publish a line or notice said in channel `name` on this node.
  publishToChannel(name: string, text: string): void {
    this.publish(chanKey(name), `${this.nodeId} ${text}`);
  }

  // While Redis is away, a message to other nodes is dropped, not queued:
  // at-most-once, as pub/sub itself is. The node's own clients have it.
  private publish(channel: string, payload: string): void {
    if (this.cmd.status !== "ready") return;
    this.cmd.publish(channel, payload).catch(() => {});
  }

  /* ========================== Private messages ========================== */

  // Send `text` to `nick`, held by some other node. `done` says whether
  // a node holds it (null: Redis cannot be asked).
  sendPrivate(nick: string, text: string, done: (found: boolean | null) => void): void {
    if (!this.up) {
      done(null);
      return;
    }
    const payload = `${this.nodeId} ${nick} ${text}`;
    // A default nick names its node ("user:3@a1b2c3"): no lookup needed.
    const at = nick.startsWith("user:") ? nick.lastIndexOf("@") : -1;
    if (at !== -1) {
      this.publish(this.nodeChannel(nick.slice(at + 1)), payload);
      done(true);
      return;
    }
    this.cmd.get(nickKey(nick)).then(
      (node) => {
        if (node !== null) this.publish(this.nodeChannel(node), payload);
        this.callChat(() => done(node !== null));
      },
      () => this.callChat(() => done(null)),
    );
  }

  /* ========================== Receiving ================================= */

  private onMessage(channel: string, message: string): void {
    // Our own messages come back too (we are subscribed): our clients
    // already have them.
    const space = message.indexOf(" ");
    if (space === -1 || message.slice(0, space) === this.nodeId) return;
    const rest = message.slice(space + 1);
    if (channel.startsWith(`${PREFIX}chan:`)) {
      this.hooks.deliverToChannel(channel.slice(`${PREFIX}chan:`.length), rest);
    } else if (channel === this.nodeChannel(this.nodeId)) {
      const sp = rest.indexOf(" ");
      if (sp !== -1) this.hooks.deliverToNick(rest.slice(0, sp), rest.slice(sp + 1));
    }
    this.scheduleFlush();
  }

  // Run a callback into the chat, then flush what it queued.
  private callChat(fn: () => void): void {
    fn();
    this.scheduleFlush();
  }

  // Deliveries arrive from Redis's socket, not from the event loop, which
  // may be asleep for up to a second: flush once for the whole batch that
  // one read brought (setImmediate runs after all of them).
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.hooks.flush();
    });
  }

  /* ========================== Nick leases =============================== */

  // Is `nick` held or being claimed by this node?
  holds(nick: string): boolean {
    return this.mine.has(nick);
  }

  // Claim `nick` for a local client: `done(true)` once Redis gave it to
  // us, `done(false)` if another node holds it. With Redis away the claim
  // is granted here and made again on reconnect; if another node took the
  // nick meanwhile, nickLost() renames our client then.
  claimNick(nick: string, done: (ok: boolean) => void): void {
    this.mine.add(nick);
    if (!this.up) {
      done(true);
      return;
    }
    this.cmd.set(nickKey(nick), this.nodeId, "PX", LEASE_MS, "NX", "GET").then(
      (old) => {
        const ok = old === null || old === this.nodeId;
        if (!ok) this.mine.delete(nick);
        this.callChat(() => done(ok));
      },
      () => this.callChat(() => done(true)),
    );
  }

  // Free a nick this node held: delete the key only if it is still ours.
  // Check-and-delete must be one step, or we could delete a lease another
  // node took a moment ago: WATCH makes the DEL fail if the key changed
  // after our GET.
  releaseNick(nick: string): void {
    if (!this.mine.delete(nick)) return;
    this.presenceChanged();
    if (!this.up) return; // The lease runs out by itself.
    this.transaction(async () => {
      const key = nickKey(nick);
      await this.cmd.watch(key);
      const owner = await this.cmd.get(key);
      // Not ours any more, or claimed again by another local client while
      // we waited: keep it. An EXEC with nothing queued still ends the
      // WATCH, so the transaction runs either way.
      const tx = this.cmd.multi();
      if (owner === this.nodeId && !this.mine.has(nick)) tx.del(key);
      await tx.exec();
    });
  }

  // The node's timer: renew every lease we hold, and our presence. One
  // transaction for all the nicks: WATCH them, read them, and renew (in
  // MULTI/EXEC) only those still ours. A nick found gone (Redis restarted,
  // or we were away longer than the lease) is claimed again; a nick found
  // held by another node is lost.
  cron(): void {
    if (!this.up || this.renewing) return;
    this.writePresence();
    if (this.mine.size === 0) return;
    this.renewing = true;
    this.transaction(async () => {
      const nicks = [...this.mine];
      const keys = nicks.map(nickKey);
      await this.cmd.watch(...keys);
      const owners = await this.cmd.mget(...keys);
      const tx = this.cmd.multi();
      const gone: string[] = [];
      nicks.forEach((nick, i) => {
        if (owners[i] === this.nodeId) tx.pexpire(keys[i]!, LEASE_MS);
        else if (owners[i] === null) gone.push(nick);
        else this.lose(nick);
      });
      await tx.exec(); // Null if a key changed meanwhile: the next tick retries.
      for (const nick of gone) this.reclaim(nick);
    }).finally(() => {
      this.renewing = false;
    });
  }

  // On reconnect: claim every nick we hold again.
  private reclaimNicks(): void {
    for (const nick of this.mine) this.reclaim(nick);
  }

  private reclaim(nick: string): void {
    this.cmd.set(nickKey(nick), this.nodeId, "PX", LEASE_MS, "NX", "GET").then(
      (old) => {
        if (old !== null && old !== this.nodeId && this.mine.has(nick)) this.lose(nick);
      },
      () => {},
    );
  }

  private lose(nick: string): void {
    if (!this.mine.delete(nick)) return;
    log(`redis: nick ${nick} is held by another node now`);
    this.callChat(() => this.hooks.nickLost(nick));
  }

  private transaction(fn: () => Promise<void>): Promise<void> {
    this.txChain = this.txChain.then(fn).catch(() => {});
    return this.txChain;
  }

  /* ========================== Presence ================================== */

  // Membership or nicks changed: rewrite our presence key soon, once for
  // everything that changes in this round.
  presenceChanged(): void {
    if (this.presenceScheduled) return;
    this.presenceScheduled = true;
    setImmediate(() => {
      this.presenceScheduled = false;
      this.writePresence();
    });
  }

  private writePresence(): void {
    if (this.cmd.status !== "ready") return;
    const value = JSON.stringify(this.hooks.presence());
    this.cmd.set(presenceKey(this.nodeId), value, "PX", LEASE_MS).catch(() => {});
  }

  // Every node's presence, ours fresh from memory, the others as they last
  // wrote it. Null if Redis cannot be asked. SCAN, not KEYS: KEYS walks
  // the whole keyspace in one go and Redis serves nobody else meanwhile.
  async everyone(): Promise<Presence[] | null> {
    if (!this.up) return null;
    try {
      const keys: string[] = [];
      let cursor = "0";
      do {
        const [next, batch] = await this.cmd.scan(
          cursor,
          "MATCH",
          `${PREFIX}presence:*`,
          "COUNT",
          100,
        );
        cursor = next;
        keys.push(...batch);
      } while (cursor !== "0");
      const mineKey = presenceKey(this.nodeId);
      const others = keys.filter((k) => k !== mineKey);
      const values = others.length > 0 ? await this.cmd.mget(...others) : [];
      const all = [this.hooks.presence()];
      for (const v of values) {
        if (v !== null) all.push(JSON.parse(v) as Presence);
      }
      return all;
    } catch {
      return null;
    }
  }

  // Answer a cluster-wide question: `answer` gets every presence, or null
  // if Redis is away; then the output is flushed.
  ask(answer: (all: Presence[] | null) => void): void {
    void this.everyone().then((all) => this.callChat(() => answer(all)));
  }

  private nodeChannel(node: string): string {
    return `${PREFIX}node:${node}`;
  }

  // Leave Redis: our nicks are freed by their leases.
  stop(): void {
    this.cmd.disconnect();
    this.sub.disconnect();
  }
}

function chanKey(name: string): string {
  return `${PREFIX}chan:${name}`;
}

function nickKey(nick: string): string {
  return `${PREFIX}nick:${nick}`;
}

function presenceKey(node: string): string {
  return `${PREFIX}presence:${node}`;
}
