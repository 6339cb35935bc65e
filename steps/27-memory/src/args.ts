// args.ts -- reading a command's arguments: option words, integers, timeouts, the syntax error.
//
// Every family parses its options the way Redis does: a word matches in
// any case ("setname", "SETNAME", "SetName"), a number must be a signed
// 64-bit integer by Redis's rules (int64.ts), a blocking command's timeout
// is seconds as a float (BLPOP) or milliseconds as an integer (XREAD
// BLOCK), and an option that is not there is the one "syntax error". They
// live here once, so every family answers in the same words, and no family
// imports another to borrow a helper.

import { CommandError } from "./command.ts";
import { ERR_NOT_INTEGER, type LongDouble, parseInt64, parseLongDouble } from "./int64.ts";
import { Server } from "./state.ts";

export const SYNTAX_ERROR = "ERR syntax error";

// An option word, lowercased for comparison.
export function lower(b: Buffer): string {
  return b.toString("latin1").toLowerCase();
}

// An argument that must be an int64 (INCRBY's increment, SET's EX, EXPIRE's time).
export function int64Arg(b: Buffer): bigint {
  const n = parseInt64(b);
  if (n === null) throw new CommandError(ERR_NOT_INTEGER);
  return n;
}

// A 64-bit integer argument (an index, a count), as a JS number: beyond
// 2^53 it loses digits, but every such value is out of range of any list
// or stream and clamps the same way. Redis's getLongLongFromObjectOrReply():
// its text, or the command's own (XCLAIM's IDLE), when it is not one.
export function intArg(b: Buffer, message = ERR_NOT_INTEGER): number {
  const n = parseInt64(b);
  if (n === null) throw new CommandError(message);
  return Number(n);
}

// A blocking command's timeout: seconds as a float (0.1 is 100 ms), 0 for
// ever. Redis's getTimeoutFromObjectOrReply() computes ceil(seconds *
// 1000) in a long double and casts it to a 64-bit integer, so a timeout
// too big for that wraps negative ("1e400", "inf" are "negative"), and a
// tiny one rounds up to 1 ms. Returns the deadline: ms since the epoch, or
// 0 for none.
export function timeoutArg(b: Buffer): number {
  const v = parseLongDouble(b);
  if (v === null) throw new CommandError("ERR timeout is not a float or out of range");
  const ms = ceilMillis(v);
  if (ms < 0n || ms >= 2n ** 63n) throw new CommandError("ERR timeout is negative");
  return ms === 0n ? 0 : Server.commandTime + Number(ms);
}

// ceil(v * 1000) of a LongDouble, exactly; -1n for an infinity.
function ceilMillis(v: LongDouble): bigint {
  if (v.kind === "inf") return -1n;
  const x = v.sig * 1000n;
  let q: bigint;
  if (v.exp >= 0) q = x << BigInt(v.exp);
  else {
    const shift = BigInt(-v.exp);
    q = x >> shift;
    // The ceiling of a positive value rounds a remainder up; of a negative
    // one it truncates towards zero (-0.1 ms is 0: wait for ever).
    if (!v.negative && (x & ((1n << shift) - 1n)) !== 0n) q += 1n;
  }
  return v.negative ? -q : q;
}

// XREAD's BLOCK: milliseconds as an integer, 0 for ever. Returns the
// milliseconds, not a deadline.
export function blockMillisArg(b: Buffer): number {
  const t = parseInt64(b);
  if (t === null) throw new CommandError("ERR timeout is not an integer or out of range");
  if (t < 0n) throw new CommandError("ERR timeout is negative");
  return Number(t);
}
