// db.ts -- the keyspace: binary-safe keys mapped to typed values.
//
// A Redis is one big dictionary. Step 03 kept clients in a Map so that
// finding one costs the same with ten or ten thousand; this file does the
// same for data. A key maps to an entry: a type ("string" now; lists and
// streams come in later steps) and the value. Only the command layer speaks
// RESP: here we return plain values, and the one error we throw (WRONGTYPE)
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
// Naive on purpose: a key lives until someone deletes it; nothing here
// knows about time. Step 17 fixes this.
//
// Every change is announced through one hook: onKeyEvent(listener). The
// server registers one listener per feature that cares (step 19's blocked
// clients wait for a key to become ready, step 24's WATCH wants to know a
// key was touched), and each is one line there.

/* ============================ Keys ========================================
 * The command layer gets arguments as Buffers; these two functions are the
 * only place where bytes become Map keys and back.
 * ======================================================================== */

// A key as stored: one character per byte (see the header).
export type Key = string;

export function toKey(bytes: Buffer): Key {
  return bytes.toString("latin1");
}

export function fromKey(key: Key): Buffer {
  return Buffer.from(key, "latin1");
}

/* ============================ Values ======================================
 * Each type a key can hold, by the name TYPE answers. A step that adds a
 * type adds one line here (e.g. `list: List;`) and everything below,
 * TYPE and WRONGTYPE included, follows.
 * ======================================================================== */

export interface Types {
  string: Buffer;
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
 * - "write": created, overwritten, changed in place (see modified()), or the
 *   destination of a RENAME. Fired after.
 * - "delete": removed by a command (DEL, RENAME's source). Fired after.
 * - "flush": every key is about to go (FLUSHALL/FLUSHDB). Fired once, with
 *   key null, *before* the keys are dropped: WATCH must know whether a
 *   watched key existed, and a million events would be a million calls.
 * A change that changes nothing (DEL of a missing key) fires nothing:
 * Redis's WATCH ignores those too.
 * Listeners run in the middle of a command: they should note the key and
 * act after the command, as Redis's signalKeyAsReady() only queues the key
 * for handleClientsBlockedOnKeys(). Writing to the Db from a listener would
 * interleave with the write being announced.
 * ======================================================================== */

export type KeyEvent = "write" | "delete" | "flush";
export type KeyListener = (event: KeyEvent, key: Key | null) => void;

/* ============================ Entries ===================================== */

// An entry is a Value plus its key. lookup() hands the entry itself out
// typed as a Value, so a GET allocates nothing.
interface Entry {
  readonly key: Key;
  type: TypeName;
  value: Types[TypeName];
}

export interface DbOptions {
  id?: number; // The database's number; 0 by default.
}

/* ============================ The keyspace ================================ */

export class Db {
  // Key -> entry: every lookup starts here.
  private dict = new Map<Key, Entry>();
  private listeners: KeyListener[] = [];

  readonly id: number; // Its number, for SELECT: 0 to databases-1.

  constructor(options: DbOptions = {}) {
    this.id = options.id ?? 0;
  }

  // SWAPDB: trade every key with `other`. The two keep their numbers and
  // their listeners, so a client that SELECTed 1 sees the other keys at
  // once, as in Redis. Listeners hear a "flush" before and after: any key
  // may have changed.
  swapWith(other: Db): void {
    this.emit("flush", null);
    other.emit("flush", null);
    [this.dict, other.dict] = [other.dict, this.dict];
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

  // Keys stored (DBSIZE).
  get size(): number {
    return this.dict.size;
  }

  /* ---------------------------- Reading ---------------------------------- */

  // The entry for a key, or undefined. Every read and write below finds
  // its key here: the one place where step 17 will check a key's deadline.
  private live(key: Key): Entry | undefined {
    return this.dict.get(key);
  }

  // The value stored at key, with its type, or undefined.
  lookup(key: Buffer): Value | undefined {
    return this.live(toKey(key)) as Value | undefined;
  }

  // The value at key if it has the given type, undefined if there is no
  // key; throws WrongTypeError if the key holds another type. What most
  // commands want: `const s = db.get(key, "string")`.
  get<T extends TypeName>(key: Buffer, type: T): Types[T] | undefined {
    const entry = this.live(toKey(key));
    if (entry === undefined) return undefined;
    if (entry.type !== type) throw new WrongTypeError();
    return entry.value as Types[T];
  }

  exists(key: Buffer): boolean {
    return this.live(toKey(key)) !== undefined;
  }

  type(key: Buffer): TypeName | "none" {
    return this.live(toKey(key))?.type ?? "none";
  }

  /* ---------------------------- Writing ---------------------------------- */

  // Store a value at key, replacing whatever was there (of any type: SET
  // may overwrite a list).
  set(key: Buffer, value: Value): void {
    const k = toKey(key);
    let entry = this.live(k);
    if (entry === undefined) {
      entry = { key: k, type: value.type, value: value.value };
      this.dict.set(k, entry);
    } else {
      entry.type = value.type;
      entry.value = value.value;
    }
    this.emit("write", k);
  }

  // Shorthand for the string commands.
  setString(key: Buffer, bytes: Buffer): void {
    this.set(key, { type: "string", value: bytes });
  }

  // Announce that the value at key was changed in place (a list pushed to,
  // a stream appended to), for the listeners: Redis's signalModifiedKey().
  // set() and the other writers here announce by themselves.
  modified(key: Buffer): void {
    this.emit("write", toKey(key));
  }

  // Delete key; false if there was no key.
  delete(key: Buffer): boolean {
    const entry = this.live(toKey(key));
    if (entry === undefined) return false;
    this.remove(entry, "delete");
    return true;
  }

  // Move the value of src to dst, replacing dst. False if src does not
  // exist (RENAME answers "ERR no such key"). Renaming a key onto itself
  // changes nothing.
  rename(src: Buffer, dst: Buffer): boolean {
    const from = this.live(toKey(src));
    if (from === undefined) return false;
    const to = toKey(dst);
    if (to === from.key) return true;
    const { type, value } = from;
    this.remove(from, "delete");
    this.set(dst, { type, value } as Value);
    return true;
  }

  // Drop every key (FLUSHALL, FLUSHDB). Listeners hear "flush" first.
  flush(): void {
    this.emit("flush", null);
    this.dict.clear();
  }

  /* ---------------------------- Iterating -------------------------------- */

  // Every key accepted by match, for KEYS. match sees the stored form
  // (one character per byte), so a glob matcher over it is byte-exact.
  // O(keys): this is why Redis says not to run KEYS in production.
  keys(match: (key: Key) => boolean = () => true): Buffer[] {
    const found: Buffer[] = [];
    for (const entry of this.dict.values()) {
      if (match(entry.key)) found.push(fromKey(entry.key));
    }
    return found;
  }

  /* ---------------------------- Bookkeeping ------------------------------ */

  // Take entry out of the keyspace and tell the listeners.
  private remove(entry: Entry, event: KeyEvent): void {
    this.dict.delete(entry.key);
    this.emit(event, entry.key);
  }
}
