// commands.ts -- the command table: from a parsed request to a handler.
//
// A command is a row: its name, its arity, a few flags and the function
// that runs it. Arity is Redis's convention: 2 means exactly two words
// (name included, so GET key), -2 means at least two. Checking it here, in
// one place, gives every command the same error text for free, and the
// handlers can index argv without counting. A command with subcommands
// (CLIENT, CONFIG, COMMAND, PUBSUB) has a table of its own, whose rows are
// named "client|setname" as Redis names them in its errors.
//
// Names are looked up case-insensitively: "get", "GET" and "gEt" are one
// command. Arguments stay Buffers, bytes as the client sent them.
//
// Each family of commands lives in commands/<family>.ts and exports its
// rows; registering a family is one line in FAMILIES below. A handler
// answers through c.out (resp.ts) and reports a command error by throwing
// CommandError with Redis's exact text: the connection stays open. What a
// row is, and CommandError, live in command.ts: the families import that,
// never this file, which imports them. What a family needs from the table
// is handed to it here (COMMAND, in commands/server.ts, lists the table).

import { log } from "@smallchat/shared/chatlib";
import { type Command, CommandError, type CommandSpec, shown } from "./command.ts";
import { connectionCommands } from "./commands/connection.ts";
import { keyCommands } from "./commands/keys.ts";
import { pubsubCommands } from "./commands/pubsub.ts";
import { serverCommands, setCommandTable } from "./commands/server.ts";
import { stringCommands } from "./commands/strings.ts";
import { WrongTypeError } from "./db.ts";
import { errorReplies } from "./resp.ts";
import { type Client, Server } from "./state.ts";

// The families. A new step adds one line here.
const FAMILIES: CommandSpec[][] = [
  connectionCommands,
  serverCommands,
  pubsubCommands,
  stringCommands,
  keyCommands,
];

function build(spec: CommandSpec, parent: string | null): Command {
  const fullname = parent === null ? spec.name : `${parent}|${spec.name}`;
  const sub =
    spec.subcommands === undefined
      ? null
      : new Map(spec.subcommands.map((s) => [s.name, build(s, spec.name)]));
  return { ...spec, fullname, sub, calls: 0, usec: 0, rejectedCalls: 0, failedCalls: 0 };
}

export const commandTable = new Map<string, Command>();
for (const family of FAMILIES) {
  for (const spec of family) commandTable.set(spec.name, build(spec, null));
}
setCommandTable(commandTable);

// The row for a name as sent. The table's names are lowercase, so "GET",
// "get" and "gEt" all find "get"; latin1 makes one character of each byte.
function findByName(table: Map<string, Command>, name: Buffer): Command | undefined {
  return table.get(name.toString("latin1").toLowerCase());
}

// Redis's lookupCommand(): the command, or the subcommand when the command
// has subcommands and a second word was given. null: no such thing.
export function lookupCommand(argv: Buffer[]): Command | null {
  const base = findByName(commandTable, argv[0]!);
  if (base === undefined) return null;
  if (base.sub === null || argv.length === 1) return base;
  return findByName(base.sub, argv[1]!) ?? null;
}

function unknownCommandError(argv: Buffer[]): string {
  const base = findByName(commandTable, argv[0]!);
  if (base?.sub != null) {
    return `ERR unknown subcommand '${shown(argv[1]!)}'. Try ${argv[0]!.toString("latin1").toUpperCase()} HELP.`;
  }
  let args = "";
  for (let i = 1; i < argv.length && args.length < 128; i++) {
    args += `'${shown(argv[i]!, 128 - args.length)}' `;
  }
  return `ERR unknown command '${shown(argv[0]!)}', with args beginning with: ${args}`;
}

