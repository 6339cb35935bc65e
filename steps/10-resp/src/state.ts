// state.ts -- what the server knows: its clients, its settings, its counters.
//
// Redis keeps one global `struct redisServer server` and one `client`
// struct per connection; every command reads and changes them. Here they
// are: the Client record and the Server object. They live in a file of
// their own because everyone needs them, the event loop (server.ts) and
// every command family (commands/*.ts), and neither side should import the
// other. Only server.ts creates and frees clients; a command that wants a
// client gone asks for it with closeAfterReply(), and the loop does it at
// a safe point, once its replies are out.

import type net from "node:net";
import { ReplyWriter, type RespParser } from "./resp.ts";

export interface Client {
  id: number;
  socket: net.Socket;
  parser: RespParser;
  out: ReplyWriter; // Replies waiting for the end of the iteration.
  // While set, the loop runs none of this client's pipelined commands: they
  // wait in its parser. Nothing sets it yet; step 19's BLPOP will.
  blocked: boolean;
  // Why the connection will be closed once its pending replies are out
  // (QUIT, a protocol error); null while it stays open.
  closeAfterReply: string | null;
  closing: boolean; // Set by closeAfterReply(): it runs no more commands.
  gone: boolean; // Freed: ignore any late event.
}

export interface Config {
  // The one address to listen on. Naive on purpose: only this machine
  // (127.0.0.1) by default, since anyone who reaches the port may run any
  // command. Step 11 fixes this.
  host: string;
  port: number;
  protoMaxBulkLen: number; // proto-max-bulk-len.
  queryBufferLimit: number; // client-query-buffer-limit.
}

export const Server = {
  config: {
    host: "127.0.0.1",
    port: 6379,
    protoMaxBulkLen: 512 * 1024 * 1024,
    queryBufferLimit: 1024 * 1024 * 1024,
  } as Config,
  clients: new Map<number, Client>(),
  nextId: 1,
  // Clients with replies to flush before the loop sleeps again (Redis's
  // clients_pending_write).
  pendingWrites: new Set<Client>(),
  // What the loop counts (Redis's names): the log prints some at exit,
  // step 12's INFO shows them all.
  stats: {
    connections: 0, // total_connections_received
    commands: 0, // total_commands_processed
    netInput: 0, // total_net_input_bytes
    netOutput: 0, // total_net_output_bytes
    reads: 0, // Chunks read from sockets.
    writes: 0, // Flushes: one socket write (or writev) each.
  },
};

export function createClientState(socket: net.Socket, parser: RespParser): Client {
  const c: Client = {
    id: Server.nextId++,
    socket,
    parser,
    out: new ReplyWriter(() => Server.pendingWrites.add(c)),
    blocked: false,
    closeAfterReply: null,
    closing: false,
    gone: false,
  };
  return c;
}

// Close `c` once the replies already queued for it are out (QUIT, a
// protocol error); it runs no more commands.
export function closeAfterReply(c: Client, reason: string): void {
  c.closeAfterReply ??= reason;
  c.closing = true;
}
