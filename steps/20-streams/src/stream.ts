// stream.ts -- the stream type: an append-only log with time-based IDs.
//
// A stream is a log: every XADD appends an entry (a few field/value pairs)
// under an ID that only ever grows, readers ask for a range of IDs ("what
// came after the last ID I saw?" is XRANGE s (<that id> +), and nothing
// is consumed by reading.
//
// An ID is "<ms>-<seq>": a Unix time in milliseconds and a sequence number
// for entries added in the same millisecond, both unsigned 64-bit. JS
// numbers are exact only up to 2^53, so 18446744073709551615-0 would
// silently become ...616: IDs here are pairs of BigInts, compared exactly.
//
// The entries live in one array in ID order, with a `head` offset: appending
// is a push (O(1)), finding an ID is a binary search (O(log n)), and
// trimming old entries moves `head` forward instead of shifting the array.
// XDEL in the middle leaves a tombstone (the entry stays, marked deleted,
// so the array stays sorted and searchable); when tombstones and the dead
// prefix outnumber the live entries, one pass compacts the array, which
// keeps every operation amortized O(1) or O(log n).
//
// What Redis does (src/t_stream.c, src/stream.h): a radix tree keyed by
// 128-bit big-endian IDs whose leaves are listpacks, compact blobs of up to
// 100 entries (stream-node-max-entries) or 4 KB (stream-node-max-bytes),
// with IDs and repeated field names delta-encoded against each node's first
// entry. It saves a lot of memory; deleted entries are flagged inside their
// listpack, and a node goes away when its last live entry does.
//
// Approximate trimming (MAXLEN ~ / MINID ~) is defined by those nodes:
// Redis only drops whole nodes from the head, so it may keep more entries
// than asked. To answer XLEN exactly as Redis does, we remember which
// "node" each entry would sit in: a node closes when it has held 100
// entries (live plus deleted), and disappears when its last live entry is
// deleted. One difference remains, documented rather than emulated: Redis
// also closes a node at 4096 bytes, so with entries larger than about 40
// bytes its nodes are smaller and `~` trims more finely than ours.
//
// Everything here is pure: no keys, no replies. Errors are thrown as
// StreamError carrying the exact error line Redis sends; "nothing there"
// is an ordinary return value (undefined, [], null).

/* ================================== IDs ==================================
 * The ID helpers: compare, step, format and parse, with the parse rules of
 * each command context.
 * ======================================================================== */

export const U64_MAX = (1n << 64n) - 1n;

export interface StreamId {
  readonly ms: bigint;
  readonly seq: bigint;
}

export const MIN_ID: StreamId = { ms: 0n, seq: 0n };
export const MAX_ID: StreamId = { ms: U64_MAX, seq: U64_MAX };

export function compareIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

export function formatId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

export function isZeroId(id: StreamId): boolean {
  return id.ms === 0n && id.seq === 0n;
}

// The next ID, or null when id is the last possible one (Redis wraps to 0-0
// and reports an error; every caller here needs the error).
export function incrId(id: StreamId): StreamId | null {
  if (id.seq < U64_MAX) return { ms: id.ms, seq: id.seq + 1n };
  if (id.ms < U64_MAX) return { ms: id.ms + 1n, seq: 0n };
  return null;
}

export function decrId(id: StreamId): StreamId | null {
  if (id.seq > 0n) return { ms: id.ms, seq: id.seq - 1n };
  if (id.ms > 0n) return { ms: id.ms - 1n, seq: U64_MAX };
  return null;
}

// A number as Redis's string2ull() reads it. Canonical integers ("0",
// "42") are taken as they are and negatives refused; anything else goes to
// C's strtoull(), which also accepts leading white space, a "+", leading
// zeros and even a "-" (it negates modulo 2^64: "-18446744073709551615" is
// 1). Redis 7.0.15 really answers XADD s 1--18446744073709551615 with 1-1.
const CANONICAL_INT = /^(0|-?[1-9][0-9]*)$/;
const STRTOULL = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/;

