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
// at random: an array, where a key's position is stored (in a second Map,
// from step 27 on) so it can leave in O(1) (the last element moves into
// its hole: swap-remove). Redis keeps the same pair of dictionaries,
// db->dict and db->expires.
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
// is overwritten), and we keep the keys in a list sorted by birth:
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
import { Stream } from "./stream.ts";

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

/* ============================ Entries =====================================
 * Step 27: a key costs what it holds, and little more. Until this step a
 * key was an entry object {key, type, value, expiresAt, slot, ttlSlot}
 * reached from the Map; in V8 (no pointer compression in Node) every field
 * of an object is 8 bytes and the object has 3 words of header, so the
 * entry alone was 72 bytes a key, a third of what a key cost in all. Now
 * there is no object per key, only slots in arrays:
 *
 * - The Map holds the key's slot, a small integer, which V8 keeps inside
 *   the Map's own table: no object.
 * - Arrays indexed by slot, in chunks (see Chunked), hold the key string
 *   (the same string the Map holds: one copy) and the value.
 * - The birth (see SCAN in the header) is counted, not stored, until a
 *   compaction makes the births of the slots it keeps irregular.
 * - The type is not stored: it is the value's class (a JS string or a
 *   Buffer is a string, a Stream a stream, a List a list).
 * - The deadline is stored only for keys that have one, in arrays of their
 *   own (Redis's db->expires), reached through a second Map; a key without
 *   expiry pays nothing for expiry.
 *
 * For `SET key:NNNNNNNNNNNN xxx` that is 119 bytes of heap a key where the
 * entry made it 197: the Map's entry and its share of the table (46), the
 * key string (32), the value string (24), two slots (16) and the unused
 * end of a chunk. A key with an expiry pays about 70 more, and a Map write
 * each time its deadline changes: Redis's trade too.
 *
 * lookup() still hands out a {type, value} pair: made for the occasion, a
 * few words of young garbage that a scavenge frees in bulk, where a stored
 * pair would live as long as its key (README.md has the numbers).
 * ======================================================================== */

// No expiry. Any negative number would do; Redis also uses -1.
const PERSISTENT = -1;

// A value as stored: what Types holds, but a small string is a latin1
// string (see Values).
type Stored = Types[TypeName] | string;

