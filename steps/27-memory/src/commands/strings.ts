// commands/strings.ts -- the string commands: GET, SET and its options, counters, APPEND.
//
// A string is Redis's simplest value: bytes under a key. Everything here
// has the same shape: find the key's value (db.get() throws WRONGTYPE if
// the key holds another type), compute, store, reply. Counters are strings
// too: INCR parses the bytes as a signed 64-bit integer, adds, and stores
// the digits back, exactly as Redis does (int64.ts has the arithmetic).
//
// Two details matter for correctness. A value stored from an argument is
// copied: the parser hands out views into its read buffer, which the next
// read reuses. And the commands that rewrite a value (INCR, APPEND) keep
// the key's expiry, while SET, GETSET and MSET drop it: a counter with a
// TTL stays a counter with a TTL.

import { int64Arg, lower, SYNTAX_ERROR } from "../args.ts";
import { CommandError, type CommandSpec } from "../command.ts";
import { storedString } from "../db.ts";
import {
  addInt64,
  ERR_DECR_OVERFLOW,
  ERR_NOT_INTEGER,
  ERR_OVERFLOW,
  INT64_MAX,
  INT64_MIN,
  incrByFloat,
  parseInt64,
} from "../int64.ts";
import { type Client, Server } from "../state.ts";

/* ---- GET and SET ---- */

function get(c: Client, argv: Buffer[]): void {
  const value = Server.db.stringForm(argv[1]!);
  if (value === undefined) c.out.null();
  else c.out.value(value);
}