function parseU64(s: string): bigint | null {
  if (CANONICAL_INT.test(s) && s.length <= 20) {
    const v = BigInt(s);
    // string2ll only covers the signed 64-bit range; bigger canonical
    // numbers fall through to strtoull below, with the same result.
    if (v >= -(1n << 63n) && v < 1n << 63n) return v < 0n ? null : v;
  }
  const m = STRTOULL.exec(s);
  if (!m) return null;
  const v = BigInt(m[2]!);
  if (v > U64_MAX) return null; // ERANGE
  return m[1] === "-" ? -v & U64_MAX : v;
}

// The core of Redis's streamGenericParseIDOrReply(): "<ms>" or
// "<ms>-<seq>" (the first "-" splits), missing seq filled in by the caller's
// rule. `strict` refuses "-" and "+"; `seqStar` accepts "<ms>-*".
function parseIdCore(
  arg: string,
  missingSeq: bigint,
  strict: boolean,
  seqStar: boolean,
): { id: StreamId; seqGiven: boolean } {
  if (arg.length > 127) throw StreamError.invalidId();
  if (arg === "-" || arg === "+") {
    if (strict) throw StreamError.invalidId();
    return { id: arg === "-" ? MIN_ID : MAX_ID, seqGiven: true };
  }
  const dash = arg.indexOf("-");
  const ms = parseU64(dash < 0 ? arg : arg.slice(0, dash));
  if (ms === null) throw StreamError.invalidId();
  if (dash < 0) return { id: { ms, seq: missingSeq }, seqGiven: true };
  const rest = arg.slice(dash + 1);
  if (seqStar && rest === "*") return { id: { ms, seq: 0n }, seqGiven: false };
  const seq = parseU64(rest);
  if (seq === null) throw StreamError.invalidId();
  return { id: { ms, seq }, seqGiven: true };
}

// The ID argument of XADD: "*", "<ms>-*", or an explicit ID ("<ms>" alone
// means <ms>-0). Whether it is acceptable (not 0-0, greater than the top)
// is checked by Stream.add, because that depends on the stream.
export type XaddId =
  | { kind: "auto" }
  | { kind: "auto-seq"; ms: bigint }
  | { kind: "explicit"; id: StreamId };

export function parseXaddId(arg: string): XaddId {
  if (arg === "*") return { kind: "auto" };
  const { id, seqGiven } = parseIdCore(arg, 0n, true, true);
  return seqGiven ? { kind: "explicit", id } : { kind: "auto-seq", ms: id.ms };
}

// An ID that must be a real ID, "-" and "+" refused, "<ms>" meaning
// <ms>-0: XDEL and MINID.
export function parseStrictId(arg: string): StreamId {
  return parseIdCore(arg, 0n, true, false).id;
}

// XRANGE/XREVRANGE bounds. "-" is 0-0 and "+" the
// largest ID; an incomplete "<ms>" is <ms>-0 as a start and
// <ms>-18446744073709551615 as an end, so XRANGE s 5 5 is all of
// millisecond 5; "(" makes the bound exclusive (it is stepped by one, and
// "(" cannot be combined with "-" or "+").
export function parseRangeStart(arg: string): StreamId {
  return parseBound(arg, 0n, true);
}

export function parseRangeEnd(arg: string): StreamId {
  return parseBound(arg, U64_MAX, false);
}

function parseBound(arg: string, missingSeq: bigint, isStart: boolean): StreamId {
  if (arg.length > 1 && arg[0] === "(") {
    const id = parseIdCore(arg.slice(1), missingSeq, true, false).id;
    const stepped = isStart ? incrId(id) : decrId(id);
    if (!stepped) {
      throw new StreamError(`ERR invalid ${isStart ? "start" : "end"} ID for the interval`);
    }
    return stepped;
  }
  return parseIdCore(arg, missingSeq, false, false).id;
}

/* ================================ Errors ================================
 * `reply` is the error line exactly as Redis 7 sends it, without the "-".
 * ======================================================================== */

