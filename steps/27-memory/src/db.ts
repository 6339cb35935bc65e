// db.ts -- the keyspace: binary-safe keys mapped to typed values that can expire.
//
// A Redis is one big dictionary. Step 03 kept clients in a Map so that
// finding one costs the same with ten or ten thousand; this file does the
// same for data. A key maps to an entry: a type ("string" now; lists and
// streams come in later steps), the value, and optionally the time in
// milliseconds at which the key dies. Only the command layer speaks RESP:
// here we return plain values, and the one error we throw (WRONGTYPE)
// carries Redis's exact text for the command layer to send as it is.
//
// Keys are bytes, not text. A client may SET a key holding "\0", "\r\n" or
// "\xff", and GET must find exactly those bytes again. A JS Map compares
// strings, not Buffers (two Buffers with the same bytes are two different
// objects), so each key becomes a string with one character per byte: the
// "latin1" encoding maps byte 0xNN to character U+00NN and back, for all 256
// values, so no two keys collide and none is lost. UTF-8 would not do: every
// invalid sequence decodes to the same U+FFFD, and "\xff" and "\xfe" would
// become one key. Hex would work too, at twice the memory and hashing.
//
// Time is the second lesson. A key with an expiry must vanish on its own,
// like step 05's idle clients, and Redis does it in two ways at once:
//
// - Lazily: every lookup checks the entry's deadline, and an expired key is
//   deleted right there, so no command can ever see a dead key. This costs
//   one comparison per access, but alone it would keep forever the keys that
//   nobody reads again.
// - Actively: the loop's timer calls activeExpireCycle(), which samples keys
//   that have an expiry, deletes the dead ones, and samples again while more
//   than a quarter of a sample was dead (then there are probably many more),
//   within a time budget, so that a million dead keys are reclaimed over a
//   few ticks without ever stopping the server for long.
//
// Sampling needs the keys with an expiry in one place that can be indexed
// at random: an array, where a key's position is stored in its entry so it
// can leave in O(1) (the last element moves into its hole: swap-remove).
// Redis keeps the same pair of dictionaries, db->dict and db->expires.
//
// SCAN is the third lesson. A client iterates the keyspace a few keys per
// call, passing back a cursor, while other clients keep adding and removing
// keys; the promise is that a full iteration returns every key that existed
// for the whole iteration (a key may show up twice in Redis; never zero
// times). Redis keeps that promise with its own hash table: the cursor is a
// bucket index, incremented with its bits reversed, so that when the table
// doubles or halves the buckets already visited map onto buckets still
// behind the cursor. We keep the keys in a JS Map, whose positions we cannot
// name with a number, and indexes into a list of keys shift when a key is
// deleted. So each key gets a birth number when it is created (never when it
// is overwritten), and we keep the entries in a list sorted by birth:
// deleting leaves a hole, and when holes outnumber keys the list is
// compacted. The cursor is the birth number to resume from: whatever was
// deleted or compacted meanwhile, the keys born before the cursor were
// returned and the keys born after it are still ahead, so a key that lives
// throughout is returned exactly once. The same list gives RANDOMKEY a key
// in O(1) (a random slot, retried when it is a hole).
//
// Every change is announced through one hook: onKeyEvent(listener). The
// server registers one listener per feature that cares (step 19's blocked
// clients wait for a key to become ready, step 24's WATCH wants to know a
// key was touched), and each is one line there.

import type { List } from "./list.ts";
import { keepArg } from "./resp.ts";
import type { Stream } from "./stream.ts";

/* ============================ Keys ========================================
 * The command layer gets arguments as Buffers; these two functions are the
 * only place where bytes become Map keys and back.
 * ======================================================================== */

// A key as stored: one character per byte (see the header).
export type Key = string;

// The last Buffer converted and its key. A command mostly reads its key,
// then writes it (INCR, LPUSH, RPOP): two conversions of the same Buffer,
// each a call into C++ and a new string. Comparing the Buffer object is
// enough, because a Buffer handed to the Db never changes afterwards: an
// argument is a view of bytes the parser never writes again (resp.ts), and
// anything else is a fresh copy.
let lastBytes: Buffer | null = null;
let lastKey: Key = "";

export function toKey(bytes: Buffer): Key {
  if (bytes !== lastBytes) {
    lastKey = bytes.toString("latin1");
    lastBytes = bytes;
  }
  return lastKey;
}

export function fromKey(key: Key): Buffer {
  return Buffer.from(key, "latin1");
}

