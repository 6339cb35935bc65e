// commands/keys.ts -- the commands on keys of any type: DEL, EXISTS, TYPE, expiry, KEYS, SCAN, RENAME.
//
// These never look inside a value, so they work the same on strings now
// and on the lists and streams of later steps. Most are one call into the
// keyspace (db.ts); what lives here is Redis's argument checking, to the
// letter: the EXPIRE conditions NX/XX/GT/LT, the overflow checks of times
// converted to milliseconds, SCAN's cursor and options. Pattern matching
// is step 12's glob.ts, on the key's bytes.

import { int64Arg, lower, SYNTAX_ERROR } from "../args.ts";
import { CommandError, type CommandSpec } from "../command.ts";
import { fromKey, type Key, type TypeName } from "../db.ts";
import { globMatch } from "../glob.ts";
import { INT64_MAX, INT64_MIN } from "../int64.ts";
import { parseInteger } from "../resp.ts";
import { type Client, Server } from "../state.ts";

// C prints an argument with %s: it ends at the first NUL byte.
function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString("latin1", 0, nul === -1 ? b.length : nul);
}

/* ---- Existence and type ---- */

// DEL and UNLINK: how many of the keys existed. (UNLINK frees big values
// in a background thread in Redis; ours are freed by the GC either way.)
function del(c: Client, argv: Buffer[]): void {
  let n = 0;
  for (let j = 1; j < argv.length; j++) if (Server.db.delete(argv[j]!)) n++;
  c.out.integer(n);
}

// EXISTS counts a key named twice twice, as Redis does.
function exists(c: Client, argv: Buffer[]): void {
  let n = 0;
  for (let j = 1; j < argv.length; j++) if (Server.db.exists(argv[j]!)) n++;
  c.out.integer(n);
}

function type(c: Client, argv: Buffer[]): void {
  c.out.simple(Server.db.type(argv[1]!));
}

function rename(c: Client, argv: Buffer[]): void {
  if (!Server.db.rename(argv[1]!, argv[2]!)) throw new CommandError("ERR no such key");
  c.out.ok();
}

/* ---- Expiry ---- */

interface ExpireCommand {
  name: string;
  seconds: boolean; // EXPIRE and EXPIREAT take seconds.
  relative: boolean; // EXPIRE and PEXPIRE count from now.
}

// EXPIRE key time [NX|XX|GT|LT], and its three siblings. The options are
// checked first, then the number; a time that overflows an int64 once in
// ms is an error, a time in the past deletes the key (and answers 1). GT
// counts a key without expiry as expiring never, so GT never adds one.
function expire(cmd: ExpireCommand) {
  return (c: Client, argv: Buffer[]): void => {
    let nx = false;
    let xx = false;
    let gt = false;
    let lt = false;
    for (let j = 3; j < argv.length; j++) {
      const opt = lower(argv[j]!);
      if (opt === "nx") nx = true;
      else if (opt === "xx") xx = true;
      else if (opt === "gt") gt = true;
      else if (opt === "lt") lt = true;
      else throw new CommandError(`ERR Unsupported option ${cString(argv[j]!)}`);
    }
    if (nx && (xx || gt || lt)) {
      throw new CommandError("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if (gt && lt) {
      throw new CommandError("ERR GT and LT options at the same time are not compatible");
    }
    let when = int64Arg(argv[2]!);
    const invalid = new CommandError(`ERR invalid expire time in '${cmd.name}' command`);
    if (cmd.seconds) {
      if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) throw invalid;
      when *= 1000n;
    }
    const base = cmd.relative ? BigInt(Server.commandTime) : 0n;
    if (when > INT64_MAX - base) throw invalid;
    when += base;
    const db = Server.db;
    const key = argv[1]!;
    if (!db.exists(key)) {
      c.out.integer(0);
      return;
    }
    const at = Number(when);
    if (nx || xx || gt || lt) {
      const current = db.expireTime(key); // -1: no expiry.
      if (
        (nx && current !== -1) ||
        (xx && current === -1) ||
        (gt && (current === -1 || at <= current)) ||
        (lt && current !== -1 && at >= current)
      ) {
        c.out.integer(0);
        return;
      }
    }
    db.setExpire(key, at);
    c.out.integer(1);
  };
}

function ttl(c: Client, argv: Buffer[]): void {
  c.out.integer(Server.db.ttl(argv[1]!));
}

