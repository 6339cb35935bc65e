// server.ts -- a Redis server: step 05's loop, speaking RESP instead of chat lines.
//
// The chat is over; what it taught stays. The loop is step 05's, around the
// same Poller (poller.ts, unchanged): wait for ready sockets, serve each,
// run the timers, then flush every client's output once. What a client
// sends is no longer lines but RESP (resp.ts): length-prefixed, so any
// byte can be in a value and the parser never scans a payload. A complete
// request goes to the command table (commands.ts), whose handlers answer
// through the client's reply writer.
//
// One read can hold many requests (a pipelining client, redis-benchmark
// -P 16): they are all run, in order, and all their replies leave in one
// write at the end of the iteration. A request cut in half waits in the
// client's parser for the rest. Input that can never be valid RESP gets
// Redis's "-ERR Protocol error: ..." and that one connection is closed.

import net from "node:net";
import { parseArgs } from "node:util";
import { listeningPort, log, onShutdown } from "@smallchat/shared/chatlib";
import { processCommand } from "./commands.ts";
import { type PollEvent, Poller } from "./poller.ts";
import { ProtocolError, RespParser } from "./resp.ts";
import { type Client, closeAfterReply, createClientState, Server } from "./state.ts";

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

function createClient(socket: net.Socket): Client {
  const parser = new RespParser(PARSER_LIMITS);
  const c = createClientState(socket, parser);
  Server.clients.set(c.id, c);
  Server.stats.connections++;
  return c;
}

// Free a client: forget it, close its socket. Safe to call
// twice. With `flush`, what is queued for it goes out first (the protocol
// error, QUIT's +OK).
function freeClient(c: Client, reason: string, flush = false): void {
  if (c.gone) return;
  c.gone = true;
  Server.clients.delete(c.id);
  Server.pendingWrites.delete(c);
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
    c.parser.feed(chunk);
    processInputBuffer(c);
    if (!c.gone && c.parser.buffered > Server.config.queryBufferLimit) {
      freeClient(c, `query buffer over ${Server.config.queryBufferLimit} bytes`);
    }
  }
}

// Run every complete command in the client's parser. Stops at a blocked
// client (its next commands wait in the parser: when step 19 unblocks a
// client, the loop calls this again for it before flushing, as Redis's
// processUnblockedClients() does) and at one that will close.
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
  Server.stats.writes++;
}

// Redis's beforeSleep(): flush every client with replies waiting.
function handleClientsWithPendingWrites(): void {
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

function msUntilNextTimer(): number {
  let next = Number.POSITIVE_INFINITY;
  for (const t of timers) next = Math.min(next, t.when);
  return Math.max(0, next - performance.now());
}

function runTimers(): void {
  const now = performance.now();
  for (const t of timers) {
    if (t.when > now) continue;
    t.proc();
    t.when = now + t.everyMs;
  }
}

// The periodic tick. Nothing to do in this step: step 17 expires keys
// here (a few random keys with a TTL per tick, as Redis's activeExpireCycle).
function serverCron(): void {}

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
    handleClientsWithPendingWrites();
  }
}

/* ============================ Main ======================================== */

const USAGE =
  "usage: server.ts [--host HOST] [--port PORT]" +
  " [--proto-max-bulk-len BYTES] [--client-query-buffer-limit BYTES]";

function parseOptions(argv: string[]): void {
  const cfg = Server.config;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        "proto-max-bulk-len": { type: "string" },
        "client-query-buffer-limit": { type: "string" },
        help: { type: "boolean" },
      },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const num = (name: string, text: string | undefined, fallback: number, max: number) => {
      if (text === undefined) return fallback;
      const n = Number(text);
      if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`invalid --${name}: ${text}`);
      return n;
    };
    cfg.host = values.host ?? cfg.host;
    cfg.port = num("port", values.port, cfg.port, 65535);
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
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

// listen(), with a sentence a person can act on when the port is taken:
// on 6379 that is most likely a real Redis. Exits on failure.
function listen(host: string, port: number): Promise<net.Server> {
  return new Promise((resolve) => {
    // allowHalfOpen: when a client ends its input (`printf 'PING\r\n' | nc
    // -N`), Node must not close our side before the replies to what it did
    // send are out. The loop closes it, after the reply (the "end" event).
    const server = net.createServer({ noDelay: true, allowHalfOpen: true });
    server.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE") {
        console.error(
          `port ${port} is already in use (a real redis-server, perhaps?): ` +
            `start with --port ${port + 1}, or any free port`,
        );
      } else {
        console.error(`Creating listening socket on ${host}: ${e.message}`);
      }
      process.exit(1);
    });
    server.listen({ host, port }, () => resolve(server));
  });
}

let listener: net.Server | null = null;

// Close every client and the listening socket: on SIGTERM or Ctrl-C.
function shutdownServer(): void {
  running = false;
  for (const c of Server.clients.values()) freeClient(c, "server shutting down");
  listener?.close();
  log(`Ran ${Server.stats.commands} commands, ${Server.stats.writes} socket writes`);
}

async function main(): Promise<void> {
  parseOptions(process.argv.slice(2));
  const { host, port } = Server.config;
  listener = await listen(host, port);
  Server.config.port = listeningPort(listener);
  poller = new Poller<Client>(listener);
  addTimer(TICK_MS, serverCron);
  onShutdown(shutdownServer);
  const a = listener.address() as net.AddressInfo;
  log(`listening on ${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`);
  await eventLoop(poller);
}

void main();