/* ============================ Values ======================================
 * Each type a key can hold, by the name TYPE answers. A step that adds a
 * type adds one line here (e.g. `list: List;`) and everything below,
 * TYPE and WRONGTYPE included, follows.
 *
 * Step 26: a small string value is stored as a latin1 JS string, not as a
 * Buffer. A Buffer is a typed array: about 100 bytes of object before its
 * first byte, and one more object for the collector to trace and sweep; a
 * 3-byte string is 24 bytes and a leaf the collector never looks into.
 * For a million `SET key:NNN xxx` that is the biggest share of the memory
 * per key (README.md has the numbers). Big values stay Buffers: a 10 MB
 * GET then goes out as it is, with no copy. The commands still see
 * Buffers through get() and lookup(); only GET, MGET and the counters ask
 * for the stored form (stringForm()) and skip the conversion.
 * ======================================================================== */

// Values shorter than this are stored as strings (see above).
const SMALL_STRING = 4096;

// What a string command stores: a small value becomes a string (one copy
// out of the read buffer); a big one is kept as keepArg() keeps it.
export function storedString(arg: Buffer): Buffer | string {
  return arg.length < SMALL_STRING ? arg.toString("latin1") : keepArg(arg);
}

export interface Types {
  string: Buffer;
  list: List;
  stream: Stream;
}

export type TypeName = keyof Types;

// A value with its type, as lookup() returns it. Checking `type` narrows
// `value` (a discriminated union, one member per line of Types).
export type Value = { [T in TypeName]: { readonly type: T; readonly value: Types[T] } }[TypeName];

// Redis's exact text; the command layer sends it as "-WRONGTYPE ...".
export class WrongTypeError extends Error {
  constructor() {
    super("WRONGTYPE Operation against a key holding the wrong kind of value");
    this.name = "WrongTypeError";
  }
}

/* ============================ Events ======================================
 * What happened to a key, for whoever registered a listener:
 * - "write": created, overwritten, changed in place (see modified()), given or
 *   relieved of an expiry, or the destination of a RENAME. Fired after.
 * - "delete": removed by a command (DEL, RENAME's source, an expiry time in
 *   the past). Fired after.
 * - "expire": removed because its time came, lazily or actively. Fired after.
 * - "flush": every key is about to go (FLUSHALL/FLUSHDB). Fired once, with
 *   key null, *before* the keys are dropped: WATCH must know whether a
 *   watched key existed, and a million events would be a million calls.
 * A change that changes nothing (DEL of a missing key, PERSIST of a key
 * without expiry) fires nothing: Redis's WATCH ignores those too.
 * Listeners run in the middle of a command: they should note the key and
 * act after the command, as Redis's signalKeyAsReady() only queues the key
 * for handleClientsBlockedOnKeys(). Writing to the Db from a listener would
 * interleave with the write being announced.
 * ======================================================================== */

export type KeyEvent = "write" | "delete" | "expire" | "flush";
export type KeyListener = (event: KeyEvent, key: Key | null) => void;

/* ============================ Entries ===================================== */

// No expiry. Any negative number would do; Redis also uses -1.
const PERSISTENT = -1;

// An entry is a Value plus the bookkeeping of the two indexes. lookup()
// hands the entry itself out typed as a Value (but for a small string:
// GET asks stringForm() instead, and allocates nothing). Every field is
// 8 bytes per key, so the entry keeps no copy: its birth is births[slot],
// where SCAN reads it anyway.
interface Entry {
  readonly key: Key;
  type: TypeName;
  value: Types[TypeName] | string; // A string: a small string value.
  expiresAt: number; // ms since the epoch, or PERSISTENT.
  slot: number; // Index in Db.slots.
  ttlSlot: number; // Index in Db.expiring, or -1.
}

export interface SetOptions {
  expiresAt?: number; // Absolute ms; in the past means the key is deleted.
  keepTtl?: boolean; // Keep the current expiry (SET ... KEEPTTL).
}

export interface DbOptions {
  id?: number; // The database's number; 0 by default.
  now?: () => number; // The clock expiry is measured with; Date.now by default.
  random?: () => number; // For sampling; Math.random by default.
}

/* ============================ Active expiry ===============================
 * Redis's numbers (src/expire.c): sample 20 keys per round; go on while
 * more than ACCEPTABLE_STALE_PERCENT of the sample was dead; look at the
 * clock every 16 rounds and stop once over budget. Redis 7 repeats while
 * more than 10% was dead (tunable by active-expire-effort); we keep the
 * classic quarter: roughly, at most a quarter of the keys with an expiry
 * are dead and not yet reclaimed, even if nobody ever reads them.
 * ======================================================================== */