function pttl(c: Client, argv: Buffer[]): void {
  c.out.integer(Server.db.pttl(argv[1]!));
}

function persist(c: Client, argv: Buffer[]): void {
  c.out.integer(Server.db.persist(argv[1]!) ? 1 : 0);
}

/* ---- Listing keys ---- */

// A matcher over stored keys for a glob pattern; "*" matches without work.
function matcher(pattern: Buffer): ((key: Key) => boolean) | undefined {
  if (pattern.length === 1 && pattern[0] === 0x2a) return undefined;
  return (key) => globMatch(pattern, fromKey(key));
}

// KEYS pattern: every key at once. O(keys), and the server does nothing
// else meanwhile: SCAN is the polite way.
function keys(c: Client, argv: Buffer[]): void {
  const found = Server.db.keys(matcher(argv[1]!));
  c.out.array(found.length);
  for (const k of found) c.out.bulk(k);
}

// A cursor as Redis's strtoul() reads it: decimal digits, an optional sign
// (a negative number wraps around), nothing after; an empty cursor is 0.
function parseCursor(b: Buffer): number {
  const text = cString(b);
  if (!/^[+-]?\d*$/.test(text) || (text.length > 0 && !/\d/.test(text))) {
    throw new CommandError("ERR invalid cursor");
  }
  const n = BigInt(text === "" || text === "+" || text === "-" ? "0" : text);
  if (n > 2n ** 64n - 1n || n < -(2n ** 64n - 1n)) throw new CommandError("ERR invalid cursor");
  // Past every birth number: the iteration is over.
  return n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. The cursor means
// something only to us (db.ts explains what); COUNT is a hint of how much
// work to do, not of how many keys to return.
function scan(c: Client, argv: Buffer[]): void {
  const cursor = parseCursor(argv[1]!);
  let count = 10;
  let match: ((key: Key) => boolean) | undefined;
  let typeName: string | null = null;
  for (let i = 2; i < argv.length; i += 2) {
    const opt = lower(argv[i]!);
    const hasValue = i + 1 < argv.length;
    if (opt === "count" && hasValue) {
      const n = int64Arg(argv[i + 1]!);
      if (n < 1n) throw new CommandError(SYNTAX_ERROR);
      count = n > 1_000_000_000n ? 1_000_000_000 : Number(n);
    } else if (opt === "match" && hasValue) {
      match = matcher(argv[i + 1]!);
    } else if (opt === "type" && hasValue) {
      typeName = lower(argv[i + 1]!);
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  const filter =
    match === undefined && typeName === null
      ? undefined
      : (key: Key, t: TypeName) =>
          (typeName === null || typeName === t) && (match === undefined || match(key));
  const [next, found] = Server.db.scan(cursor, count, filter);
  c.out.array(2);
  c.out.bulk(String(next));
  c.out.array(found.length);
  for (const k of found) c.out.bulk(k);
}

/* ---- The table ---- */

// SWAPDB index1 index2: the two databases trade their keys; clients keep
// their SELECTed numbers, so they see the other keys at once.
function swapdb(c: Client, argv: Buffer[]): void {
  const index = (arg: Buffer, which: string): number => {
    const n = parseInteger(arg, 0, arg.length);
    if (n === null || n < -2147483648 || n > 2147483647) {
      throw new CommandError(`ERR invalid ${which} DB index`);
    }
    if (n < 0 || n >= Server.dbs.length) throw new CommandError("ERR DB index is out of range");
    return n;
  };
  const a = index(argv[1]!, "first");
  const b = index(argv[2]!, "second");
  if (a !== b) Server.dbs[a]!.swapWith(Server.dbs[b]!);
  c.out.ok();
}

const G = "generic";
const ONE_KEY: [number, number, number] = [1, 1, 1];
const ALL_KEYS: [number, number, number] = [1, -1, 1];

function expireSpec(
  name: string,
  seconds: boolean,
  relative: boolean,
  summary: string,
  since: string,
  time: string, // The time argument, as COMMAND DOCS names it.
): CommandSpec {
  return {
    name,
    arity: -3,
    flags: ["write", "fast"],
    handler: expire({ name, seconds, relative }),
    keys: ONE_KEY,
    group: G,
    summary,
    since,
    complexity: "O(1)",
    syntax: `key:key ${time} [condition=(NX|XX|GT|LT)@7.0.0]`,
    history: [["7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."]],
  };
}

export const keyCommands: CommandSpec[] = [
  {
    name: "del",
    arity: -2,
    flags: ["write"],
    handler: del,
    keys: ALL_KEYS,
    group: G,
    summary: "Delete a key",
    since: "1.0.0",
    tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
    complexity:
      "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
    syntax: "key:key...",
  },
  {
    name: "unlink",
    arity: -2,
    flags: ["write", "fast"],
    handler: del,
    keys: ALL_KEYS,
    group: G,
    summary:
      "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
    since: "4.0.0",
    tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
    complexity:
      "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
    syntax: "key:key...",
  },
  {
    name: "exists",
    arity: -2,
    flags: ["readonly", "fast"],
    handler: exists,
    keys: ALL_KEYS,
    group: G,
    summary: "Determine if a key exists",
    since: "1.0.0",
    tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
    complexity: "O(N) where N is the number of keys to check.",
    syntax: "key:key...",
    history: [["3.0.3", "Accepts multiple `key` arguments."]],
  },
  {
    name: "type",
    arity: 2,
    flags: ["readonly", "fast"],
    handler: type,
    keys: ONE_KEY,
    group: G,
    summary: "Determine the type stored at key",
    since: "1.0.0",
    complexity: "O(1)",
    syntax: "key:key",
  },
  expireSpec(
    "expire",
    true,
    true,
    "Set a key's time to live in seconds",
    "1.0.0",
    "seconds:integer",
  ),
  expireSpec(
    "pexpire",
    false,
    true,
    "Set a key's time to live in milliseconds",
    "2.6.0",
    "milliseconds:integer",
  ),
  expireSpec(
    "expireat",
    true,
    false,
    "Set the expiration for a key as a UNIX timestamp",
    "1.2.0",
    "unix-time-seconds:unix-time",
  ),
  expireSpec(
    "pexpireat",
    false,
    false,
    "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
    "2.6.0",
    "unix-time-milliseconds:unix-time",
  ),
  {
    name: "ttl",
    arity: 2,
    flags: ["readonly", "fast"],
    handler: ttl,
    keys: ONE_KEY,
    group: G,
    summary: "Get the time to live for a key in seconds",
    since: "1.0.0",
    tips: ["nondeterministic_output"],
    complexity: "O(1)",
    syntax: "key:key",
    history: [["2.8.0", "Added the -2 reply."]],
  },
  {
    name: "pttl",
    arity: 2,
    flags: ["readonly", "fast"],
    handler: pttl,
    keys: ONE_KEY,
    group: G,
    summary: "Get the time to live for a key in milliseconds",
    since: "2.6.0",
    tips: ["nondeterministic_output"],
    complexity: "O(1)",
    syntax: "key:key",
    history: [["2.8.0", "Added the -2 reply."]],
  },
  {
    name: "persist",
    arity: 2,
    flags: ["write", "fast"],
    handler: persist,
    keys: ONE_KEY,
    group: G,
    summary: "Remove the expiration from a key",
    since: "2.2.0",
    complexity: "O(1)",
    syntax: "key:key",
  },
  {
    name: "keys",
    arity: 2,
    flags: ["readonly"],
    handler: keys,
    group: G,
    acl: ["dangerous"], // It walks the whole keyspace.
    summary: "Find all keys matching the given pattern",
    since: "1.0.0",
    tips: ["request_policy:all_shards", "nondeterministic_output_order"],
    complexity:
      "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
    syntax: "pattern:pattern",
  },
  {
    name: "scan",
    arity: -2,
    flags: ["readonly"],
    handler: scan,
    group: G,
    summary: "Incrementally iterate the keys space",
    since: "2.8.0",
    tips: ["nondeterministic_output", "request_policy:special"],
    complexity:
      "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
    syntax: "cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type@6.0.0]",
    history: [["6.0.0", "Added the `TYPE` subcommand."]],
  },
  {
    name: "rename",
    arity: 3,
    flags: ["write"],
    handler: rename,
    keys: [1, 2, 1],
    group: G,
    summary: "Rename a key",
    since: "1.0.0",
    complexity: "O(1)",
    syntax: "key:key newkey:key",
  },
  {
    name: "swapdb",
    arity: 3,
    flags: ["write", "fast"],
    handler: swapdb,
    group: "server",
    summary: "Swaps two Redis databases.",
    since: "4.0.0",
  },
];
