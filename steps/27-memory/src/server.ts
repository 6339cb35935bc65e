// server.ts -- a Redis server: step 05's loop, speaking RESP instead of chat lines.
//
// The chat is over; what it taught stays. The loop is step 05's, around the
// same Poller (poller.ts, unchanged): wait for ready sockets, serve each,
// run the timers, then flush every client's output once. What a client
// sends is no longer lines but RESP (resp.ts): length-prefixed, so any
// byte can be in a value and the parser never scans a payload. A complete
// request goes to the command table (commands.ts), whose handlers answer
// through the client's reply writer, RESP2 or RESP3 as the client chose.
// Step 08's channels are now pub/sub (pubsub.ts).
//
// One read can hold many requests (a pipelining client, redis-benchmark
// -P 16): they are all run, in order, and all their replies leave in one
// write at the end of the iteration. A request cut in half waits in the
// client's parser for the rest. Input that can never be valid RESP gets
// Redis's "-ERR Protocol error: ..." and that one connection is closed.

import net from "node:net";
import { parseArgs } from "node:util";
import { listeningPort, log, onShutdown } from "@smallchat/shared/chatlib";
import { aofCron, aofEnabled, aofOptions, configureAof, flushAof, loadAof } from "./aof.ts";
import { lookupCommand, processCommand } from "./commands.ts";
import { touchWatchedKeys, unwatchAllKeys } from "./multi.ts";
import { type PollEvent, Poller } from "./poller.ts";
import { ProtocolError, RespParser } from "./resp.ts";
import {
  type Client,
  closeAfterReply,
  createClientState,
  createDatabases,
  Server,
} from "./state.ts";

// How often the loop wakes up when nothing happens: Redis's serverCron
// runs 10 times a second (hz 10).
const TICK_MS = 100;

// A client whose socket holds this many unsent bytes is not read from
// until it drains: a client that pipelines requests without reading the
// replies is slowed down by TCP instead of growing our memory.
const OUTPUT_PAUSE_BYTES = 4 * 1024 * 1024;

/* ============================ Clients ===================================== */

// Every parser reads proto-max-bulk-len at each bulk header, so a CONFIG
// SET reaches the connections already open.
const PARSER_LIMITS = {
  get maxBulkLen(): number {
    return Server.config.protoMaxBulkLen;
  },
};

// Redis's protected mode: what a client from another machine gets while
// no password is set, before it can send anything.
const DENIED =
  "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.";

function createClient(socket: net.Socket): Client {
  const parser = new RespParser(PARSER_LIMITS);
  const c = createClientState(socket, parser);
  Server.clients.set(c.id, c);
  Server.stats.connections++;
  // Only the loopback addresses count as this machine: 127.0.0.2 does not,
  // exactly as in Redis. The client is told why, then closed.
  const { protectedMode, requirepass } = Server.config;
  const local = socket.remoteAddress === "127.0.0.1" || socket.remoteAddress === "::1";
  if (protectedMode && requirepass === null && !local) {
    c.out.error(DENIED);
    closeAfterReply(c, "protected mode: not a loopback address and no password set");
  }
  return c;
}

// Free a client: forget its subscriptions and watches, close its socket. Safe to call
// twice. With `flush`, what is queued for it goes out first (the protocol
// error, QUIT's +OK).
function freeClient(c: Client, reason: string, flush = false): void {
  if (c.gone) return;
  c.gone = true;
  Server.clients.delete(c.id);
  Server.pubsub.removeClient(c);
  Server.blocking.forget(c); // Blocked: it swallows nothing from now on.
  Server.unblocked.delete(c);
  unwatchAllKeys(c);
  Server.monitors.delete(c);
  Server.pendingWrites.delete(c);
  Server.toClose.delete(c);
  poller?.remove(c.socket);
  const chunks = c.out.take();
  if (flush && chunks.length > 0 && !c.socket.writableNeedDrain) {
    const socket = c.socket;
    for (const b of chunks) socket.write(b);
    socket.end(() => socket.destroy());
  } else {
    c.socket.destroy();
  }
  log(`client ${c.id} dropped: ${reason}`);
}

/* ============================ Input ======================================= */

// Called when the poller reports `c` readable: read every chunk Node holds
// (until read() says null, Node's EAGAIN), and run the commands in them.
function readFromClient(c: Client): void {
  while (!c.gone && c.closeAfterReply === null) {
    if (c.socket.writableLength > OUTPUT_PAUSE_BYTES) return; // Resumed on 'writable'.
    const chunk = c.socket.read() as Buffer | null;
    if (chunk === null) return;
    Server.stats.netInput += chunk.length;
    Server.stats.reads++;
    c.lastInteraction = Date.now();
    c.parser.feed(chunk);
    processInputBuffer(c);
    if (!c.gone && c.parser.buffered > Server.config.queryBufferLimit) {
      freeClient(c, `query buffer over ${Server.config.queryBufferLimit} bytes`);
    }
  }
}

