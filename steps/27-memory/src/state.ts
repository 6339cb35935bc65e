// state.ts -- what the server knows: its clients, its settings, its counters.
//
// Redis keeps one global `struct redisServer server` and one `client`
// struct per connection; every command reads and changes them. Here they
// are: the Client record and the Server object. They live in a file of
// their own because everyone needs them, the event loop (server.ts) and
// every command family (commands/*.ts), and neither side should import the
// other. Only server.ts creates and frees clients; a command that wants a
// client gone asks for it with closeAfterReply() or closeAsap(), and the
// loop does it at a safe point, as Redis's freeClientAsync() does.

import type net from "node:net";
import { BlockingManager } from "./blocking.ts";
import { Db, type Key, toKey } from "./db.ts";
import type { QueuedCommand, WatchedKey } from "./multi.ts";
import { PubSub } from "./pubsub.ts";
import { ReplyWriter, type RespParser } from "./resp.ts";

export interface Client {
  id: number;
  socket: net.Socket;
  addr: string; // "ip:port" of the peer, for CLIENT LIST.
  laddr: string; // Our end of the connection.
  parser: RespParser;
  out: ReplyWriter; // Replies waiting for the end of the iteration.
  // Bytes Node still held for this socket after our last flush (its
  // writableLength then): read once per flush, not once per message.
  socketHeld: number;
  name: Buffer | null; // CLIENT SETNAME / HELLO SETNAME.
  // AUTH (or HELLO AUTH) done, or not needed: without it only AUTH, HELLO
  // and QUIT run (Redis's NOAUTH).
  authenticated: boolean;
  db: number; // The database SELECTed, 0 at first.
  monitor: boolean; // Sent MONITOR: gets a line for every command run.
  // When its unsent output last went over the pub/sub soft limit, in ms
  // since the epoch; 0 while under it.
  softLimitSince: number;
  createdAt: number; // ms since the epoch.
  lastInteraction: number; // ms since the epoch, for CLIENT LIST idle=.
  lastCommand: string; // Full name of the last command, for CLIENT LIST cmd=.
  // Subscribed to at least one channel or pattern: in RESP2 only the
  // pub/sub commands may run (Redis's CLIENT_PUBSUB flag).
  pubsub: boolean;
  // While set, the loop runs none of this client's pipelined commands: they
  // wait in its parser. Set by BLPOP and friends while they wait on a key
  // (blocking.ts); cleared when they are served or time out.
  blocked: boolean;
  // The counters (INFO commandstats) of the command it is blocked in: a
  // blocked command counts as one call when it is served or times out,
  // as in Redis.
  blockedCall: { calls: number } | null;
  // Why the connection will be closed once its pending replies are out
  // (QUIT, a protocol error); null while it stays open.
  closeAfterReply: string | null;
  closing: boolean; // Set by closeAfterReply() and closeAsap(): no more messages.
  gone: boolean; // Freed: ignore any late event.
  // MULTI/EXEC and WATCH (multi.ts): the commands queued since MULTI (null:
  // not in a transaction) and their size; whether one was refused (EXEC
  // will answer EXECABORT); the keys WATCHed (null: none); whether one of
  // them was written since (EXEC will answer nil).
  multi: QueuedCommand[] | null;
  multiBytes: number;
  multiFailed: boolean;
  watching: Map<string, WatchedKey> | null; // By "<db>:<key>".
  watchTouched: boolean;
}

export interface Config {
  // Where to listen, as Redis's `bind` says it: addresses separated by
  // spaces, "*" for every IPv4 one, "::*" for every IPv6 one, and a "-"
  // before an address that may be missing (Redis's default "* -::*").
  bind: string;
  port: number;
  // While on and no password is set, only clients on this machine
  // (127.0.0.1, ::1) may connect: Redis's protected-mode.
  protectedMode: boolean;
  requirepass: Buffer | null; // The default user's password; null: none.
  databases: number; // How many databases SELECT can pick from.
  protoMaxBulkLen: number; // proto-max-bulk-len.
  queryBufferLimit: number; // client-query-buffer-limit.
  // client-output-buffer-limit pubsub: a subscriber holding more than the
  // hard limit of unsent output is dropped at once; one over the soft limit
  // for longer than pubsubSoftSeconds is dropped too.
  pubsubOutputLimit: number;
  pubsubSoftLimit: number;
  pubsubSoftSeconds: number;
}

