// multi.ts -- transactions: MULTI queues commands, EXEC runs them as one unit, WATCH makes it optimistic.
//
// Our server runs one command at a time, so every command is already
// atomic: nobody sees half an MSET. A transaction stretches that to several
// commands. After MULTI, a client's commands are not run but queued (each
// answered +QUEUED); EXEC runs the whole queue in one go, inside one call
// of the loop, and answers with an array of their replies. Between the
// first and the last queued command no other client runs anything: the
// loop is busy with this EXEC. There is no lock to take and none to forget.
//
// Errors come in two kinds, and Redis treats them differently:
// - Refused at queue time (an unknown command, a wrong number of
//   arguments): the command could never run, so the client's program is
//   wrong. The transaction is doomed: EXEC answers EXECABORT and runs
//   nothing.
// - Failing at run time (INCR of a word, WRONGTYPE): the error takes that
//   command's slot in EXEC's array, and the other commands run anyway.
//   Nothing is rolled back. Redis's reasoning: these errors are
//   programming errors too (the wrong type of key), which a test finds;
//   undoing would need an undo log for every write, and the commands would
//   cost more in the common case for a case that should not happen.
//
// WATCH is the other half: optimistic locking for read-modify-write. A
// client WATCHes keys, reads them, computes, and sends MULTI ... EXEC. If
// anyone wrote to a watched key in between (another client, this one, an
// expiry, a FLUSHALL), EXEC runs nothing and answers nil, and the client
// tries again. Nobody waits for a lock; a conflict costs one retry.
//
// Knowing that a watched key was written must not cost every write a look
// at every client. The keyspace announces each change through its key-event
// hook (db.ts's onKeyEvent); we keep a map from watched key to the watches
// on it, so a write costs one Map lookup when nobody watches the key, and
// O(watchers of that key) when someone does. Each client keeps its own
// watches too, so UNWATCH, EXEC and a disconnect remove them in
// O(keys it watched). Redis keeps the same pair (db->watched_keys and
// c->watched_keys).

import { type Command, CommandError, type CommandSpec } from "./command.ts";
import { type Db, type Key, type KeyEvent, toKey } from "./db.ts";
import { type Client, closeAsap, Server } from "./state.ts";

// The dispatcher's call() (commands.ts), which EXEC runs its queue
// through. commands.ts imports this file (MULTI's queueing is a check of
// its processCommand()), so it hands call() over when it builds the table
// instead of this file importing it back.
type Call = (c: Client, cmd: Command, argv: Buffer[]) => void;
let call: Call = () => {
  throw new Error("EXEC before commands.ts handed over call()");
};

export function setCall(f: Call): void {
  call = f;
}

/* ============================ The client's state ========================== */

export interface QueuedCommand {
  cmd: Command;
  argv: Buffer[]; // Views into the read buffers, which the parser never reuses.
}

// One client watching one key. The same object is in the client's map and
// in the key's set, so either side can find and remove it.
export interface WatchedKey {
  client: Client;
  db: Db; // Watches are per database: q in db 0 and q in db 1 are two keys.
  key: Key;
  // The key was already dead (expired, not yet reclaimed) when watched:
  // its reclaiming is then no change at all, as Redis 7 decides.
  expired: boolean;
}

// Watched key -> the watches on it.
const watchedKeys = new Map<string, Set<WatchedKey>>();

// The name of a watch in watchedKeys and in a client's `watching`.
const watchName = (db: Db, key: Key): string => `${db.id}:${key}`;

// Commands that run at once even inside MULTI: the ones that end or
// check the transaction, and QUIT (Redis also lists RESET).
const RUN_IN_MULTI = new Set(["exec", "discard", "multi", "watch", "quit"]);

// Bytes a queued command is counted for beyond its arguments, so that a
// flood of empty commands is bounded too.
const QUEUED_OVERHEAD = 64;

/* ============================ Queueing ==================================== */

