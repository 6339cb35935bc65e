// commands/lists.ts -- the list commands: pushes and pops at both ends, ranges, LPOS, LMOVE, BLPOP.
//
// The list itself is list.ts, a deque that knows nothing of keys or
// replies. Here every command has the same shape as the string commands:
// find the list (db.get() throws WRONGTYPE for any other type), change it,
// tell the keyspace (db.modified(), which is also what wakes the clients
// blocked on the key), reply. Two rules of Redis hold everywhere: a list
// never exists empty (the command that empties it deletes the key, and a
// command on a missing key sees an empty list), and a value pushed from an
// argument is copied, since the parser lends views into its read buffer.
//
// The blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH) first try to
// answer at once, exactly as their non-blocking twins. Only when every
// key they name is empty do they park the client (blockForKeys, state.ts)
// with a callback that the blocking manager (blocking.ts) calls when one
// of the keys has been written to, after the writing command finished.

import { intArg, lower, SYNTAX_ERROR, timeoutArg } from "../args.ts";
import { arityError, CommandError, type CommandSpec } from "../command.ts";
import { fromKey, type Key, WrongTypeError } from "../db.ts";
import { ERR_NOT_INTEGER, INT64_MIN, parseInt64 } from "../int64.ts";
import { List } from "../list.ts";
import { keepArg } from "../resp.ts";
import { blockForKeys, type Client, Server } from "../state.ts";

type End = "left" | "right";

/* ============================ Helpers ===================================== */

// LEFT or RIGHT, any case (LMOVE, BLMOVE).
function endArg(b: Buffer): End {
  const s = lower(b);
  if (s === "left" || s === "right") return s;
  throw new CommandError(SYNTAX_ERROR);
}

// The list at key, undefined if there is none; WRONGTYPE for other types.
function getList(key: Buffer): List | undefined {
  return Server.db.get(key, "list");
}

// After a command changed a list in place: delete the key if the list is
// now empty, else announce the change. Both wake blocked clients' checks.
function changed(key: Buffer, list: List): void {
  if (list.length === 0) Server.db.delete(key);
  else Server.db.modified(key);
}

// Push `values` at one end of the list at key, creating it if needed.
// Returns the new length.
function push(key: Buffer, end: End, values: Buffer[], list = getList(key)): number {
  const created = list === undefined;
  const l = list ?? new List();
  for (const v of values) {
    // Copy: the argument is a view into the parser's buffer.
    if (end === "left") l.pushFront(keepArg(v));
    else l.pushBack(keepArg(v));
  }
  if (created) Server.db.set(key, { type: "list", value: l });
  else Server.db.modified(key);
  return l.length;
}

function pop(list: List, end: End): Buffer {
  return (end === "left" ? list.popFront() : list.popBack())!;
}

/* ============================ Pushes ====================================== */

function pushCommand(end: End, onlyIfExists: boolean) {
  return (c: Client, argv: Buffer[]): void => {
    const list = getList(argv[1]!);
    if (onlyIfExists && list === undefined) {
      c.out.integer(0);
      return;
    }
    c.out.integer(push(argv[1]!, end, argv.slice(2), list));
  };
}

/* ============================ Pops ======================================== */

// LPOP/RPOP key [count]. Without count: one element or nil. With count:
// an array of up to count elements, popping order, or a nil array when
// the key is missing (count 0 included, as in Redis).
function popCommand(end: End) {
  return (c: Client, argv: Buffer[]): void => {
    if (argv.length > 3) throw arityError(lower(argv[0]!));
    let count = -1;
    if (argv.length === 3) {
      const n = parseInt64(argv[2]!);
      if (n === null || n < 0n) {
        throw new CommandError("ERR value is out of range, must be positive");
      }
      count = Number(n);
    }
    const list = getList(argv[1]!);
    if (list === undefined) {
      if (count === -1) c.out.null();
      else c.out.nullArray();
      return;
    }
    if (count === -1) {
      c.out.bulk(pop(list, end));
    } else {
      const items = end === "left" ? list.popFrontN(count) : list.popBackN(count);
      c.out.array(items.length);
      for (const item of items) c.out.bulk(item);
    }
    changed(argv[1]!, list);
  };
}

/* ============================ By position ================================= */