const KEYS_PER_ROUND = 20;
const ACCEPTABLE_STALE_PERCENT = 25;
const ROUNDS_PER_CLOCK_CHECK = 16;

// Redis spends at most 25% of a 100 ms tick (hz 10) on a slow cycle.
export const DEFAULT_EXPIRE_BUDGET_MS = 25;

// INFO's avg_ttl: each cycle's mean TTL of the live keys it sampled
// weighs 2% against the previous estimate, as in Redis.
const AVG_TTL_WEIGHT = 0.02;

export interface ExpireStats {
  rounds: number; // Samples taken.
  sampled: number; // Keys looked at.
  expired: number; // Keys deleted.
  timedOut: boolean; // Stopped by the budget, not because few were dead.
}

/* ============================ The keyspace ================================ */

export class Db {
  // Key -> entry: every lookup starts here.
  private dict = new Map<Key, Entry>();
  // Entries in birth order, with holes (undefined) where keys were deleted,
  // and their birth numbers, kept for holes too so a cursor can be found by
  // binary search. Compacted when holes outnumber keys.
  private slots: (Entry | undefined)[] = [];
  private births: number[] = [];
  private holes = 0;
  private nextBirth = 1;
  // Entries with an expiry, in no order, for sampling. entry.ttlSlot is
  // each one's index here.
  private expiring: Entry[] = [];
  private avgTtlEstimate = 0;
  private listeners: KeyListener[] = [];
  private readonly now: () => number;
  private readonly random: () => number;

  readonly id: number; // Its number, for SELECT: 0 to databases-1.

