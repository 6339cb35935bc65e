// commands/strings.ts -- the string commands: GET, SET and its options, MGET, MSET, APPEND.
//
// A string is Redis's simplest value: bytes under a key. Everything here
// has the same shape: find the key's value (db.get() throws WRONGTYPE if
// the key holds another type), compute, store, reply.
//
// One detail matters for correctness: a value stored from an argument is
// copied, because the parser hands out views into its read buffer, which
// the next read reuses.
//
// Naive on purpose: no counters. A client that counts with GET, then SET
// of the sum, races every other client doing the same between its two
// commands, and increments get lost. Step 16 fixes this.

import { lower, SYNTAX_ERROR } from "../args.ts";
import { CommandError, type CommandSpec } from "../command.ts";
import { keepArg } from "../resp.ts";
import { type Client, Server } from "../state.ts";

/* ---- GET and SET ---- */

function get(c: Client, argv: Buffer[]): void {
  const value = Server.db.get(argv[1]!, "string");
  if (value === undefined) c.out.null();
  else c.out.bulk(value);
}

// SET key value [NX|XX] [GET]. Options come in any order and may repeat,
// but NX excludes XX (Redis's parseExtendedStringArgumentsOrReply).
// Naive on purpose: no EX, PX, EXAT, PXAT or KEEPTTL, since keys cannot
// expire yet. Step 17 fixes this.
function set(c: Client, argv: Buffer[]): void {
  let nx = false;
  let xx = false;
  let wantOld = false;
  for (let j = 3; j < argv.length; j++) {
    const opt = lower(argv[j]!);
    if (opt === "nx" && !xx) nx = true;
    else if (opt === "xx" && !nx) xx = true;
    else if (opt === "get") wantOld = true;
    else throw new CommandError(SYNTAX_ERROR);
  }
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
  db.setString(key, keepArg(argv[2]!));
  if (wantOld) replyOld(c, old);
  else c.out.ok();
}

function replyOld(c: Client, old: Buffer | undefined): void {
  if (old === undefined) c.out.null();
  else c.out.bulk(old);
}

function setnx(c: Client, argv: Buffer[]): void {
  const db = Server.db;
  if (db.exists(argv[1]!)) {
    c.out.integer(0);
    return;
  }
  db.setString(argv[1]!, keepArg(argv[2]!));
  c.out.integer(1);
}

function getset(c: Client, argv: Buffer[]): void {
  const old = Server.db.get(argv[1]!, "string");
  Server.db.setString(argv[1]!, keepArg(argv[2]!));
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
    const v = Server.db.lookup(argv[j]!);
    if (v === undefined || v.type !== "string") c.out.null();
    else c.out.bulk(v.value);
  }
}

function mset(c: Client, argv: Buffer[]): void {
  if (argv.length % 2 === 0) {
    throw new CommandError("ERR wrong number of arguments for 'mset' command");
  }
  for (let j = 1; j < argv.length; j += 2) {
    Server.db.setString(argv[j]!, keepArg(argv[j + 1]!));
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
    db.setString(key, keepArg(tail));
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
  db.setString(key, next);
  c.out.integer(len);
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
    // Redis's, less the expiration options this step lacks (COMMAND DOCS,
    // and redis-cli's hints, show what the server accepts).
    syntax: "key:key value [condition=(NX|XX)@2.6.12] [GET@6.2.0]",
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
];