// Run every complete command in the client's parser. Stops at a blocked
// client (its next commands wait their turn: processUnblockedClients()
// calls this again when it is served) and at one that will close.
function processInputBuffer(c: Client): void {
  while (!c.gone && !c.blocked && c.closeAfterReply === null) {
    let argv: Buffer[] | null;
    try {
      argv = c.parser.next();
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      c.out.error(`ERR ${err.message}`);
      closeAfterReply(c, `protocol error: ${err.reason}`);
      return;
    }
    if (argv === null) return;
    processCommand(c, argv);
  }
}

// Redis's processUnblockedClients(): the clients served or timed out in
// this iteration run the commands they pipelined while they waited. One of
// those may block again, or ready keys for others: both are handled as for
// any command.
function processUnblockedClients(): void {
  while (Server.unblocked.size > 0) {
    const [c] = Server.unblocked;
    Server.unblocked.delete(c!);
    if (!c!.blocked) processInputBuffer(c!);
  }
}

/* ============================ Output ======================================
 * Replies wait in each client's ReplyWriter (resp.ts) until the end of the
 * iteration; then each client gets one write with everything its requests
 * of this iteration produced. A pipelined client sending 16 PINGs in one
 * packet gets its 16 PONGs in one packet.
 * ======================================================================== */

function flushClient(c: Client): void {
  const chunks = c.out.take();
  if (chunks.length === 0) return;
  const socket = c.socket;
  if (chunks.length === 1) {
    Server.stats.netOutput += chunks[0]!.length;
    socket.write(chunks[0]!);
  } else {
    socket.cork(); // Many chunks, one writev().
    for (const b of chunks) {
      Server.stats.netOutput += b.length;
      socket.write(b);
    }
    socket.uncork();
  }
  c.socketHeld = socket.writableLength;
  if (c.socketHeld === 0) c.out.rewind(); // Written at once: the slab is free.
  Server.stats.writes++;
}

// Redis's beforeSleep(): free the clients marked for closing, then flush.
function handleClientsWithPendingWrites(): void {
  flushAof(); // Step 25: what the replies acknowledge is logged first (aof.ts).
  for (const [c, reason] of Server.toClose) freeClient(c, reason);
  for (const c of Server.pendingWrites) {
    if (c.closeAfterReply !== null) freeClient(c, c.closeAfterReply, true);
    else flushClient(c);
  }
  Server.pendingWrites.clear();
}

/* ============================ Timers ====================================== */

interface Timer {
  when: number;
  everyMs: number;
  proc: () => void;
}

const timers: Timer[] = [];

function addTimer(everyMs: number, proc: () => void): void {
  timers.push({ when: performance.now() + everyMs, everyMs, proc });
}

// The nearest timer, or the nearest blocked client's deadline (an epoch
// time; it expires once the clock is past it, hence the + 1).
function msUntilNextTimer(): number {
  let next = Number.POSITIVE_INFINITY;
  for (const t of timers) next = Math.min(next, t.when);
  const ms = Math.max(0, next - performance.now());
  return Math.min(ms, Math.max(0, Server.blocking.nextDeadline() + 1 - Date.now()));
}

function runTimers(): void {
  const now = performance.now();
  for (const t of timers) {
    if (t.when > now) continue;
    t.proc();
    t.when = now + t.everyMs;
  }
}

// The periodic tick: the active half of expiry (db.ts). Each tick samples
// keys that have a TTL and deletes the dead ones, for at most a quarter of
// the tick (Redis's activeExpireCycle), so a million keys that nobody
// reads again are reclaimed over a few ticks without stalling the clients.
const EXPIRE_BUDGET_MS = TICK_MS / 4;

function serverCron(): void {
  Server.commandTime = Date.now();
  // Every database shares the one budget, as in Redis.
  const start = performance.now();
  for (const db of Server.dbs) {
    const left = EXPIRE_BUDGET_MS - (performance.now() - start);
    if (left <= 0) break;
    if (db.expiringCount > 0) db.activeExpireCycle(left);
  }
  aofCron();
}

/* ============================ The event loop ============================== */

let poller: Poller<Client> | null = null;
let running = true;

