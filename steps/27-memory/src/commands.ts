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
// is handed to it here (COMMAND, in commands/server.ts, lists the table;
// EXEC, in multi.ts, runs its queue through call()).

import { log } from "@smallchat/shared/chatlib";
import { aofCommands, beginCommand, endCommand } from "./aof.ts";
import { type Command, CommandError, type CommandSpec, shown } from "./command.ts";
import { connectionCommands } from "./commands/connection.ts";
import { keyCommands } from "./commands/keys.ts";
import { listCommands } from "./commands/lists.ts";
import { pubsubCommands } from "./commands/pubsub.ts";
import { serverCommands, setCommandTable } from "./commands/server.ts";
import { streamCommands } from "./commands/streams.ts";
import { stringCommands } from "./commands/strings.ts";
import { WrongTypeError } from "./db.ts";
import { queueCommand, rejectInTransaction, setCall, transactionCommands } from "./multi.ts";
import { errorReplies } from "./resp.ts";
import { type Client, Server } from "./state.ts";

// The families. A new step adds one line here.
const FAMILIES: CommandSpec[][] = [
  connectionCommands,
  serverCommands,
  pubsubCommands,
  stringCommands,
  keyCommands,
  listCommands,
  streamCommands,
  transactionCommands,
  aofCommands,
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
setCall(call);

// Every spelling of a command name seen so far ("GET", "get", "Get") ->
// its entry, so that a lookup is one Map.get of the name as sent, without
// lowercasing it first. Only real commands are cached, and at most
// CACHE_MAX spellings, so garbage names cannot grow it.
const spellings = new Map<string, Command>();
const CACHE_MAX = 4096;

// The last name found in the command table, as sent, and its command. A
// client usually sends the same command again and again (16 INCRs in one
// redis-benchmark -P 16 packet): comparing a few bytes then finds it
// without first turning the name into a string, which costs a call into
// C++ and an allocation per request.
let lastName = Buffer.alloc(0);
let lastCommand: Command | undefined;

function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function findByName(table: Map<string, Command>, name: Buffer): Command | undefined {
  if (table === commandTable && lastCommand !== undefined && sameBytes(name, lastName)) {
    return lastCommand;
  }
  const cmd = findSpelling(table, name);
  if (cmd !== undefined && table === commandTable) {
    lastName = Buffer.from(name); // A copy: `name` is a view of a read buffer.
    lastCommand = cmd;
  }
  return cmd;
}

function findSpelling(table: Map<string, Command>, name: Buffer): Command | undefined {
  const sent = name.toString("latin1");
  const hit = table === commandTable ? spellings.get(sent) : undefined;
  if (hit !== undefined) return hit;
  const cmd = table.get(sent.toLowerCase());
  if (cmd !== undefined && table === commandTable && spellings.size < CACHE_MAX) {
    spellings.set(sent, cmd);
  }
  return cmd;
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
  if (queueCommand(c, cmd, argv)) return; // Inside MULTI: run by EXEC (multi.ts).
  Server.commandTime = Date.now();
  call(c, cmd, argv);
  afterCommand(c, cmd);
}

// Refuse a command. Inside MULTI that dooms the transaction; a refused
// EXEC ends it (multi.ts).
function rejectCommand(c: Client, cmd: Command | null, message: string): void {
  if (cmd !== null) cmd.rejectedCalls++;
  if (!rejectInTransaction(c, cmd, message)) c.out.error(message);
}

// Invoke a handler and turn its CommandError into the error reply. Counts
// the call for INFO: its time in microseconds, and whether it answered an
// error (the reply writers' error count went up).
export function call(c: Client, cmd: Command, argv: Buffer[]): void {
  c.lastCommand = cmd.fullname;
  Server.db = Server.dbs[c.db]!;
  const errorsBefore = errorReplies.total;
  const start = performance.now();
  const mark = beginCommand(); // What it changes is logged (aof.ts).
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
  } finally {
    endCommand(c, argv, mark);
  }
  cmd.usec += Math.round((performance.now() - start) * 1000);
  if (errorReplies.total > errorsBefore) cmd.failedCalls++;
  if (c.blocked)
    c.blockedCall = cmd; // Counted once it is served or times out.
  else {
    cmd.calls++;
    Server.stats.commands++;
  }
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

// The hook point after every command. Step 19 serves the clients blocked
// on keys this command made ready (BLPOP, blocking.ts). EXEC runs its queue
// through call(), not through here, so this runs once after the whole
// EXEC: nobody is served in the middle of a transaction.
function afterCommand(_c: Client, _cmd: Command): void {
  Server.blocking.handleClientsBlockedOnKeys();
}
