// command.ts -- what a command is: its row in the table, its handler, its errors.
//
// Every family (commands/<family>.ts) imports this file and nothing that
// knows the other families: the table that knows every command,
// commands.ts, imports the families, never the reverse. So the modules
// load in one order, leaves first, and a family may build a CommandError
// at its top level. (Were commands.ts imported from a family, one of the
// two would run before the other is initialised, and the family would die
// at startup with "Cannot access 'CommandError' before initialization".)

import type { Client } from "./state.ts";

export type Handler = (c: Client, argv: Buffer[]) => void;

// Flags are Redis's names (COMMAND INFO shows them).
export type Flag =
  | "write"
  | "readonly"
  | "denyoom"
  | "admin"
  | "pubsub"
  | "noscript"
  | "loading"
  | "stale"
  | "fast"
  | "no_auth"
  | "no_multi"
  | "allow_busy"
  | "skip_slowlog"
  | "sentinel"
  | "blocking"
  | "movablekeys"; // Its keys are found by parsing it (XREAD ... STREAMS k1 k2).

export interface CommandSpec {
  name: string; // Lowercase, as Redis prints it.
  arity: number;
  flags: Flag[];
  handler?: Handler; // A container (CLIENT) has subcommands instead.
  subcommands?: CommandSpec[];
  // Key positions for COMMAND INFO: first, last, step (0 0 0: no keys).
  keys?: [number, number, number];
  // For COMMAND DOCS and redis-cli's help and hints: Redis 7.0's texts.
  group: string;
  summary: string;
  since: string;
  complexity?: string;
  tips?: string[]; // For COMMAND INFO: "nondeterministic_output", "request_policy:...".
  syntax?: string; // The arguments, as a usage line (command-docs.ts).
  history?: [string, string][]; // [version, what changed].
  docFlags?: string[]; // "deprecated", "syscmd".
  deprecatedSince?: string;
  replacedBy?: string;
  // Allowed while subscribed on a RESP2 connection.
  pubsubContext?: boolean;
  // ACL categories the flags and the group do not imply (COMMAND INFO
  // derives the rest, see aclCategories() in commands/server.ts).
  acl?: string[];
}

// What INFO commandstats shows for each command (Redis's calls,
// microseconds, rejected_calls, failed_calls).
export interface CommandStats {
  calls: number;
  usec: number;
  rejectedCalls: number; // Refused before running: arity, context.
  failedCalls: number; // Ran and answered an error.
}

export interface Command extends CommandSpec, CommandStats {
  fullname: string; // "client|setname" for a subcommand.
  sub: Map<string, Command> | null;
}

// A command error: `message` is the whole error line, code first
// ("ERR ...", "WRONGTYPE ..."). The dispatcher sends it; the client stays.
export class CommandError extends Error {}

// printf("%.128s") of user bytes in an error line: at most `max` bytes,
// and a NUL ends a C string.
export function shown(b: Buffer, max = 128): string {
  const nul = b.indexOf(0);
  return b.subarray(0, Math.min(max, nul === -1 ? b.length : nul)).toString("latin1");
}

export function arityError(name: string): CommandError {
  return new CommandError(`ERR wrong number of arguments for '${name}' command`);
}

// Redis's addReplySubcommandSyntaxError(): a subcommand called the wrong
// way where the table alone cannot tell (PUBSUB CHANNELS a b).
export function subcommandSyntaxError(argv: Buffer[]): CommandError {
  return new CommandError(
    `ERR unknown subcommand or wrong number of arguments for '${shown(argv[1]!)}'. Try ${argv[0]!.toString("latin1").toUpperCase()} HELP.`,
  );
}

// Redis's addReplyHelp(): what CLIENT HELP, PUBSUB HELP... answer, one
// simple string per line, between a usage line and HELP's own entry.
export function replyHelp(c: Client, argv: Buffer[], lines: string[]): void {
  const name = argv[0]!.toString("latin1").toUpperCase();
  c.out.array(lines.length + 3);
  c.out.simple(`${name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const line of lines) c.out.simple(line);
  c.out.simple("HELP");
  c.out.simple("    Prints this help.");
}
