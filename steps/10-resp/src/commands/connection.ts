// commands/connection.ts -- the commands about the connection itself.
//
// PING, ECHO and QUIT: enough to see the whole path, from bytes in to a
// parsed request, through the table, to a reply out, and to close a
// connection politely. Step 11 adds what client libraries send before
// anything else (HELLO, AUTH, SELECT, CLIENT), which decides whether they
// connect at all.

import { arityError, type CommandSpec } from "../command.ts";
import { type Client, closeAfterReply } from "../state.ts";

const PONG = Buffer.from("+PONG\r\n");

// PING [message]: +PONG, or the message back.
function ping(c: Client, argv: Buffer[]): void {
  if (argv.length > 2) throw arityError("ping");
  if (argv.length === 1) {
    c.out.raw(PONG);
  } else {
    c.out.bulk(argv[1]!);
  }
}

function echo(c: Client, argv: Buffer[]): void {
  c.out.bulk(argv[1]!);
}

// QUIT: say OK, then close once that reply is out.
function quit(c: Client): void {
  c.out.ok();
  closeAfterReply(c, "QUIT");
}

export const connectionCommands: CommandSpec[] = [
  {
    name: "ping",
    arity: -1,
    flags: ["fast", "sentinel"],
    handler: ping,
  },
  {
    name: "echo",
    arity: 2,
    flags: ["loading", "stale", "fast"],
    handler: echo,
  },
  {
    name: "quit",
    arity: -1,
    flags: ["allow_busy", "no_auth", "fast", "noscript", "loading", "stale"],
    handler: quit,
  },
];