function llen(c: Client, argv: Buffer[]): void {
  c.out.integer(getList(argv[1]!)?.length ?? 0);
}

function lrange(c: Client, argv: Buffer[]): void {
  const start = intArg(argv[2]!);
  const stop = intArg(argv[3]!);
  const items = getList(argv[1]!)?.range(start, stop) ?? [];
  c.out.array(items.length);
  for (const item of items) c.out.bulk(item);
}

// LINDEX and LSET look the key up before they parse the index, as Redis
// does: a missing key answers nil (or "no such key") whatever the index.
function lindex(c: Client, argv: Buffer[]): void {
  const list = getList(argv[1]!);
  if (list === undefined) {
    c.out.null();
    return;
  }
  const item = list.index(intArg(argv[2]!));
  if (item === undefined) c.out.null();
  else c.out.bulk(item);
}

function lset(c: Client, argv: Buffer[]): void {
  const list = getList(argv[1]!);
  if (list === undefined) throw new CommandError("ERR no such key");
  const index = intArg(argv[2]!);
  if (!list.set(index, keepArg(argv[3]!))) throw new CommandError("ERR index out of range");
  Server.db.modified(argv[1]!);
  c.out.ok();
}

function ltrim(c: Client, argv: Buffer[]): void {
  const start = intArg(argv[2]!);
  const stop = intArg(argv[3]!);
  const list = getList(argv[1]!);
  if (list !== undefined && list.trim(start, stop) > 0) changed(argv[1]!, list);
  c.out.ok();
}

/* ============================ By value ==================================== */

// LINSERT key BEFORE|AFTER pivot value: the new length, -1 without the
// pivot, 0 without the key.
function linsert(c: Client, argv: Buffer[]): void {
  const where = lower(argv[2]!);
  if (where !== "before" && where !== "after") throw new CommandError(SYNTAX_ERROR);
  const list = getList(argv[1]!);
  if (list === undefined) {
    c.out.integer(0);
    return;
  }
  const n = list.insert(where, argv[3]!, keepArg(argv[4]!));
  if (n > 0) Server.db.modified(argv[1]!);
  c.out.integer(n);
}

function lrem(c: Client, argv: Buffer[]): void {
  const count = intArg(argv[2]!);
  const list = getList(argv[1]!);
  const removed = list?.remove(count, argv[3]!) ?? 0;
  if (removed > 0) changed(argv[1]!, list!);
  c.out.integer(removed);
}

// LPOS key element [RANK rank] [COUNT num] [MAXLEN len]. Each option is
// checked as it is parsed, so the first bad one in argument order is the
// error Redis reports. RANK -9223372036854775808 is RANK -1 in Redis 7.0
// (its negation overflows back to itself, and the search takes the sign).
function lpos(c: Client, argv: Buffer[]): void {
  const opts: { rank?: number; count?: number; maxlen?: number } = {};
  for (let j = 3; j < argv.length; j++) {
    const opt = lower(argv[j]!);
    if (j + 1 >= argv.length || (opt !== "rank" && opt !== "count" && opt !== "maxlen")) {
      throw new CommandError(SYNTAX_ERROR);
    }
    const n = parseInt64(argv[++j]!);
    // Redis reads COUNT and MAXLEN with getPositiveLongFromObjectOrReply(),
    // whose one message covers "not a number" too.
    if (n === null && opt !== "rank") {
      throw new CommandError(`ERR ${opt.toUpperCase()} can't be negative`);
    }
    if (n === null) throw new CommandError(ERR_NOT_INTEGER);
    if (opt === "rank") opts.rank = n === INT64_MIN ? -1 : Number(n);
    else if (opt === "count") opts.count = Number(n);
    else opts.maxlen = Number(n);
    // Validate now, against an empty list: only the option errors can come back.
    const err = new List().pos(argv[2]!, opts);
    if (!Array.isArray(err)) throw new CommandError(err.reply);
  }
  const list = getList(argv[1]!);
  const found = list === undefined ? [] : list.pos(argv[2]!, opts);
  if (!Array.isArray(found)) throw new CommandError(found.reply);
  if (opts.count === undefined) {
    if (found.length === 0) c.out.null();
    else c.out.integer(found[0]!);
    return;
  }
  c.out.array(found.length);
  for (const i of found) c.out.integer(i);
}