function processEvent(ev: PollEvent<Client>): void {
  switch (ev.type) {
    case "accept": {
      const c = createClient(ev.socket);
      poller?.add(ev.socket, c);
      break;
    }
    case "readable":
      readFromClient(ev.data);
      break;
    case "writable":
      // Drained: read again if we had stopped for it.
      ev.data.socketHeld = 0;
      if (!ev.data.gone) readFromClient(ev.data);
      break;
    case "end":
      // read() returned 0: the client sends nothing more. Redis frees it on
      // the spot, but by then its replies were already written in the same
      // iteration; here they still wait for the flush, so close after it.
      if (!ev.data.gone) {
        closeAfterReply(ev.data, "closed by peer");
        Server.pendingWrites.add(ev.data);
      }
      break;
    case "closed":
      freeClient(ev.data, ev.reason);
      break;
  }
}

async function eventLoop(poller: Poller<Client>): Promise<void> {
  while (running) {
    const events = await poller.wait(msUntilNextTimer());
    for (const ev of events) processEvent(ev);
    runTimers();
    // Blocked clients whose time is up get their nil reply (blocking.ts).
    Server.commandTime = Date.now();
    Server.blocking.expire(Server.commandTime);
    processUnblockedClients();
    handleClientsWithPendingWrites();
    if (Server.shutdownAsap !== null) {
      log(`${Server.shutdownAsap}: shutting down`);
      shutdownServer();
      process.exit(0);
    }
  }
}

/* ============================ Main ======================================== */

const USAGE =
  "usage: server.ts [--bind ADDRESSES] [--port PORT] [--protected-mode yes|no] [--requirepass PASSWORD]" +
  " [--databases N]" +
  " [--proto-max-bulk-len BYTES] [--client-query-buffer-limit BYTES] [--pubsub-output-limit BYTES]" +
  " [--pubsub-soft-limit BYTES] [--pubsub-soft-seconds N]" +
  " [--appendonly yes|no] [--dir DIR] [--appenddirname NAME] [--appendfilename NAME]" +
  " [--appendfsync always|everysec|no] [--auto-aof-rewrite-percentage N]" +
  " [--auto-aof-rewrite-min-size BYTES] [--aof-load-truncated yes|no]" +
  " (--host HOST is --bind with one address)";