// Called by processCommand() for a command that passed every check. Inside
// MULTI, queue it, answer +QUEUED and return true; otherwise false: run it.
export function queueCommand(c: Client, cmd: Command, argv: Buffer[]): boolean {
  if (c.multi === null || RUN_IN_MULTI.has(cmd.name)) return false;
  c.lastCommand = cmd.fullname;
  // A doomed transaction keeps nothing, as Redis: EXEC will not run it.
  if (!c.multiFailed && !c.watchTouched) {
    c.multi.push({ cmd, argv });
    for (const a of argv) c.multiBytes += a.length;
    c.multiBytes += QUEUED_OVERHEAD;
    // Queued commands are input not yet run: the query buffer limit holds.
    if (c.multiBytes > Server.config.queryBufferLimit) {
      closeAsap(c, `MULTI queue over ${Server.config.queryBufferLimit} bytes`);
    }
  }
  c.out.simple("QUEUED");
  return true;
}

// Called by processCommand() when it refuses a command (unknown, wrong
// arity, not allowed while subscribed). Inside MULTI this dooms the
// transaction (Redis's flagTransaction()). A refused EXEC ends it instead,
// with the reason: the client must learn that it is out of MULTI. Returns
// true if it answered the client itself.
export function rejectInTransaction(c: Client, cmd: Command | null, message: string): boolean {
  if (c.multi !== null) c.multiFailed = true;
  if (cmd?.name !== "exec") return false;
  discardTransaction(c);
  c.out.error(`EXECABORT Transaction discarded because of: ${message.replace(/^ERR /, "")}`);
  return true;
}

// Leave MULTI: forget the queue and every watch (Redis's discardTransaction()).
function discardTransaction(c: Client): void {
  c.multi = null;
  c.multiBytes = 0;
  c.multiFailed = false;
  c.watchTouched = false;
  unwatchAllKeys(c);
}

/* ============================ The commands ================================ */

function multi(c: Client): void {
  if (c.multi !== null) throw new CommandError("ERR MULTI calls can not be nested");
  c.multi = [];
  c.out.ok();
}

function discard(c: Client): void {
  if (c.multi === null) throw new CommandError("ERR DISCARD without MULTI");
  discardTransaction(c);
  c.out.ok();
}

// EXEC: run the queue through call(), not processCommand(): the checks
// were made at queue time, and the after-command work (step 19's serving
// of blocked clients) runs once, when processCommand() sees EXEC return.
// So a client blocked on a list this transaction pushes to wakes after the
// whole transaction, never in the middle of it. While the queue runs,
// c.multi is still set: a command that finds it set is running inside
// EXEC (a blocking command must then not block: blockForKeys() in state.ts
// checks this).
function exec(c: Client): void {
  const queue = c.multi;
  if (queue === null) throw new CommandError("ERR EXEC without MULTI");
  // A watched key that was alive when watched and is dead now, even if
  // nobody has reclaimed it yet, was changed (by time).
  if (!c.watchTouched && watchedKeyExpired(c)) c.watchTouched = true;
  if (c.multiFailed) {
    c.out.error("EXECABORT Transaction discarded because of previous errors.");
  } else if (c.watchTouched) {
    c.out.nullArray(); // *-1 in RESP2, _ in RESP3: "not run", not an error.
  } else {
    unwatchAllKeys(c); // Our own writes below must not touch our watches.
    c.out.array(queue.length);
    for (const q of queue) call(c, q.cmd, q.argv);
    c.lastCommand = "exec";
  }
  discardTransaction(c);
}

function watch(c: Client, argv: Buffer[]): void {
  if (c.multi !== null) throw new CommandError("ERR WATCH inside MULTI is not allowed");
  // Already touched: EXEC will fail whatever we watch now.
  if (!c.watchTouched) {
    for (let j = 1; j < argv.length; j++) watchKey(c, toKey(argv[j]!));
  }
  c.out.ok();
}

function unwatch(c: Client): void {
  unwatchAllKeys(c);
  c.watchTouched = false;
  c.out.ok();
}

/* ============================ Watching ==================================== */

// How many keys are watched by at least one client (Redis 7.4 shows it in
// INFO as total_watched_keys; 7.0 does not, so only the tests ask).
export function watchedKeyCount(): number {
  return watchedKeys.size;
}