export const Server = {
  config: {
    bind: "* -::*",
    port: 6379,
    protectedMode: true,
    requirepass: null,
    databases: 16,
    protoMaxBulkLen: 512 * 1024 * 1024,
    queryBufferLimit: 1024 * 1024 * 1024,
    pubsubOutputLimit: 32 * 1024 * 1024, // Redis's default: pubsub 32mb 8mb 60.
    pubsubSoftLimit: 8 * 1024 * 1024,
    pubsubSoftSeconds: 60,
  } as Config,
  clients: new Map<number, Client>(),
  nextId: 1,
  monitors: new Set<Client>(), // Clients that sent MONITOR.
  // Set by SHUTDOWN, with who asked: the loop stops after this iteration.
  shutdownAsap: null as string | null,
  // Channels and patterns with their subscribers (pubsub.ts).
  pubsub: new PubSub(
    (): Config => Server.config,
    (c: Client, reason: string): void => {
      Server.stats.pubsubDropped++;
      closeAsap(c, reason);
    },
  ),
  startTime: Date.now(),
  // The keyspaces (db.ts), one per database, numbered as SELECT numbers
  // them (createDatabases() makes them). Their clock is commandTime: one
  // time per command, as Redis's, so a key cannot expire halfway through
  // an MSET or a SCAN.
  dbs: [] as Db[],
  // The database of the command being run: call() (commands.ts) points it
  // at the caller's SELECTed one, so a command reads Server.db and never
  // asks which client it runs for.
  db: null as unknown as Db,
  commandTime: Date.now(), // ms since the epoch; set as each command starts.
  // Clients waiting on keys (blocking.ts). One that leaves the lot served
  // or timed out goes into `unblocked`, whose pipelined commands the loop
  // runs before it sleeps (Redis's unblocked_clients).
  blocking: new BlockingManager<Client>((c: Client): void => {
    c.blocked = false;
    Server.unblocked.add(c);
    if (c.blockedCall !== null) {
      c.blockedCall.calls++;
      Server.stats.commands++;
      c.blockedCall = null;
    }
    Server.afterUnblock(c);
  }),
  // Called as each blocked client is served or times out: step 25's AOF
  // logs what a served one did (aof.ts sets it).
  afterUnblock: (_c: Client): void => {},
  // True while step 25 replays the AOF at start (Redis's server.loading):
  // the file's commands are obeyed as they were written (aof.ts sets it).
  loading: false,
  unblocked: new Set<Client>(),
  // Clients with replies to flush before the loop sleeps again (Redis's
  // clients_pending_write).
  pendingWrites: new Set<Client>(),
  // Clients to free at the end of this iteration, with why (Redis's
  // clients_to_close): freeing one in the middle of a fan-out would change
  // the set being walked.
  toClose: new Map<Client, string>(),
  stats: {
    connections: 0, // total_connections_received
    commands: 0, // total_commands_processed
    netInput: 0, // total_net_input_bytes
    netOutput: 0, // total_net_output_bytes
    pubsubDropped: 0, // client_output_buffer_limit_disconnections (pubsub)
    reads: 0, // Chunks read from sockets.
    writes: 0, // Flushes: one socket write (or writev) each.
  },
};

// Park `c` until one of `keys` serves it or the deadline passes (see
// BlockRequest in blocking.ts). Its next commands wait meanwhile.
export function blockForKeys(
  c: Client,
  keys: Buffer[],
  deadline: number,
  tryServe: (key: Key) => boolean,
  timedOut: () => void,
): void {
  // Inside EXEC (multi.ts) a blocking command must not block: the
  // transaction runs as one unit, so it answers as if its timeout had
  // passed, as Redis does (CLIENT_DENY_BLOCKING).
  if (c.multi !== null) {
    // BLMOVE and BRPOPLPUSH answer a plain nil there ($-1 in RESP2), not
    // the nil array of a real timeout: Redis's blmoveGenericCommand says
    // addReplyNull where blockingPopGenericCommand says addReplyNullArray.
    if (c.lastCommand === "blmove" || c.lastCommand === "brpoplpush") c.out.null();
    else timedOut();
    return;
  }
  c.blocked = true;
  // Whoever's command made the key ready, the waiter is served from its
  // own database.
  const serve = (key: Key): boolean => {
    Server.db = Server.dbs[c.db]!;
    return tryServe(key);
  };
  Server.blocking.block({ client: c, keys: keys.map(toKey), deadline, tryServe: serve, timedOut });
}

export function createClientState(socket: net.Socket, parser: RespParser): Client {
  const now = Date.now();
  const c: Client = {
    id: Server.nextId++,
    socket,
    addr: `${socket.remoteAddress}:${socket.remotePort}`,
    laddr: `${socket.localAddress}:${socket.localPort}`,
    parser,
    out: new ReplyWriter(() => Server.pendingWrites.add(c)),
    socketHeld: 0,
    name: null,
    authenticated: Server.config.requirepass === null,
    db: 0,
    monitor: false,
    softLimitSince: 0,
    createdAt: now,
    lastInteraction: now,
    lastCommand: "NULL",
    pubsub: false,
    blocked: false,
    blockedCall: null,
    closeAfterReply: null,
    closing: false,
    gone: false,
    multi: null,
    multiBytes: 0,
    multiFailed: false,
    watching: null,
    watchTouched: false,
  };
  return c;
}

// Close `c` once the replies already queued for it are out (QUIT, a
// protocol error); it runs no more commands and gets no more messages.
export function closeAfterReply(c: Client, reason: string): void {
  c.closeAfterReply ??= reason;
  c.closing = true;
}

// Free `c` at the end of this iteration, without sending anything more.
export function closeAsap(c: Client, reason: string): void {
  c.closing = true;
  if (!c.gone && !Server.toClose.has(c)) Server.toClose.set(c, reason);
}

// Make the `n` databases (at startup, once --databases is known).
export function createDatabases(n: number): void {
  Server.dbs = Array.from({ length: n }, (_, id) => {
    const db = new Db({ id, now: () => Server.commandTime });
    // Every write to a key (and every delete, for step 21's streams) may be
    // what a blocked client waits for: mark the key ready. The waiters are
    // served after the command, by handleClientsBlockedOnKeys(). Keys are
    // marked by name only: a waiter on key q of another database is woken
    // for nothing, finds its own q still empty, and waits on. A "flush"
    // (FLUSHDB, or SWAPDB bringing in other keys) may ready any key.
    db.onKeyEvent((event, key) => {
      if (key !== null && (event === "write" || event === "delete")) {
        Server.blocking.signalKeyAsReady(key);
      } else if (event === "flush") {
        Server.blocking.signalAllKeysAsReady();
      }
    });
    return db;
  });
  Server.db = Server.dbs[0]!;
}

createDatabases(Server.config.databases);