  constructor(options: DbOptions = {}) {
    this.id = options.id ?? 0;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  // SWAPDB: trade every key (and its expiry) with `other`. The two keep
  // their numbers and their listeners, so a client that SELECTed 1 sees
  // the other keys at once, as in Redis. Listeners hear a "flush" before
  // and after: any key may have changed.
  swapWith(other: Db): void {
    this.emit("flush", null);
    other.emit("flush", null);
    [this.dict, other.dict] = [other.dict, this.dict];
    [this.slots, other.slots] = [other.slots, this.slots];
    [this.births, other.births] = [other.births, this.births];
    [this.holes, other.holes] = [other.holes, this.holes];
    [this.nextBirth, other.nextBirth] = [other.nextBirth, this.nextBirth];
    [this.expiring, other.expiring] = [other.expiring, this.expiring];
    [this.avgTtlEstimate, other.avgTtlEstimate] = [other.avgTtlEstimate, this.avgTtlEstimate];
    this.emit("flush", null);
    other.emit("flush", null);
  }

  // Register a listener for every change to the keyspace. Returns the
  // function that unregisters it. Both build a new array, so a listener
  // that (un)registers while events are being sent cannot make one skipped.
  onKeyEvent(listener: KeyListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private emit(event: KeyEvent, key: Key | null): void {
    for (const listener of this.listeners) listener(event, key);
  }

  // Keys stored, dead ones not yet reclaimed included (as DBSIZE counts).
  get size(): number {
    return this.dict.size;
  }

  // Keys with an expiry (INFO keyspace's "expires=").
  get expiringCount(): number {
    return this.expiring.length;
  }

  // Estimated mean ms left of keys with an expiry (INFO's "avg_ttl="),
  // from active expiry's samples; 0 when no key has an expiry.
  get avgTtl(): number {
    return this.expiring.length === 0 ? 0 : Math.round(this.avgTtlEstimate);
  }

  /* ---------------------------- Reading ---------------------------------- */

  // The live entry for a key, or undefined. This is the lazy half of
  // expiry: a key past its deadline is deleted here, before anyone sees it.
  // Expired means now > expiresAt, as in Redis: at the exact millisecond
  // the key is still alive, with a PTTL of 0.
  private live(key: Key): Entry | undefined {
    const entry = this.dict.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== PERSISTENT && this.now() > entry.expiresAt) {
      this.remove(entry, "expire");
      return undefined;
    }
    return entry;
  }

  // The value stored at key, with its type, or undefined. A small string
  // is handed out as a Buffer, made for the occasion.
  lookup(key: Buffer): Value | undefined {
    const entry = this.live(toKey(key));
    if (entry !== undefined && typeof entry.value === "string") {
      return { type: "string", value: Buffer.from(entry.value, "latin1") };
    }
    return entry as Value | undefined;
  }

  // The value at key if it has the given type, undefined if there is no
  // key; throws WrongTypeError if the key holds another type. What most
  // commands want: `const s = db.get(key, "string")`.
  get<T extends TypeName>(key: Buffer, type: T): Types[T] | undefined {
    const entry = this.live(toKey(key));
    if (entry === undefined) return undefined;
    if (entry.type !== type) throw new WrongTypeError();
    const v = entry.value;
    return (typeof v === "string" ? Buffer.from(v, "latin1") : v) as Types[T];
  }

  // A string value as stored: a latin1 string or a Buffer (see Values).
  // For the commands that can use either (GET writes both into a reply).
  // undefined if there is no key; WRONGTYPE for another type, or with
  // `orNull`, undefined (MGET's rule).
  stringForm(key: Buffer, orNull = false): Buffer | string | undefined {
    const entry = this.live(toKey(key));
    if (entry === undefined) return undefined;
    if (entry.type !== "string") {
      if (orNull) return undefined;
      throw new WrongTypeError();
    }
    return entry.value as Buffer | string;
  }

  // What is stored at key, without reclaiming it if it is dead: WATCH
  // must look at a key without changing it (Redis's keyIsExpired()).
  peek(key: Key): "missing" | "live" | "expired" {
    const entry = this.dict.get(key);
    if (entry === undefined) return "missing";
    return entry.expiresAt !== PERSISTENT && this.now() > entry.expiresAt ? "expired" : "live";
  }

  exists(key: Buffer): boolean {
    return this.live(toKey(key)) !== undefined;
  }

  type(key: Buffer): TypeName | "none" {
    return this.live(toKey(key))?.type ?? "none";
  }

  /* ---------------------------- Writing ---------------------------------- */

  // Store a value at key, replacing whatever was there (of any type: SET
  // may overwrite a list). The key loses its expiry unless keepTtl, or gets
  // options.expiresAt; an expiry already in the past deletes the key
  // instead (SET ... EXAT <past> answers OK and leaves nothing).
  set(key: Buffer, value: Value, options?: SetOptions): void {
    const k = toKey(key);
    const expiresAt = options?.expiresAt;
    // live(), not dict.get(): a dead key is reclaimed first, as Redis's
    // lookupKeyWrite does, so KEEPTTL cannot keep a deadline already past.
    let entry = this.live(k);
    if (expiresAt !== undefined && expiresAt <= this.now()) {
      // Redis writes the key and finds it born dead: WATCH sees a write
      // even where there was no key before.
      if (entry !== undefined) this.remove(entry, "delete");
      else this.emit("write", k);
      return;
    }
    if (entry === undefined) {
      entry = {
        key: k,
        type: value.type,
        value: value.value,
        expiresAt: PERSISTENT,
        slot: this.slots.length,
        ttlSlot: -1,
      };
      this.dict.set(k, entry);
      this.slots.push(entry);
      this.births.push(this.nextBirth++);
    } else {
      // An overwrite keeps the entry and so its birth: SCAN still owes it.
      entry.type = value.type;
      entry.value = value.value;
      if (!options?.keepTtl) this.setDeadline(entry, PERSISTENT);
    }
    if (expiresAt !== undefined) this.setDeadline(entry, expiresAt);
    this.emit("write", k);
  }

  // Shorthand for the string commands. `bytes` is kept as it is: a
  // Buffer the Db may own, or a latin1 string (see storedString()).
  setString(key: Buffer, bytes: Buffer | string, options?: SetOptions): void {
    this.set(key, { type: "string", value: bytes as Buffer }, options);
  }

  // Announce that the value at key was changed in place (a list pushed to,
  // a stream appended to), for the listeners: Redis's signalModifiedKey().
  // set() and the other writers here announce by themselves.
  modified(key: Buffer): void {
    this.emit("write", toKey(key));
  }

  // Delete key; false if there was no (live) key. An expired key counts as
  // missing, as in Redis: DEL of it answers 0 (and reclaims it).
  delete(key: Buffer): boolean {
    const entry = this.live(toKey(key));
    if (entry === undefined) return false;
    this.remove(entry, "delete");
    return true;
  }

  // Move the value and expiry of src to dst, replacing dst. False if src
  // does not exist (RENAME answers "ERR no such key"). Renaming a key onto
  // itself changes nothing. dst is a new key for SCAN: it was born now.
  rename(src: Buffer, dst: Buffer): boolean {
    const from = this.live(toKey(src));
    if (from === undefined) return false;
    const to = toKey(dst);
    if (to === from.key) return true;
    const { type, value, expiresAt } = from;
    this.remove(from, "delete");
    const old = this.dict.get(to);
    // Remove dst rather than overwrite it, so its expiry index is cleaned.
    if (old !== undefined) this.remove(old, null);
    this.set(dst, { type, value } as Value);
    if (expiresAt !== PERSISTENT) this.setDeadline(this.dict.get(to)!, expiresAt);
    return true;
  }

  // Drop every key (FLUSHALL, FLUSHDB). Listeners hear "flush" first.
  flush(): void {
    this.emit("flush", null);
    this.dict.clear();
    this.slots = [];
    this.births = [];
    this.holes = 0;
    this.expiring.length = 0;
    this.avgTtlEstimate = 0;
  }

  /* ---------------------------- Expiry ----------------------------------- */

  // When key dies, in ms since the epoch: -2 if there is no key, -1 if it
  // never does (the answers of PEXPIRETIME).
  expireTime(key: Buffer): number {
    const entry = this.live(toKey(key));
    if (entry === undefined) return -2;
    return entry.expiresAt;
  }

  // Milliseconds left: -2 no key, -1 no expiry (PTTL's answers).
  pttl(key: Buffer): number {
    const entry = this.live(toKey(key));
    if (entry === undefined) return -2;
    if (entry.expiresAt === PERSISTENT) return -1;
    return Math.max(0, entry.expiresAt - this.now());
  }

  // Seconds left, rounded to nearest as Redis's TTL does: (ms + 500) / 1000.
  ttl(key: Buffer): number {
    const ms = this.pttl(key);
    return ms < 0 ? ms : Math.floor((ms + 500) / 1000);
  }

  // Make key die at `at` (absolute ms). False if there is no key. A time
  // not in the future deletes the key now, as EXPIRE with a past time does.
  // The NX/XX/GT/LT conditions are the command's, with expireTime().
  setExpire(key: Buffer, at: number): boolean {
    const entry = this.live(toKey(key));
    if (entry === undefined) return false;
    if (at <= this.now()) {
      this.remove(entry, "delete");
      return true;
    }
    this.setDeadline(entry, at);
    this.emit("write", entry.key);
    return true;
  }

  // Remove key's expiry. False if there is no key or it had no expiry.
  persist(key: Buffer): boolean {
    const entry = this.live(toKey(key));
    if (entry === undefined || entry.expiresAt === PERSISTENT) return false;
    this.setDeadline(entry, PERSISTENT);
    this.emit("write", entry.key);
    return true;
  }

  // The active half of expiry, called from the loop's timer. See the
  // banner above for the algorithm and its numbers.
  activeExpireCycle(budgetMs = DEFAULT_EXPIRE_BUDGET_MS): ExpireStats {
    const stats: ExpireStats = { rounds: 0, sampled: 0, expired: 0, timedOut: false };
    const start = performance.now();
    while (this.expiring.length > 0) {
      stats.rounds++;
      const now = this.now();
      const n = Math.min(KEYS_PER_ROUND, this.expiring.length);
      let dead = 0;
      let ttlSum = 0;
      for (let i = 0; i < n && this.expiring.length > 0; i++) {
        const entry = this.expiring[Math.floor(this.random() * this.expiring.length)]!;
        if (now > entry.expiresAt) {
          this.remove(entry, "expire");
          dead++;
        } else {
          ttlSum += entry.expiresAt - now;
        }
      }
      stats.sampled += n;
      stats.expired += dead;
      if (dead < n) {
        const mean = ttlSum / (n - dead);
        this.avgTtlEstimate =
          this.avgTtlEstimate === 0
            ? mean
            : this.avgTtlEstimate + (mean - this.avgTtlEstimate) * AVG_TTL_WEIGHT;
      }
      if (dead * 100 <= n * ACCEPTABLE_STALE_PERCENT) break;
      if (stats.rounds % ROUNDS_PER_CLOCK_CHECK === 0 && performance.now() - start > budgetMs) {
        stats.timedOut = true;
        break;
      }
    }
    return stats;
  }

  /* ---------------------------- Iterating -------------------------------- */

  // Every live key accepted by match, for KEYS. match sees the stored form
  // (one character per byte), so a glob matcher over it is byte-exact.
  // O(keys): this is why Redis says not to run KEYS in production.
  keys(match: (key: Key) => boolean = () => true): Buffer[] {
    const found: Buffer[] = [];
    const now = this.now();
    for (const entry of this.dict.values()) {
      if (entry.expiresAt !== PERSISTENT && now > entry.expiresAt) {
        this.remove(entry, "expire"); // Deleting while iterating a Map is safe.
      } else if (match(entry.key)) {
        found.push(fromKey(entry.key));
      }
    }
    return found;
  }

  // One step of SCAN: look at up to `count` keys from `cursor` on, return
  // the ones `filter` accepts, and the cursor to continue from (0: done).
  // Start with cursor 0. COUNT is a hint in Redis too; filtering happens
  // after counting, so a call may return nothing and still not be done.
  // COUNT 0 or less is a syntax error at the command layer; here count is
  // at least 1.
  scan(
    cursor: number,
    count: number,
    filter?: (key: Key, type: TypeName) => boolean,
  ): [next: number, keys: Buffer[]] {
    const found: Buffer[] = [];
    const now = this.now();
    let i = this.firstSlotFrom(cursor);
    const wanted = Math.max(1, count);
    let seen = 0;
    // Holes do not count as keys, but like Redis (which stops after
    // COUNT*10 empty buckets) we bound them, so one call stays short.
    let visited = 0;
    while (i < this.slots.length && seen < wanted && visited < wanted * 10) {
      const entry = this.slots[i++];
      visited++;
      if (entry === undefined) continue;
      seen++;
      if (entry.expiresAt !== PERSISTENT && now > entry.expiresAt) {
        const birth = this.births[entry.slot]!;
        this.remove(entry, "expire"); // May compact: find our place again.
        i = this.firstSlotFrom(birth + 1);
        continue;
      }
      if (filter === undefined || filter(entry.key, entry.type)) found.push(fromKey(entry.key));
    }
    const next = i < this.slots.length ? this.births[i]! : 0;
    return [next, found];
  }

  // A random live key (RANDOMKEY), or undefined if there are none. Dead
  // keys met on the way are reclaimed. Like Redis, after 100 dead draws
  // it returns a dead key rather than loop for long.
  randomKey(): Buffer | undefined {
    for (let tries = 0; this.dict.size > 0; tries++) {
      const entry = this.slots[Math.floor(this.random() * this.slots.length)];
      if (entry === undefined) continue; // A hole: at most half the slots.
      if (entry.expiresAt === PERSISTENT || this.now() <= entry.expiresAt || tries >= 100) {
        return fromKey(entry.key);
      }
      this.remove(entry, "expire");
    }
    return undefined;
  }

  /* ---------------------------- Bookkeeping ------------------------------ */

  // The index of the first slot whose birth is >= cursor (binary search:
  // births only grow along the list).
  private firstSlotFrom(cursor: number): number {
    let lo = 0;
    let hi = this.births.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.births[mid]! < cursor) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // Give entry a new deadline (or PERSISTENT), keeping the sampling array
  // in step: in it exactly when it has a deadline.
  private setDeadline(entry: Entry, at: number): void {
    if (at === PERSISTENT && entry.ttlSlot >= 0) {
      const last = this.expiring.pop()!;
      if (last !== entry) {
        this.expiring[entry.ttlSlot] = last;
        last.ttlSlot = entry.ttlSlot;
      }
      entry.ttlSlot = -1;
    } else if (at !== PERSISTENT && entry.ttlSlot < 0) {
      entry.ttlSlot = this.expiring.length;
      this.expiring.push(entry);
    }
    entry.expiresAt = at;
  }

  // Take entry out of all three structures and tell the listeners (unless
  // event is null: RENAME announces its destination as one write).
  private remove(entry: Entry, event: KeyEvent | null): void {
    this.dict.delete(entry.key);
    this.setDeadline(entry, PERSISTENT);
    this.slots[entry.slot] = undefined;
    this.holes++;
    // Compact when holes outnumber keys: O(n) once per n/2 deletions, so
    // O(1) per deletion on average, and the list never exceeds twice the
    // keys. Small lists are left alone.
    if (this.holes > 64 && this.holes > this.slots.length / 2) this.compact();
    if (event !== null) this.emit(event, entry.key);
  }

  private compact(): void {
    const slots: Entry[] = [];
    const births: number[] = [];
    for (const entry of this.slots) {
      if (entry === undefined) continue;
      births.push(this.births[entry.slot]!);
      entry.slot = slots.length;
      slots.push(entry);
    }
    this.slots = slots;
    this.births = births;
    this.holes = 0;
  }
}