function parseOptions(argv: string[]): void {
  const cfg = Server.config;
  try {
    const { values, tokens } = parseArgs({
      args: argv,
      tokens: true,
      options: {
        host: { type: "string" },
        bind: { type: "string" },
        port: { type: "string" },
        databases: { type: "string" },
        "protected-mode": { type: "string" },
        requirepass: { type: "string" },
        "proto-max-bulk-len": { type: "string" },
        "client-query-buffer-limit": { type: "string" },
        "pubsub-output-limit": { type: "string" },
        ...aofOptions,
        help: { type: "boolean" },
        "pubsub-soft-limit": { type: "string" },
        "pubsub-soft-seconds": { type: "string" },
      },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    configureAof(values);
    const num = (name: string, text: string | undefined, fallback: number, max: number) => {
      if (text === undefined) return fallback;
      const n = Number(text);
      if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`invalid --${name}: ${text}`);
      return n;
    };
    // --host and --bind say the same thing: the last one given wins.
    for (const t of tokens) {
      if (t.kind === "option" && (t.name === "host" || t.name === "bind")) cfg.bind = t.value!;
    }
    if (bindAddresses(cfg.bind).length === 0) throw new Error(`invalid --bind: ${cfg.bind}`);
    const pm = values["protected-mode"];
    if (pm !== undefined && pm !== "yes" && pm !== "no") {
      throw new Error(`invalid --protected-mode: ${pm}`);
    }
    cfg.protectedMode = pm === undefined ? cfg.protectedMode : pm === "yes";
    // An empty password is no password, as in Redis.
    const pass = values.requirepass;
    if (pass !== undefined) cfg.requirepass = pass === "" ? null : Buffer.from(pass);
    cfg.port = num("port", values.port, cfg.port, 65535);
    cfg.databases = num("databases", values.databases, cfg.databases, 1000000);
    if (cfg.databases < 1) throw new Error(`invalid --databases: ${values.databases}`);
    const big = Number.MAX_SAFE_INTEGER;
    cfg.protoMaxBulkLen = num(
      "proto-max-bulk-len",
      values["proto-max-bulk-len"],
      cfg.protoMaxBulkLen,
      big,
    );
    cfg.queryBufferLimit = num(
      "client-query-buffer-limit",
      values["client-query-buffer-limit"],
      cfg.queryBufferLimit,
      big,
    );
    cfg.pubsubOutputLimit = num(
      "pubsub-output-limit",
      values["pubsub-output-limit"],
      cfg.pubsubOutputLimit,
      big,
    );
    cfg.pubsubSoftLimit = num(
      "pubsub-soft-limit",
      values["pubsub-soft-limit"],
      cfg.pubsubSoftLimit,
      big,
    );
    cfg.pubsubSoftSeconds = num(
      "pubsub-soft-seconds",
      values["pubsub-soft-seconds"],
      cfg.pubsubSoftSeconds,
      big,
    );
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

// The addresses of a `bind` setting: "*" is every IPv4 address, "::*"
// every IPv6 one, and a leading "-" marks one that may be unavailable
// (no IPv6 on this machine) without stopping the server.
function bindAddresses(bind: string): { host: string; optional: boolean }[] {
  return bind
    .split(" ")
    .filter((a) => a !== "" && a !== "-")
    .map((a) => {
      const optional = a.startsWith("-");
      const host = optional ? a.slice(1) : a;
      return { host: host === "*" ? "0.0.0.0" : host === "::*" ? "::" : host, optional };
    });
}

// Errors that mean "this machine has no such address", which a "-" address
// may meet: Redis skips those too.
const UNAVAILABLE = new Set(["EADDRNOTAVAIL", "EAFNOSUPPORT", "EPROTONOSUPPORT"]);

// listen(), with a sentence a person can act on when the port is taken:
// on 6379 that is most likely a real Redis.
function listen(host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: when a client ends its input (`printf 'PING\r\n' | nc
    // -N`), Node must not close our side before the replies to what it did
    // send are out. The loop closes it, after the reply (the "end" event).
    const server = net.createServer({ noDelay: true, allowHalfOpen: true });
    server.once("error", reject);
    // An IPv6 socket takes only IPv6 clients, as Redis's (IPV6_V6ONLY):
    // IPv4 ones come through the IPv4 socket, with their plain address.
    server.listen({ host, port, ipv6Only: net.isIPv6(host) }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

// Listen on every address of --bind, all on one port (the first one
// picks it when --port is 0). Exits with a message on failure.
async function listenAll(): Promise<net.Server[]> {
  const servers: net.Server[] = [];
  let port = Server.config.port;
  for (const { host, optional } of bindAddresses(Server.config.bind)) {
    try {
      const server = await listen(host, port);
      port = listeningPort(server);
      servers.push(server);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (optional && UNAVAILABLE.has(e.code ?? "")) continue;
      if (e.code === "EADDRINUSE") {
        console.error(
          `port ${port} is already in use (a real redis-server, perhaps?): ` +
            `start with --port ${port + 1}, or any free port`,
        );
      } else {
        console.error(`Creating listening socket on ${host}: ${e.message}`);
      }
      process.exit(1);
    }
  }
  if (servers.length === 0) {
    console.error(`Creating listening socket: no address of '${Server.config.bind}' is available`);
    process.exit(1);
  }
  Server.config.port = port;
  return servers;
}

let listeners: net.Server[] = [];

// Close every client and listening socket: on SIGTERM, or for SHUTDOWN.
function shutdownServer(): void {
  running = false;
  for (const c of Server.clients.values()) freeClient(c, "server shutting down");
  for (const l of listeners) l.close();
  flushAof();
  log(`Ran ${Server.stats.commands} commands, ${Server.stats.writes} socket writes`);
}

// Step 25: load the append-only file before the port opens (aof.ts),
// through the command table, as a client that nobody reads (and that
// needs no password: the file is the server's own).
function loadData(): void {
  if (!aofEnabled()) return;
  const fake = createClientState(new net.Socket(), new RespParser({ maxBulkLen: 0 }));
  fake.authenticated = true;
  try {
    loadAof((c, argv) => {
      if (lookupCommand(argv) === null) return false;
      processCommand(c, argv);
      return true;
    }, fake);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  parseOptions(process.argv.slice(2));
  createDatabases(Server.config.databases);
  loadData();
  listeners = await listenAll();
  // The poller watches the first listening socket; the others hand it
  // their new connections, so the loop sees one stream of accepts.
  const [first, ...others] = listeners;
  for (const l of others) l.on("connection", (socket) => first!.emit("connection", socket));
  poller = new Poller<Client>(first!);
  addTimer(TICK_MS, serverCron);
  for (const db of Server.dbs) {
    db.onKeyEvent((event, key) => touchWatchedKeys(event, key, db)); // WATCH (multi.ts).
  }
  onShutdown(shutdownServer);
  for (const l of listeners) {
    const a = l.address() as net.AddressInfo;
    log(`listening on ${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`);
  }
  await eventLoop(poller);
}

void main();