/* ============================ LMOVE ======================================= */

// Pop from src's `from` end and push onto dst's `to` end; the element, or
// undefined when src is missing. dst's type is checked before anything
// moves, so a WRONGTYPE leaves both keys as they were.
function move(src: Buffer, dst: Buffer, from: End, to: End): Buffer | undefined {
  const list = getList(src);
  if (list === undefined) return undefined;
  const target = getList(dst);
  const item = pop(list, from);
  // src and dst may be one list (a rotation): push before deleting, so a
  // one-element list survives its own rotation.
  push(dst, to, [item], target ?? (src.equals(dst) ? list : undefined));
  if (!src.equals(dst)) changed(src, list);
  return item;
}

function lmove(c: Client, argv: Buffer[]): void {
  const from = endArg(argv[3]!);
  const to = endArg(argv[4]!);
  const item = move(argv[1]!, argv[2]!, from, to);
  if (item === undefined) c.out.null();
  else c.out.bulk(item);
}

function rpoplpush(c: Client, argv: Buffer[]): void {
  const item = move(argv[1]!, argv[2]!, "right", "left");
  if (item === undefined) c.out.null();
  else c.out.bulk(item);
}

/* ============================ Blocking pops ===============================
 * Each first tries what its non-blocking twin would do; when that finds
 * nothing it parks the client. The callback it leaves with the blocking
 * manager is the same attempt, on the one key that became ready: Redis
 * 7.0 serves a waiter from the key that was pushed to, not by re-running
 * the command from its first key.
 * ======================================================================== */

// BLPOP/BRPOP key [key ...] timeout: [key, element] from the first
// non-empty key in argument order, or block on all of them.
function bpopCommand(end: End) {
  return (c: Client, argv: Buffer[]): void => {
    const deadline = timeoutArg(argv[argv.length - 1]!);
    const keys = argv.slice(1, -1);
    for (const key of keys) {
      const list = getList(key);
      if (list === undefined) continue;
      replyPopped(c, key, pop(list, end));
      changed(key, list);
      return;
    }
    blockForKeys(
      c,
      keys,
      deadline,
      (key: Key): boolean => {
        const k = fromKey(key);
        const list = Server.db.lookup(k);
        if (list?.type !== "list") return false;
        replyPopped(c, k, pop(list.value, end));
        changed(k, list.value);
        return true;
      },
      () => c.out.nullArray(),
    );
  };
}

function replyPopped(c: Client, key: Buffer, item: Buffer): void {
  c.out.array(2);
  c.out.bulk(key);
  c.out.bulk(item);
}

// BLMOVE src dst LEFT|RIGHT LEFT|RIGHT timeout, and BRPOPLPUSH src dst
// timeout (BLMOVE src dst RIGHT LEFT). Served, it pushes onto dst, which
// readies dst for the clients blocked there: they are served next, in the
// same walk of the ready keys.
function blmoveGeneric(c: Client, src: Buffer, dst: Buffer, from: End, to: End, t: Buffer): void {
  const deadline = timeoutArg(t);
  const item = move(src, dst, from, to);
  if (item !== undefined) {
    c.out.bulk(item);
    return;
  }
  // Keep our own copies: argv's Buffers are views into the read buffer.
  const source = Buffer.from(src);
  const destination = Buffer.from(dst);
  blockForKeys(
    c,
    [source],
    deadline,
    (): boolean => {
      if (Server.db.lookup(source)?.type !== "list") return false;
      try {
        c.out.bulk(move(source, destination, from, to)!);
      } catch (err) {
        // The destination holds another type by now: nothing moves, and
        // the waiter gets the error (Redis 7.0 does the same).
        if (!(err instanceof WrongTypeError)) throw err;
        c.out.error(err.message);
      }
      return true;
    },
    () => c.out.nullArray(),
  );
}

function blmove(c: Client, argv: Buffer[]): void {
  const from = endArg(argv[3]!);
  const to = endArg(argv[4]!);
  blmoveGeneric(c, argv[1]!, argv[2]!, from, to, argv[5]!);
}

function brpoplpush(c: Client, argv: Buffer[]): void {
  blmoveGeneric(c, argv[1]!, argv[2]!, "right", "left", argv[3]!);
}

