// commands/keys.ts -- the commands on keys of any type: DEL, EXISTS, TYPE, KEYS, RENAME, SWAPDB.
//
// These never look inside a value, so they work the same on strings now
// and on the lists and streams of later steps. Each is one call into the
// keyspace (db.ts) and Redis's argument checking, to the letter. Pattern
// matching is step 12's glob.ts, on the key's bytes.

import { CommandError, type CommandSpec } from "../command.ts";
import { fromKey, type Key } from "../db.ts";
import { globMatch } from "../glob.ts";
import { parseInteger } from "../resp.ts";
import { type Client, Server } from "../state.ts";

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

/* ---- Listing keys ---- */

// A matcher over stored keys for a glob pattern; "*" matches without work.
function matcher(pattern: Buffer): ((key: Key) => boolean) | undefined {
  if (pattern.length === 1 && pattern[0] === 0x2a) return undefined;
  return (key) => globMatch(pattern, fromKey(key));
}

// KEYS pattern: every key at once. O(keys), and the server does nothing
// else meanwhile: step 17's SCAN is the polite way.
function keys(c: Client, argv: Buffer[]): void {
  const found = Server.db.keys(matcher(argv[1]!));
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