export class StreamError extends Error {
  constructor(readonly reply: string) {
    super(reply);
    this.name = "StreamError";
  }

  static invalidId(): StreamError {
    return new StreamError("ERR Invalid stream ID specified as stream command argument");
  }
}

/* ============================== Entries ============================== */

// One entry as readers see it: the ID and the flat [f1, v1, f2, v2...] list.
export interface StreamEntry {
  readonly id: StreamId;
  readonly fields: readonly Buffer[];
}

// The listpack a Redis stream would have put an entry in (see the header).
interface Node {
  live: number; // entries not deleted
  total: number; // entries ever appended to it, deleted ones included
  lastId: StreamId; // its last entry, deleted or not
  removed: boolean;
}

interface Slot extends StreamEntry {
  deleted: boolean;
  readonly node: Node;
}

// MAXLEN [=|~] n or MINID [=|~] id, with LIMIT (only meaningful with ~;
// the command layer refuses LIMIT without ~, as Redis does). Without LIMIT
// an approximate trim stops after 100 nodes' worth of entries, Redis's
// default; LIMIT 0 means no limit.
export type TrimSpec =
  | { strategy: "maxlen"; maxlen: number; approx: boolean; limit?: number }
  | { strategy: "minid"; minid: StreamId; approx: boolean; limit?: number };

export interface StreamOptions {
  // Milliseconds since the epoch; tests inject a fake one. Used for "*" IDs.
  clock?: () => number;
  // Redis's stream-node-max-entries (default 100): the node size that
  // approximate trimming works in.
  nodeMaxEntries?: number;
}

/* ================================ The stream ================================ */

export class Stream {
  readonly clock: () => number;
  private readonly nodeMaxEntries: number;

  private slots: (Slot | undefined)[] = [];
  private head = 0; // slots before it are gone for good
  private tombstones = 0; // deleted slots at or after head
  private tailNode: Node | null = null;

  private len = 0;
  private last: StreamId = MIN_ID;
  private first: StreamId = MIN_ID;
  private maxDeleted: StreamId = MIN_ID;
  private added = 0;

  constructor(opts: StreamOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.nodeMaxEntries = opts.nodeMaxEntries ?? 100;
  }

  get length(): number {
    return this.len;
  }

  // The last ID ever generated ("last-generated-id"), even if that entry was
  // deleted since: new IDs must stay above it.
  get lastId(): StreamId {
    return this.last;
  }

  get maxDeletedId(): StreamId {
    return this.maxDeleted;
  }

  get entriesAdded(): number {
    return this.added;
  }

  // "recorded-first-entry-id": the first live entry, 0-0 when empty.
  get firstId(): StreamId {
    return this.first;
  }

  /* ------------------------------ Appending ------------------------------ */

  // XADD: append an entry (fields is [f1, v1, ...], at least one pair) and
  // return its ID; then trim if asked, as XADD's MAXLEN/MINID do (the new
  // entry itself may be trimmed: XADD s MAXLEN 0 * f v leaves an empty
  // stream). Throws, leaving the stream untouched, when the ID is not
  // acceptable. A command creating a new key must not store the key if
  // this throws: Redis checks 0-0 before it creates anything.
  add(idSpec: XaddId, fields: readonly Buffer[], trim?: TrimSpec): StreamId {
    if (idSpec.kind === "explicit" && isZeroId(idSpec.id)) {
      throw new StreamError("ERR The ID specified in XADD must be greater than 0-0");
    }
    if (compareIds(this.last, MAX_ID) === 0) {
      throw new StreamError(
        "ERR The stream has exhausted the last possible ID, unable to add more items",
      );
    }
    const id = this.nextId(idSpec);
    if (compareIds(id, this.last) <= 0) {
      throw new StreamError(
        "ERR The ID specified in XADD is equal or smaller than the target stream top item",
      );
    }

    let node = this.tailNode;
    if (!node || node.total >= this.nodeMaxEntries) {
      node = { live: 0, total: 0, lastId: id, removed: false };
      this.tailNode = node;
    }
    node.live++;
    node.total++;
    node.lastId = id;
    this.slots.push({ id, fields: [...fields], deleted: false, node });
    this.len++;
    this.added++;
    this.last = id;
    if (this.len === 1) this.first = id;
    if (trim) this.trim(trim);
    return id;
  }