// Run one command for `c`: look it up, check it may run, call it, then
// let the hooks of later steps see what happened. Redis's processCommand()
// and call().
export function processCommand(c: Client, argv: Buffer[]): void {
  const cmd = lookupCommand(argv);
  if (cmd === null) {
    rejectCommand(c, null, unknownCommandError(argv));
    return;
  }
  if ((cmd.arity > 0 && cmd.arity !== argv.length) || argv.length < -cmd.arity) {
    rejectCommand(c, cmd, `ERR wrong number of arguments for '${cmd.fullname}' command`);
    return;
  }
  if (!c.authenticated && !cmd.flags.includes("no_auth")) {
    rejectCommand(c, cmd, "NOAUTH Authentication required.");
    return;
  }
  if (c.pubsub && c.out.proto === 2 && !cmd.pubsubContext) {
    rejectCommand(
      c,
      cmd,
      `ERR Can't execute '${cmd.fullname}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
    );
    return;
  }
  Server.commandTime = Date.now();
  call(c, cmd, argv);
  afterCommand(c, cmd);
}

function rejectCommand(c: Client, cmd: Command | null, message: string): void {
  if (cmd !== null) cmd.rejectedCalls++;
  c.out.error(message);
}

// Invoke a handler and turn its CommandError into the error reply. Counts
// the call for INFO: its time in microseconds, and whether it answered an
// error (the reply writers' error count went up).
export function call(c: Client, cmd: Command, argv: Buffer[]): void {
  c.lastCommand = cmd.fullname;
  Server.db = Server.dbs[c.db]!;
  const errorsBefore = errorReplies.total;
  const start = performance.now();
  try {
    cmd.handler!(c, argv);
  } catch (err) {
    if (err instanceof CommandError || err instanceof WrongTypeError) {
      c.out.error(err.message);
    } else {
      // A bug in a handler must not take the server down with it: that
      // client gets an error, the log gets the stack, everyone else goes on.
      log(`client ${c.id}: ${cmd.fullname} failed: ${(err as Error).stack ?? String(err)}`);
      c.out.error(`ERR internal error in '${cmd.fullname}'`);
    }
  }
  cmd.usec += Math.round((performance.now() - start) * 1000);
  cmd.calls++;
  Server.stats.commands++;
  if (errorReplies.total > errorsBefore) cmd.failedCalls++;
  // Admin commands are not shown to monitors (they may carry secrets).
  if (Server.monitors.size > 0 && !cmd.flags.includes("admin")) feedMonitors(c, cmd, argv);
}

/* ============================ MONITOR ===================================== */

// An argument as Redis's sdscatrepr() quotes it: printable ASCII as is,
// the usual escapes, every other byte as \xHH.
function quoted(b: Buffer): string {
  let s = '"';
  for (const byte of b) {
    if (byte === 0x5c || byte === 0x22) s += `\\${String.fromCharCode(byte)}`;
    else if (byte === 0x0a) s += "\\n";
    else if (byte === 0x0d) s += "\\r";
    else if (byte === 0x09) s += "\\t";
    else if (byte === 0x07) s += "\\a";
    else if (byte === 0x08) s += "\\b";
    else if (byte >= 0x20 && byte <= 0x7e) s += String.fromCharCode(byte);
    else s += `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return `${s}"`;
}

const REDACTED = Buffer.from("(redacted)");

// Tell every monitor what `c` just ran: `+<time> [<db> <addr>] "arg" ...`.
// Passwords are replaced, as Redis's redactClientCommandArgument() does.
function feedMonitors(c: Client, cmd: Command, argv: Buffer[]): void {
  const shownArgs = argv.slice();
  if (cmd.name === "auth") shownArgs.fill(REDACTED, 1);
  if (cmd.name === "hello") {
    for (let j = 2; j + 2 < shownArgs.length; j++) {
      if (shownArgs[j]!.toString("latin1").toLowerCase() === "auth") {
        shownArgs[j + 1] = REDACTED;
        shownArgs[j + 2] = REDACTED;
        j += 2;
      }
    }
  }
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const when = `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, "0")}`;
  const line = `+${when} [${c.db} ${c.addr}] ${shownArgs.map(quoted).join(" ")}\r\n`;
  const frame = Buffer.from(line, "latin1");
  for (const m of Server.monitors) if (!m.closing) m.out.raw(frame);
}

// The hook point after every command. Nothing to do in this step. Step 19
// serves the clients blocked on keys this command made ready (BLPOP), step
// 24 ends a MULTI's queueing or touches WATCHed keys: each adds its call
// here.
function afterCommand(_c: Client, _cmd: Command): void {}
