// args.ts -- reading a command's arguments: option words, integers, the syntax error.
//
// Every family parses its options the way Redis does: a word matches in
// any case ("setname", "SETNAME", "SetName"), a number must be a signed
// 64-bit integer by Redis's rules (int64.ts), and an option that is not
// there is the one "syntax error". They live here once, so every family
// answers in the same words, and no family imports another to borrow a
// helper.

import { CommandError } from "./command.ts";
import { ERR_NOT_INTEGER, parseInt64 } from "./int64.ts";

export const SYNTAX_ERROR = "ERR syntax error";

// An option word, lowercased for comparison.
export function lower(b: Buffer): string {
  return b.toString("latin1").toLowerCase();
}

// An argument that must be an int64 (INCRBY's increment, DECRBY's decrement).
export function int64Arg(b: Buffer): bigint {
  const n = parseInt64(b);
  if (n === null) throw new CommandError(ERR_NOT_INTEGER);
  return n;
}