  private nextId(spec: XaddId): StreamId {
    if (spec.kind === "explicit") return spec.id;
    if (spec.kind === "auto-seq") {
      if (spec.ms !== this.last.ms) return { ms: spec.ms, seq: 0n };
      // Same millisecond as the top: the next sequence. When it is
      // exhausted Redis 7.0 fails with a stale errno and so sends this
      // (odd, but observed) text.
      if (this.last.seq === U64_MAX)
        throw new StreamError("ERR Elements are too large to be stored");
      return { ms: spec.ms, seq: this.last.seq + 1n };
    }
    // "*": the clock's millisecond, unless the clock has not moved past the
    // last ID (same millisecond, or a clock that went backwards): then the
    // last ID plus one, so IDs keep growing whatever the clock does.
    const now = BigInt(Math.max(0, Math.floor(this.clock())));
    if (now > this.last.ms) return { ms: now, seq: 0n };
    return incrId(this.last) ?? MIN_ID; // MIN_ID fails the "greater" check
  }

  /* ------------------------------ Finding ------------------------------ */

  // First slot index >= head whose ID is >= id (binary search; tombstones
  // keep their IDs, so the array stays sorted).
  private lowerBound(id: StreamId): number {
    let lo = this.head;
    let hi = this.slots.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIds(this.slots[mid]!.id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private find(id: StreamId): Slot | undefined {
    const s = this.slots[this.lowerBound(id)];
    return s && !s.deleted && compareIds(s.id, id) === 0 ? s : undefined;
  }

  get(id: StreamId): StreamEntry | undefined {
    const s = this.find(id);
    return s && entryOf(s);
  }

  has(id: StreamId): boolean {
    return this.find(id) !== undefined;
  }

  // XRANGE start end [COUNT n] (rev = XREVRANGE, newest first). Both ends
  // inclusive; count 0 or undefined means all (XRANGE's own "COUNT 0 is a
  // nil reply" rule belongs to the command layer).
  range(start: StreamId, end: StreamId, count = 0, rev = false): StreamEntry[] {
    const out: StreamEntry[] = [];
    if (compareIds(start, end) > 0) return out;
    if (!rev) {
      for (let i = this.lowerBound(start); i < this.slots.length; i++) {
        const s = this.slots[i]!;
        if (compareIds(s.id, end) > 0) break;
        if (s.deleted) continue;
        out.push(entryOf(s));
        if (count && out.length >= count) break;
      }
    } else {
      const after = incrId(end);
      const top = after ? this.lowerBound(after) : this.slots.length;
      for (let i = top - 1; i >= this.head; i--) {
        const s = this.slots[i]!;
        if (compareIds(s.id, start) < 0) break;
        if (s.deleted) continue;
        out.push(entryOf(s));
        if (count && out.length >= count) break;
      }
    }
    return out;
  }

  // The last live entry's ID (undefined when empty). Not lastId: the top
  // entry may have been deleted.
  lastEntryId(): StreamId | undefined {
    for (let i = this.slots.length - 1; i >= this.head; i--) {
      const s = this.slots[i]!;
      if (!s.deleted) return s.id;
    }
    return undefined;
  }

  private firstLiveId(): StreamId {
    for (let i = this.head; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (!s.deleted) return s.id;
    }
    return MIN_ID;
  }

  /* ------------------------------ Deleting ------------------------------ */

  private markDeleted(s: Slot): void {
    s.deleted = true;
    this.tombstones++;
    this.len--;
    s.node.live--;
  }

  // XDEL id...: returns how many existed. Deleted IDs vanish from every
  // range; lastId and entriesAdded are unchanged, maxDeletedId grows.
  delete(ids: readonly StreamId[]): number {
    let deleted = 0;
    let firstGone = false;
    for (const id of ids) {
      const s = this.find(id);
      if (!s) continue;
      this.markDeleted(s);
      // A node whose last live entry goes is freed at once in Redis; if it
      // was the tail, the next XADD starts a new node.
      if (s.node.live === 0) this.removeNode(s.node);
      if (compareIds(id, this.first) === 0) firstGone = true;
      if (compareIds(id, this.maxDeleted) > 0) this.maxDeleted = id;
      deleted++;
    }
    if (deleted) {
      if (this.len === 0) this.first = MIN_ID;
      else if (firstGone) this.first = this.firstLiveId();
      this.dropDeadPrefix();
      this.compactIfSparse();
    }
    return deleted;
  }

  private removeNode(node: Node): void {
    node.removed = true;
    if (node === this.tailNode) this.tailNode = null;
  }

  // Forget slots at the head that belong to removed nodes: they are gone in
  // Redis too, and moving head is what makes trimming cheap.
  private dropDeadPrefix(): void {
    while (this.head < this.slots.length && this.slots[this.head]!.node.removed) {
      if (this.slots[this.head]!.deleted) this.tombstones--;
      this.slots[this.head] = undefined;
      this.head++;
    }
  }

  // Copy the live part to a fresh array when the dead prefix and the
  // tombstones outweigh the live entries: O(n) now and then, so O(1)
  // amortized per deletion. Dropping tombstones loses nothing: each Node
  // keeps its own live and total counts.
  private compactIfSparse(): void {
    const dead = this.head + this.tombstones;
    if (dead < 1024 || dead < this.len) return;
    const live: Slot[] = [];
    for (let i = this.head; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (!s.deleted) live.push(s);
    }
    this.slots = live;
    this.head = 0;
    this.tombstones = 0;
  }

  /* ------------------------------ Trimming ------------------------------ */

  // XTRIM, or the trimming half of XADD. Returns how many entries went.
  // Exact trimming (=) removes whole nodes while it can, then deletes
  // entries one by one in the first remaining node; approximate trimming
  // (~) stops at the first node it cannot drop whole, and both stop before
  // a node that would take the count past LIMIT. That is Redis's streamTrim.
  trim(spec: TrimSpec): number {
    let limit = 0;
    if (spec.approx) {
      limit = spec.limit ?? 100 * this.nodeMaxEntries;
      if (spec.limit === undefined && limit <= 0) limit = 10000;
      if (spec.limit === undefined && limit > 1000000) limit = 1000000;
    }
    let deleted = 0;
    while (this.head < this.slots.length) {
      if (spec.strategy === "maxlen" && this.len <= spec.maxlen) break;
      const node = this.slots[this.head]!.node;
      if (limit && deleted + node.live > limit) break;
      const wholeNode =
        spec.strategy === "maxlen"
          ? this.len - node.live >= spec.maxlen
          : compareIds(node.lastId, spec.minid) < 0;
      if (wholeNode) {
        deleted += node.live;
        this.len -= node.live;
        node.live = 0;
        this.removeNode(node);
        this.dropDeadPrefix();
        continue;
      }
      if (spec.approx) break;
      for (let i = this.head; i < this.slots.length; i++) {
        const s = this.slots[i]!;
        if (s.node !== node) break;
        const stop =
          spec.strategy === "maxlen" ? this.len <= spec.maxlen : compareIds(s.id, spec.minid) >= 0;
        if (stop) break;
        if (!s.deleted) {
          this.markDeleted(s);
          deleted++;
        }
      }
      break;
    }
    if (this.len === 0) this.first = MIN_ID;
    else if (deleted) this.first = this.firstLiveId();
    this.compactIfSparse();
    return deleted;
  }
}

function entryOf(s: Slot): StreamEntry {
  return { id: s.id, fields: s.fields };
}