function watchKey(c: Client, key: Key): void {
  const db = Server.db;
  const name = watchName(db, key);
  if (c.watching === null) c.watching = new Map();
  if (c.watching.has(name)) return;
  const wk: WatchedKey = { client: c, db, key, expired: db.peek(key) === "expired" };
  c.watching.set(name, wk);
  let set = watchedKeys.get(name);
  if (set === undefined) {
    set = new Set();
    watchedKeys.set(name, set);
  }
  set.add(wk);
}

// Forget every watch of `c`: UNWATCH, EXEC, DISCARD, a touched watch, and
// freeClient() when the client disconnects.
export function unwatchAllKeys(c: Client): void {
  if (c.watching === null) return;
  for (const [name, wk] of c.watching) {
    const set = watchedKeys.get(name)!;
    set.delete(wk);
    if (set.size === 0) watchedKeys.delete(name);
  }
  c.watching = null;
}

function watchedKeyExpired(c: Client): boolean {
  if (c.watching === null) return false;
  for (const wk of c.watching.values()) {
    if (!wk.expired && wk.db.peek(wk.key) === "expired") return true;
  }
  return false;
}

// Mark the watcher's EXEC as doomed. Its other watches can go now: it
// cannot be more doomed (Redis does the same).
function touch(wk: WatchedKey): void {
  wk.client.watchTouched = true;
  unwatchAllKeys(wk.client);
}

// Each keyspace's listener (server.ts registers it, naming the database):
// a key of `db` changed. Runs in the middle of the writing command; it
// only sets flags, which is all a listener may do (db.ts). Deleting from a
// Set while iterating it is safe.
export function touchWatchedKeys(event: KeyEvent, key: Key | null, db: Db = Server.db): void {
  if (watchedKeys.size === 0) return; // The common case: one comparison.
  if (key === null) {
    // FLUSHALL/FLUSHDB (or SWAPDB), before the keys go: a watched key that
    // exists (even dead) changes; one that does not exist does not.
    for (const set of watchedKeys.values()) {
      const first = set.values().next().value!;
      if (first.db !== db) continue;
      const state = db.peek(first.key);
      if (state === "missing") continue;
      for (const wk of set) {
        if (wk.expired && state === "expired")
          wk.expired = false; // Dead, now gone: no change.
        else touch(wk);
      }
    }
    return;
  }
  const set = watchedKeys.get(watchName(db, key));
  if (set === undefined) return;
  for (const wk of set) {
    // A key dead when watched and now reclaimed (or deleted) has not
    // changed: it was as good as gone already. Writing it does change it.
    if (wk.expired && event !== "write") wk.expired = false;
    else touch(wk);
  }
}

/* ============================ The table =================================== */

const G = "transactions";
const FLAGS: CommandSpec["flags"] = ["noscript", "loading", "stale", "fast", "allow_busy"];

export const transactionCommands: CommandSpec[] = [
  {
    name: "multi",
    arity: 1,
    flags: FLAGS,
    handler: multi,
    group: G,
    summary: "Mark the start of a transaction block",
    since: "1.2.0",
    complexity: "O(1)",
  },
  {
    name: "exec",
    arity: 1,
    flags: ["noscript", "loading", "stale", "skip_slowlog"],
    handler: exec,
    group: G,
    summary: "Execute all commands issued after MULTI",
    since: "1.2.0",
    complexity: "Depends on commands in the transaction",
  },
  {
    name: "discard",
    arity: 1,
    flags: FLAGS,
    handler: discard,
    group: G,
    summary: "Discard all commands issued after MULTI",
    since: "2.0.0",
    complexity: "O(N), when N is the number of queued commands",
  },
  {
    name: "watch",
    arity: -2,
    flags: FLAGS,
    handler: watch,
    keys: [1, -1, 1],
    group: G,
    summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
    since: "2.2.0",
    complexity: "O(1) for every key.",
    syntax: "key:key...",
  },
  {
    name: "unwatch",
    arity: 1,
    flags: FLAGS,
    handler: unwatch,
    group: G,
    summary: "Forget about all watched keys",
    since: "2.2.0",
    complexity: "O(1)",
  },
];