type ExpireUnit = "ex" | "px" | "exat" | "pxat";

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL].
// Options come in any order; each may repeat, but NX excludes XX and one
// expiry option excludes the others and KEEPTTL (Redis's
// parseExtendedStringArgumentsOrReply: "EX 1 EX 2" is fine, the last wins).
function set(c: Client, argv: Buffer[]): void {
  let nx = false;
  let xx = false;
  let wantOld = false;
  let keepTtl = false;
  let unit: ExpireUnit | null = null;
  let expireArg: Buffer | null = null;
  for (let j = 3; j < argv.length; j++) {
    const opt = lower(argv[j]!);
    const hasNext = j + 1 < argv.length;
    if (opt === "nx" && !xx) nx = true;
    else if (opt === "xx" && !nx) xx = true;
    else if (opt === "get") wantOld = true;
    else if (opt === "keepttl" && unit === null) keepTtl = true;
    else if (
      (opt === "ex" || opt === "px" || opt === "exat" || opt === "pxat") &&
      !keepTtl &&
      (unit === null || unit === opt) &&
      hasNext
    ) {
      unit = opt;
      expireArg = argv[++j]!;
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  const expiresAt = unit === null ? undefined : setExpireTime(unit, expireArg!);
  const db = Server.db;
  const key = argv[1]!;
  // SET ... GET answers the old value, so the old value must be a string.
  const old = wantOld ? db.get(key, "string") : undefined;
  if (nx || xx) {
    const found = wantOld ? old !== undefined : db.exists(key);
    if ((nx && found) || (xx && !found)) {
      if (wantOld) replyOld(c, old);
      else c.out.null();
      return;
    }
  }
  db.setString(key, storedString(argv[2]!), { expiresAt, keepTtl });
  if (wantOld) replyOld(c, old);
  else c.out.ok();
}

function replyOld(c: Client, old: Buffer | undefined): void {
  if (old === undefined) c.out.null();
  else c.out.bulk(old);
}

// The absolute deadline SET's expiry option asks for, in ms, checked as
// Redis checks it: positive, and still an int64 once converted to ms and
// added to the clock (C would wrap past INT64_MAX and see a negative time).
function setExpireTime(unit: ExpireUnit, arg: Buffer): number {
  const n = int64Arg(arg);
  const seconds = unit === "ex" || unit === "exat";
  const invalid = new CommandError("ERR invalid expire time in 'set' command");
  if (n <= 0n || (seconds && n > INT64_MAX / 1000n)) throw invalid;
  let ms = seconds ? n * 1000n : n;
  if (unit === "ex" || unit === "px") ms += BigInt(Server.commandTime);
  if (ms > INT64_MAX) throw invalid;
  return Number(ms);
}

function setnx(c: Client, argv: Buffer[]): void {
  const db = Server.db;
  if (db.exists(argv[1]!)) {
    c.out.integer(0);
    return;
  }
  db.setString(argv[1]!, storedString(argv[2]!));
  c.out.integer(1);
}

function getset(c: Client, argv: Buffer[]): void {
  const old = Server.db.get(argv[1]!, "string");
  Server.db.setString(argv[1]!, storedString(argv[2]!));
  replyOld(c, old);
}

function getdel(c: Client, argv: Buffer[]): void {
  const old = Server.db.get(argv[1]!, "string");
  if (old !== undefined) Server.db.delete(argv[1]!);
  replyOld(c, old);
}

// MGET: a key that is missing or holds another type answers nil (no
// WRONGTYPE: one odd key should not spoil the whole batch).
function mget(c: Client, argv: Buffer[]): void {
  c.out.array(argv.length - 1);
  for (let j = 1; j < argv.length; j++) {
    const v = Server.db.stringForm(argv[j]!, true);
    if (v === undefined) c.out.null();
    else c.out.value(v);
  }
}

function mset(c: Client, argv: Buffer[]): void {
  if (argv.length % 2 === 0) {
    throw new CommandError("ERR wrong number of arguments for 'mset' command");
  }
  for (let j = 1; j < argv.length; j += 2) {
    Server.db.setString(argv[j]!, storedString(argv[j + 1]!));
  }
  c.out.ok();
}

function strlen(c: Client, argv: Buffer[]): void {
  c.out.integer(Server.db.get(argv[1]!, "string")?.length ?? 0);
}

/* ---- APPEND ----
 * Appending to a Buffer means allocating a bigger one and copying: done
 * naively, a loop of APPENDs costs O(n^2). Redis's sds strings keep spare
 * room after the bytes (doubling while under 1 MB, then 1 MB more each
 * time), so most appends copy only the new bytes. We do the same: a value
 * built by APPEND is a view on a larger ArrayBuffer, and the next APPEND
 * writes after the view's end, into room nobody else sees. Only APPEND
 * ever allocates these (the `grown` set), and each belongs to one key.
 * ---------------------------------------------------------------------- */

const GREEDY_LIMIT = 1024 * 1024;
const grown = new WeakSet<ArrayBufferLike>();

function append(c: Client, argv: Buffer[]): void {
  const db = Server.db;
  const key = argv[1]!;
  const tail = argv[2]!;
  const cur = db.get(key, "string");
  if (cur === undefined) {
    db.setString(key, storedString(tail));
    c.out.integer(tail.length);
    return;
  }
  const len = cur.length + tail.length;
  if (len > Server.config.protoMaxBulkLen) {
    throw new CommandError("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  }
  let next: Buffer;
  if (grown.has(cur.buffer) && cur.byteOffset + len <= cur.buffer.byteLength) {
    next = Buffer.from(cur.buffer, cur.byteOffset, len);
  } else {
    const room = new ArrayBuffer(len < GREEDY_LIMIT ? len * 2 : len + GREEDY_LIMIT);
    grown.add(room);
    next = Buffer.from(room, 0, len);
    cur.copy(next);
  }
  tail.copy(next, cur.length);
  db.setString(key, next, { keepTtl: true });
  c.out.integer(len);
}

/* ---- Counters ---- */

const SMALL = 2n ** 50n;
const MINUS_SMALL = -SMALL;
const KEEP_TTL = { keepTtl: true };

// The digits of a counter as a stored value: step 26 stores small strings
// as latin1 JS strings (db.ts), and the digits are ASCII, so String(n) is
// already the stored form. No Buffer is made per INCR.
const digits = (n: number | bigint) => String(n);

// The value as a number when it is a small integer by Redis's rules (at
// most 15 digits, no "+", no leading zero), else null: the common counter
// then costs no BigInt. Anything else goes the exact way, parseInt64.
// Read from the stored string; a value stored as a Buffer (a big one, or
// APPEND's) goes the exact way.
function smallInteger(s: string): number | null {
  const len = s.length;
  let i = s.charCodeAt(0) === 0x2d ? 1 : 0;
  if (len - i < 1 || len - i > 15) return null;
  if (s.charCodeAt(i) === 0x30) return len === 1 ? 0 : null;
  let n = 0;
  for (; i < len; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return s.charCodeAt(0) === 0x2d ? -n : n;
}

// Add `by` to the integer at key (0 if missing) and reply the sum.
function incrDecr(c: Client, key: Buffer, by: bigint): void {
  const db = Server.db;
  const stored = db.stringForm(key);
  const small = stored === undefined ? 0 : typeof stored === "string" ? smallInteger(stored) : null;
  if (small !== null && by >= MINUS_SMALL && by <= SMALL) {
    const sum = small + Number(by); // Both under 2^50: exact.
    db.setString(key, digits(sum), KEEP_TTL);
    c.out.integer(sum);
    return;
  }
  let value = 0n;
  const cur = typeof stored === "string" ? Buffer.from(stored, "latin1") : stored;
  if (cur !== undefined) {
    const n = parseInt64(cur);
    if (n === null) throw new CommandError(ERR_NOT_INTEGER);
    value = n;
  }
  const sum = addInt64(value, by);
  if (sum === null) throw new CommandError(ERR_OVERFLOW);
  db.setString(key, digits(sum), KEEP_TTL);
  c.out.integer(sum);
}

function incrby(c: Client, argv: Buffer[]): void {
  incrDecr(c, argv[1]!, int64Arg(argv[2]!));
}

// DECRBY negates its argument, and -INT64_MIN is no int64.
function decrby(c: Client, argv: Buffer[]): void {
  const by = int64Arg(argv[2]!);
  if (by === INT64_MIN) throw new CommandError(ERR_DECR_OVERFLOW);
  incrDecr(c, argv[1]!, -by);
}

// The reply is a bulk string even in RESP3: the digits are the value
// stored, not a double.
function incrbyfloat(c: Client, argv: Buffer[]): void {
  const db = Server.db;
  const result = incrByFloat(db.get(argv[1]!, "string"), argv[2]!);
  if (typeof result === "string") throw new CommandError(result);
  db.setString(argv[1]!, result, { keepTtl: true });
  c.out.bulk(result);
}

/* ---- The table ---- */

const G = "string";
const ONE_KEY: [number, number, number] = [1, 1, 1];

export const stringCommands: CommandSpec[] = [
  {
    name: "get",
    arity: 2,
    flags: ["readonly", "fast"],
    handler: get,
    keys: ONE_KEY,
    group: G,
    summary: "Get the value of a key",
    since: "1.0.0",
    complexity: "O(1)",
    syntax: "key:key",
  },
  {
    name: "set",
    arity: -3,
    flags: ["write", "denyoom"],
    handler: set,
    keys: ONE_KEY,
    group: G,
    summary: "Set the string value of a key",
    since: "1.0.0",
    complexity: "O(1)",
    syntax:
      "key:key value [condition=(NX|XX)@2.6.12] [GET@6.2.0] [expiration=(EX seconds:integer@2.6.12|PX milliseconds:integer@2.6.12|EXAT unix-time-seconds:unix-time@6.2.0|PXAT unix-time-milliseconds:unix-time@6.2.0|KEEPTTL@6.0.0)]",
    history: [
      ["2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."],
      ["6.0.0", "Added the `KEEPTTL` option."],
      ["6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."],
      ["7.0.0", "Allowed the `NX` and `GET` options to be used together."],
    ],
  },
  {
    name: "setnx",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    handler: setnx,
    keys: ONE_KEY,
    group: G,
    summary: "Set the value of a key, only if the key does not exist",
    since: "1.0.0",
    complexity: "O(1)",
    syntax: "key:key value",
  },
  {
    name: "getset",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    handler: getset,
    keys: ONE_KEY,
    group: G,
    summary: "Set the string value of a key and return its old value",
    since: "1.0.0",
    complexity: "O(1)",
    syntax: "key:key value",
    docFlags: ["deprecated"],
    deprecatedSince: "6.2.0",
    replacedBy: "`SET` with the `!GET` argument",
  },
  {
    name: "getdel",
    arity: 2,
    flags: ["write", "fast"],
    handler: getdel,
    keys: ONE_KEY,
    group: G,
    summary: "Get the value of a key and delete the key",
    since: "6.2.0",
    complexity: "O(1)",
    syntax: "key:key",
  },
  {
    name: "mget",
    arity: -2,
    flags: ["readonly", "fast"],
    handler: mget,
    keys: [1, -1, 1],
    group: G,
    summary: "Get the values of all the given keys",
    since: "1.0.0",
    tips: ["request_policy:multi_shard"],
    complexity: "O(N) where N is the number of keys to retrieve.",
    syntax: "key:key...",
  },
  {
    name: "mset",
    arity: -3,
    flags: ["write", "denyoom"],
    handler: mset,
    keys: [1, -1, 2],
    group: G,
    summary: "Set multiple keys to multiple values",
    since: "1.0.1",
    tips: ["request_policy:multi_shard", "response_policy:all_succeeded"],
    complexity: "O(N) where N is the number of keys to set.",
    syntax: "key_value=(key:key value)...",
  },
  {
    name: "append",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    handler: append,
    keys: ONE_KEY,
    group: G,
    summary: "Append a value to a key",
    since: "2.0.0",
    complexity:
      "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
    syntax: "key:key value",
  },
  {
    name: "strlen",
    arity: 2,
    flags: ["readonly", "fast"],
    handler: strlen,
    keys: ONE_KEY,
    group: G,
    summary: "Get the length of the value stored in a key",
    since: "2.2.0",
    complexity: "O(1)",
    syntax: "key:key",
  },
  {
    name: "incr",
    arity: 2,
    flags: ["write", "denyoom", "fast"],
    handler: (c, argv) => incrDecr(c, argv[1]!, 1n),
    keys: ONE_KEY,
    group: G,
    summary: "Increment the integer value of a key by one",
    since: "1.0.0",
    complexity: "O(1)",
    syntax: "key:key",
  },
  {
    name: "decr",
    arity: 2,
    flags: ["write", "denyoom", "fast"],
    handler: (c, argv) => incrDecr(c, argv[1]!, -1n),
    keys: ONE_KEY,
    group: G,
    summary: "Decrement the integer value of a key by one",
    since: "1.0.0",
    complexity: "O(1)",
    syntax: "key:key",
  },
  {
    name: "incrby",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    handler: incrby,
    keys: ONE_KEY,
    group: G,
    summary: "Increment the integer value of a key by the given amount",
    since: "1.0.0",
    complexity: "O(1)",
    syntax: "key:key increment:integer",
  },
  {
    name: "decrby",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    handler: decrby,
    keys: ONE_KEY,
    group: G,
    summary: "Decrement the integer value of a key by the given number",
    since: "1.0.0",
    complexity: "O(1)",
    syntax: "key:key decrement:integer",
  },
  {
    name: "incrbyfloat",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    handler: incrbyfloat,
    keys: ONE_KEY,
    group: G,
    summary: "Increment the float value of a key by the given amount",
    since: "2.6.0",
    complexity: "O(1)",
    syntax: "key:key increment:double",
  },
];