// The type of a stored value, from its class: strings first, the common
// case; a List is the one type left.
function typeOf(value: Stored): TypeName {
  if (typeof value === "string" || value instanceof Buffer) return "string";
  return value instanceof Stream ? "stream" : "list";
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

/* ============================ Chunked arrays ==============================
 * Step 27: a JS array that outgrows its storage gets a new one half as big
 * again and copies itself over. For the million-key arrays below that is
 * up to a third of the storage allocated and unused, and, right after a
 * growth, the old copy as well, dead but counted in RSS until the next
 * full collection. Here the slots are split in chunks of 64K. The first
 * grows as an array does, so a small keyspace stays small; the others are
 * allocated whole, so a growth copies nothing, and only the first chunk
 * and the last can have room to spare.
 * ======================================================================== */

const CHUNK_BITS = 16; // 65,536 slots, 512 KB when full.
const CHUNK_MASK = (1 << CHUNK_BITS) - 1;

class Chunked<T> {
  private chunks: (T | undefined)[][] = [];
  length = 0;

  get(i: number): T | undefined {
    return this.chunks[i >>> CHUNK_BITS]![i & CHUNK_MASK];
  }

  set(i: number, value: T | undefined): void {
    this.chunks[i >>> CHUNK_BITS]![i & CHUNK_MASK] = value;
  }

  push(value: T): void {
    const c = this.length >>> CHUNK_BITS;
    if (c === this.chunks.length) this.chunks.push(c === 0 ? [] : new Array(CHUNK_MASK + 1));
    // In the first chunk (or one truncate() shortened) this index is the
    // array's length: an ordinary append.
    this.set(this.length++, value);
  }

  // Drop the slots from `length` on (they were moved, or are holes).
  truncate(length: number): void {
    this.chunks.length = (length + CHUNK_MASK) >>> CHUNK_BITS;
    if ((length & CHUNK_MASK) !== 0) this.chunks.at(-1)!.length = length & CHUNK_MASK;
    this.length = length;
  }
}

/* ============================ The keyspace ================================ */

export class Db {
  // Key -> slot: every lookup starts here.
  private dict = new Map<Key, number>();
  // By slot, in birth order: the key and its value. A deleted key leaves
  // a hole (undefined key and value), so every key in the Map has one slot
  // and the holes are the slots over the Map's size. Compacted when holes
  // outnumber keys.
  private slotKeys = new Chunked<Key>();
  private values = new Chunked<Stored>();
  // The births of the slots that outlived a compaction: compaction keeps
  // them, so they can be any increasing numbers. The slots added since are
  // born one after the other from firstNewBirth, so their births are not
  // stored at all: a keyspace that was only ever added to (filled by SETs,
  // loaded from the AOF) stores none. See birthOf().
  private births: number[] = [];
  private firstNewBirth = 1;
  // The keys with an expiry, in no order, for sampling, and each one's
  // deadline at the same index; ttlIndex maps such a key to that index.
  private expiring: Key[] = [];
  private deadlines: number[] = [];
  private ttlIndex = new Map<Key, number>();
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
    [this.slotKeys, other.slotKeys] = [other.slotKeys, this.slotKeys];
    [this.values, other.values] = [other.values, this.values];
    [this.births, other.births] = [other.births, this.births];
    [this.firstNewBirth, other.firstNewBirth] = [other.firstNewBirth, this.firstNewBirth];
    [this.expiring, other.expiring] = [other.expiring, this.expiring];
    [this.deadlines, other.deadlines] = [other.deadlines, this.deadlines];
    [this.ttlIndex, other.ttlIndex] = [other.ttlIndex, this.ttlIndex];
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

  // The slot of a live key, or undefined. This is the lazy half of expiry:
  // a key past its deadline is deleted here, before anyone sees it.
  private live(key: Key): number | undefined {
    const slot = this.dict.get(key);
    if (slot === undefined) return undefined;
    if (this.isDead(key, this.now())) {
      this.remove(key, slot, "expire");
      return undefined;
    }
    return slot;
  }

  // Expired means now > deadline, as in Redis: at the exact millisecond
  // the key is still alive, with a PTTL of 0. With no key expiring, as in
  // a plain cache of SETs, this is one size check.
  private isDead(key: Key, now: number): boolean {
    if (this.ttlIndex.size === 0) return false;
    const i = this.ttlIndex.get(key);
    return i !== undefined && now > this.deadlines[i]!;
  }

  // When key dies (ms since the epoch), or PERSISTENT.
  private deadline(key: Key): number {
    const i = this.ttlIndex.get(key);
    return i === undefined ? PERSISTENT : this.deadlines[i]!;
  }

  // The value stored at key, with its type, or undefined. A small string
  // is handed out as a Buffer, made for the occasion.
  lookup(key: Buffer): Value | undefined {
    const slot = this.live(toKey(key));
    if (slot === undefined) return undefined;
    const value = this.values.get(slot)!;
    if (typeof value === "string") return { type: "string", value: Buffer.from(value, "latin1") };
    return { type: typeOf(value), value } as Value;
  }

  // The value at key if it has the given type, undefined if there is no
  // key; throws WrongTypeError if the key holds another type. What most
  // commands want: `const s = db.get(key, "string")`.
  get<T extends TypeName>(key: Buffer, type: T): Types[T] | undefined {
    const slot = this.live(toKey(key));
    if (slot === undefined) return undefined;
    const value = this.values.get(slot)!;
    if (typeOf(value) !== type) throw new WrongTypeError();
    return (typeof value === "string" ? Buffer.from(value, "latin1") : value) as Types[T];
  }

  // A string value as stored: a latin1 string or a Buffer (see Values).
  // For the commands that can use either (GET writes both into a reply).
  // undefined if there is no key; WRONGTYPE for another type, or with
  // `orNull`, undefined (MGET's rule).
  stringForm(key: Buffer, orNull = false): Buffer | string | undefined {
    const slot = this.live(toKey(key));
    if (slot === undefined) return undefined;
    const value = this.values.get(slot)!;
    if (typeOf(value) !== "string") {
      if (orNull) return undefined;
      throw new WrongTypeError();
    }
    return value as Buffer | string;
  }

  // What is stored at key, without reclaiming it if it is dead: WATCH
  // must look at a key without changing it (Redis's keyIsExpired()).
  peek(key: Key): "missing" | "live" | "expired" {
    if (!this.dict.has(key)) return "missing";
    return this.isDead(key, this.now()) ? "expired" : "live";
  }

  exists(key: Buffer): boolean {
    return this.live(toKey(key)) !== undefined;
  }

  type(key: Buffer): TypeName | "none" {
    const slot = this.live(toKey(key));
    return slot === undefined ? "none" : typeOf(this.values.get(slot)!);
  }

  /* ---------------------------- Writing ---------------------------------- */

  // Store a value at key, replacing whatever was there (of any type: SET
  // may overwrite a list). The key loses its expiry unless keepTtl, or gets
  // options.expiresAt; an expiry already in the past deletes the key
  // instead (SET ... EXAT <past> answers OK and leaves nothing).
  set(key: Buffer, value: Value, options?: SetOptions): void {
    this.store(toKey(key), value.value, options);
  }

  // Shorthand for the string commands. `bytes` is kept as it is: a
  // Buffer the Db may own, or a latin1 string (see storedString()).
  setString(key: Buffer, bytes: Buffer | string, options?: SetOptions): void {
    this.store(toKey(key), bytes, options);
  }

  private store(k: Key, value: Stored, options?: SetOptions): void {
    const expiresAt = options?.expiresAt;
    // live(), not dict.get(): a dead key is reclaimed first, as Redis's
    // lookupKeyWrite does, so KEEPTTL cannot keep a deadline already past.
    const slot = this.live(k);
    if (expiresAt !== undefined && expiresAt <= this.now()) {
      // Redis writes the key and finds it born dead: WATCH sees a write
      // even where there was no key before.
      if (slot !== undefined) this.remove(k, slot, "delete");
      else this.emit("write", k);
      return;
    }
    // The key as its slot holds it: the expiry Map then shares that string
    // rather than keep k, a copy made for this command (32 bytes a key:NNN).
    let held = k;
    if (slot === undefined) {
      this.dict.set(k, this.slotKeys.length);
      this.slotKeys.push(k);
      this.values.push(value);
    } else {
      // An overwrite keeps the slot and so its birth: SCAN still owes it.
      this.values.set(slot, value);
      held = this.slotKeys.get(slot)!;
      if (expiresAt === undefined && !options?.keepTtl) this.setDeadline(k, PERSISTENT);
    }
    if (expiresAt !== undefined) this.setDeadline(held, expiresAt);
    this.emit("write", k);
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
    const k = toKey(key);
    const slot = this.live(k);
    if (slot === undefined) return false;
    this.remove(k, slot, "delete");
    return true;
  }

  // Move the value and expiry of src to dst, replacing dst. False if src
  // does not exist (RENAME answers "ERR no such key"). Renaming a key onto
  // itself changes nothing. dst is a new key for SCAN: it was born now.
  rename(src: Buffer, dst: Buffer): boolean {
    const from = toKey(src);
    const slot = this.live(from);
    if (slot === undefined) return false;
    const to = toKey(dst);
    if (to === from) return true;
    const value = this.values.get(slot)!;
    const at = this.deadline(from);
    this.remove(from, slot, "delete");
    const old = this.dict.get(to);
    // Remove dst rather than overwrite it, so it gets a new birth.
    if (old !== undefined) this.remove(to, old, null);
    this.store(to, value);
    if (at !== PERSISTENT) this.setDeadline(to, at);
    return true;
  }

  // Drop every key (FLUSHALL, FLUSHDB). Listeners hear "flush" first.
  flush(): void {
    this.emit("flush", null);
    this.firstNewBirth = this.birthOf(this.slotKeys.length); // Births never repeat.
    this.dict.clear();
    this.slotKeys = new Chunked();
    this.values = new Chunked();
    this.births = [];
    this.expiring = [];
    this.deadlines = [];
    this.ttlIndex.clear();
    this.avgTtlEstimate = 0;
  }

  /* ---------------------------- Expiry ----------------------------------- */

  // When key dies, in ms since the epoch: -2 if there is no key, -1 if it
  // never does (the answers of PEXPIRETIME).
  expireTime(key: Buffer): number {
    const k = toKey(key);
    return this.live(k) === undefined ? -2 : this.deadline(k);
  }

  // Milliseconds left: -2 no key, -1 no expiry (PTTL's answers).
  pttl(key: Buffer): number {
    const at = this.expireTime(key);
    return at < 0 ? at : Math.max(0, at - this.now());
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
    const k = toKey(key);
    const slot = this.live(k);
    if (slot === undefined) return false;
    if (at <= this.now()) {
      this.remove(k, slot, "delete");
      return true;
    }
    this.setDeadline(this.slotKeys.get(slot)!, at); // Shared, as in store().
    this.emit("write", k);
    return true;
  }

  // Remove key's expiry. False if there is no key or it had no expiry.
  persist(key: Buffer): boolean {
    const k = toKey(key);
    if (this.live(k) === undefined || this.deadline(k) === PERSISTENT) return false;
    this.setDeadline(k, PERSISTENT);
    this.emit("write", k);
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
        const j = Math.floor(this.random() * this.expiring.length);
        const at = this.deadlines[j]!;
        if (now > at) {
          const key = this.expiring[j]!;
          this.remove(key, this.dict.get(key)!, "expire");
          dead++;
        } else {
          ttlSum += at - now;
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
    // Deleting while iterating a Map is safe; compaction only renumbers.
    for (const [key, slot] of this.dict) {
      if (this.isDead(key, now)) this.remove(key, slot, "expire");
      else if (match(key)) found.push(fromKey(key));
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
    while (i < this.slotKeys.length && seen < wanted && visited < wanted * 10) {
      const slot = i++;
      const key = this.slotKeys.get(slot);
      visited++;
      if (key === undefined) continue;
      seen++;
      if (this.isDead(key, now)) {
        const birth = this.birthOf(slot);
        this.remove(key, slot, "expire"); // May compact: find our place again.
        i = this.firstSlotFrom(birth + 1);
        continue;
      }
      if (filter === undefined || filter(key, typeOf(this.values.get(slot)!)))
        found.push(fromKey(key));
    }
    const next = i < this.slotKeys.length ? this.birthOf(i) : 0;
    return [next, found];
  }

  // A random live key (RANDOMKEY), or undefined if there are none. Dead
  // keys met on the way are reclaimed. Like Redis, after 100 dead draws
  // it returns a dead key rather than loop for long.
  randomKey(): Buffer | undefined {
    for (let tries = 0; this.dict.size > 0; tries++) {
      const slot = Math.floor(this.random() * this.slotKeys.length);
      const key = this.slotKeys.get(slot);
      if (key === undefined) continue; // A hole: at most half the slots.
      if (tries >= 100 || !this.isDead(key, this.now())) return fromKey(key);
      this.remove(key, slot, "expire");
    }
    return undefined;
  }

  /* ---------------------------- Bookkeeping ------------------------------ */

  // The birth number of a slot (see births). Called with the slot count,
  // it is the birth the next new key will get.
  private birthOf(slot: number): number {
    const stored = this.births.length;
    return slot < stored ? this.births[slot]! : this.firstNewBirth + (slot - stored);
  }

  // The index of the first slot whose birth is >= cursor: counted from
  // firstNewBirth among the new slots, else a binary search of the stored
  // births (births only grow along the list).
  private firstSlotFrom(cursor: number): number {
    if (cursor >= this.firstNewBirth) {
      return Math.min(this.births.length + (cursor - this.firstNewBirth), this.slotKeys.length);
    }
    let lo = 0;
    let hi = this.births.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.births[mid]! < cursor) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // Give key a new deadline (or PERSISTENT), keeping the expiry arrays in
  // step: the key is in them exactly when it has a deadline, and leaves
  // in O(1) (the last one moves into its place: swap-remove).
  private setDeadline(key: Key, at: number): void {
    const i = this.ttlIndex.get(key);
    if (at !== PERSISTENT) {
      if (i !== undefined) {
        this.deadlines[i] = at;
      } else {
        this.ttlIndex.set(key, this.expiring.length);
        this.expiring.push(key);
        this.deadlines.push(at);
      }
    } else if (i !== undefined) {
      const n = this.expiring.length - 1;
      if (i < n) {
        const last = this.expiring[n]!;
        this.expiring[i] = last;
        this.deadlines[i] = this.deadlines[n]!;
        this.ttlIndex.set(last, i);
      }
      // Shortened by `length`, not pop(): V8 gives the memory back when an
      // array falls under half its capacity only on this path.
      this.expiring.length = n;
      this.deadlines.length = n;
      this.ttlIndex.delete(key);
    }
  }

  // Take key out of every structure and tell the listeners (unless event
  // is null: RENAME announces its destination as one write).
  private remove(key: Key, slot: number, event: KeyEvent | null): void {
    this.dict.delete(key);
    if (this.ttlIndex.size > 0) this.setDeadline(key, PERSISTENT);
    this.slotKeys.set(slot, undefined);
    this.values.set(slot, undefined);
    // Compact when holes outnumber keys: O(n) once per n/2 deletions, so
    // O(1) per deletion on average, and the list never exceeds twice the
    // keys. Small lists are left alone.
    const holes = this.slotKeys.length - this.dict.size;
    if (holes > 64 && holes > this.slotKeys.length / 2) this.compact();
    if (event !== null) this.emit(event, key);
  }

  // Slide the keys down over the holes, in place, keeping their births
  // (now all stored), and tell the Map each key's new slot.
  private compact(): void {
    const length = this.slotKeys.length;
    const stored = this.births.length;
    const next = this.birthOf(length);
    let to = 0;
    for (let from = 0; from < length; from++) {
      const key = this.slotKeys.get(from);
      if (key === undefined) continue;
      this.slotKeys.set(to, key);
      this.values.set(to, this.values.get(from));
      // Written at an index never past the array's end, so it stays packed.
      this.births[to] = from < stored ? this.births[from]! : next - (length - from);
      this.dict.set(key, to);
      to++;
    }
    this.slotKeys.truncate(to);
    this.values.truncate(to);
    this.births.length = to;
    this.firstNewBirth = next;
  }
}