/* ============================ The table =================================== */

const G = "list";
const ONE_KEY: [number, number, number] = [1, 1, 1];
const TWO_KEYS: [number, number, number] = [1, 2, 1];
const KEYS_THEN_TIMEOUT: [number, number, number] = [1, -2, 1];

export const listCommands: CommandSpec[] = [
  {
    name: "lpush",
    arity: -3,
    flags: ["write", "denyoom", "fast"],
    handler: pushCommand("left", false),
    keys: ONE_KEY,
    group: G,
    summary: "Prepend one or multiple elements to a list",
    since: "1.0.0",
    complexity:
      "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    syntax: "key:key element...",
    history: [["2.4.0", "Accepts multiple `element` arguments."]],
  },
  {
    name: "rpush",
    arity: -3,
    flags: ["write", "denyoom", "fast"],
    handler: pushCommand("right", false),
    keys: ONE_KEY,
    group: G,
    summary: "Append one or multiple elements to a list",
    since: "1.0.0",
    complexity:
      "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    syntax: "key:key element...",
    history: [["2.4.0", "Accepts multiple `element` arguments."]],
  },
  {
    name: "lpushx",
    arity: -3,
    flags: ["write", "denyoom", "fast"],
    handler: pushCommand("left", true),
    keys: ONE_KEY,
    group: G,
    summary: "Prepend an element to a list, only if the list exists",
    since: "2.2.0",
    complexity:
      "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    syntax: "key:key element...",
    history: [["4.0.0", "Accepts multiple `element` arguments."]],
  },
  {
    name: "rpushx",
    arity: -3,
    flags: ["write", "denyoom", "fast"],
    handler: pushCommand("right", true),
    keys: ONE_KEY,
    group: G,
    summary: "Append an element to a list, only if the list exists",
    since: "2.2.0",
    complexity:
      "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    syntax: "key:key element...",
    history: [["4.0.0", "Accepts multiple `element` arguments."]],
  },
  {
    name: "lpop",
    arity: -2,
    flags: ["write", "fast"],
    handler: popCommand("left"),
    keys: ONE_KEY,
    group: G,
    summary: "Remove and get the first elements in a list",
    since: "1.0.0",
    complexity: "O(N) where N is the number of elements returned",
    syntax: "key:key [count:integer@6.2.0]",
    history: [["6.2.0", "Added the `count` argument."]],
  },
  {
    name: "rpop",
    arity: -2,
    flags: ["write", "fast"],
    handler: popCommand("right"),
    keys: ONE_KEY,
    group: G,
    summary: "Remove and get the last elements in a list",
    since: "1.0.0",
    complexity: "O(N) where N is the number of elements returned",
    syntax: "key:key [count:integer@6.2.0]",
    history: [["6.2.0", "Added the `count` argument."]],
  },
  {
    name: "llen",
    arity: 2,
    flags: ["readonly", "fast"],
    handler: llen,
    keys: ONE_KEY,
    group: G,
    summary: "Get the length of a list",
    since: "1.0.0",
    complexity: "O(1)",
    syntax: "key:key",
  },
  {
    name: "lrange",
    arity: 4,
    flags: ["readonly"],
    handler: lrange,
    keys: ONE_KEY,
    group: G,
    summary: "Get a range of elements from a list",
    since: "1.0.0",
    complexity:
      "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
    syntax: "key:key start:integer stop:integer",
  },
  {
    name: "lindex",
    arity: 3,
    flags: ["readonly"],
    handler: lindex,
    keys: ONE_KEY,
    group: G,
    summary: "Get an element from a list by its index",
    since: "1.0.0",
    complexity:
      "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
    syntax: "key:key index:integer",
  },
  {
    name: "lset",
    arity: 4,
    flags: ["write", "denyoom"],
    handler: lset,
    keys: ONE_KEY,
    group: G,
    summary: "Set the value of an element in a list by its index",
    since: "1.0.0",
    complexity:
      "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
    syntax: "key:key index:integer element",
  },
  {
    name: "linsert",
    arity: 5,
    flags: ["write", "denyoom"],
    handler: linsert,
    keys: ONE_KEY,
    group: G,
    summary: "Insert an element before or after another element in a list",
    since: "2.2.0",
    complexity:
      "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
    syntax: "key:key where=(BEFORE|AFTER) pivot element",
  },
  {
    name: "lrem",
    arity: 4,
    flags: ["write"],
    handler: lrem,
    keys: ONE_KEY,
    group: G,
    summary: "Remove elements from a list",
    since: "1.0.0",
    complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
    syntax: "key:key count:integer element",
  },
  {
    name: "ltrim",
    arity: 4,
    flags: ["write"],
    handler: ltrim,
    keys: ONE_KEY,
    group: G,
    summary: "Trim a list to the specified range",
    since: "1.0.0",
    complexity: "O(N) where N is the number of elements to be removed by the operation.",
    syntax: "key:key start:integer stop:integer",
  },
  {
    name: "lpos",
    arity: -3,
    flags: ["readonly"],
    handler: lpos,
    keys: ONE_KEY,
    group: G,
    summary: "Return the index of matching elements on a list",
    since: "6.0.6",
    complexity:
      "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
    syntax: "key:key element [RANK rank:integer] [COUNT num-matches:integer] [MAXLEN len:integer]",
  },
  {
    name: "lmove",
    arity: 5,
    flags: ["write", "denyoom"],
    handler: lmove,
    keys: TWO_KEYS,
    group: G,
    summary: "Pop an element from a list, push it to another list and return it",
    since: "6.2.0",
    complexity: "O(1)",
    syntax: "source:key destination:key wherefrom=(LEFT|RIGHT) whereto=(LEFT|RIGHT)",
  },
  {
    name: "rpoplpush",
    arity: 3,
    flags: ["write", "denyoom"],
    handler: rpoplpush,
    keys: TWO_KEYS,
    group: G,
    summary: "Remove the last element in a list, prepend it to another list and return it",
    since: "1.2.0",
    complexity: "O(1)",
    syntax: "source:key destination:key",
    docFlags: ["deprecated"],
    deprecatedSince: "6.2.0",
    replacedBy: "`LMOVE` with the `RIGHT` and `LEFT` arguments",
  },
  {
    name: "blpop",
    arity: -3,
    flags: ["write", "noscript", "blocking"],
    handler: bpopCommand("left"),
    keys: KEYS_THEN_TIMEOUT,
    group: G,
    summary: "Remove and get the first element in a list, or block until one is available",
    since: "2.0.0",
    complexity: "O(N) where N is the number of provided keys.",
    syntax: "key:key... timeout:double",
    history: [["6.0.0", "`timeout` is interpreted as a double instead of an integer."]],
  },
  {
    name: "brpop",
    arity: -3,
    flags: ["write", "noscript", "blocking"],
    handler: bpopCommand("right"),
    keys: KEYS_THEN_TIMEOUT,
    group: G,
    summary: "Remove and get the last element in a list, or block until one is available",
    since: "2.0.0",
    complexity: "O(N) where N is the number of provided keys.",
    syntax: "key:key... timeout:double",
    history: [["6.0.0", "`timeout` is interpreted as a double instead of an integer."]],
  },
  {
    name: "blmove",
    arity: 6,
    flags: ["write", "denyoom", "noscript", "blocking"],
    handler: blmove,
    keys: TWO_KEYS,
    group: G,
    summary:
      "Pop an element from a list, push it to another list and return it; or block until one is available",
    since: "6.2.0",
    complexity: "O(1)",
    syntax: "source:key destination:key wherefrom=(LEFT|RIGHT) whereto=(LEFT|RIGHT) timeout:double",
  },
  {
    name: "brpoplpush",
    arity: 4,
    flags: ["write", "denyoom", "noscript", "blocking"],
    handler: brpoplpush,
    keys: TWO_KEYS,
    group: G,
    summary:
      "Pop an element from a list, push it to another list and return it; or block until one is available",
    since: "2.2.0",
    complexity: "O(1)",
    syntax: "source:key destination:key timeout:double",
    history: [["6.0.0", "`timeout` is interpreted as a double instead of an integer."]],
    docFlags: ["deprecated"],
    deprecatedSince: "6.2.0",
    replacedBy: "`BLMOVE` with the `RIGHT` and `LEFT` arguments",
  },
];
