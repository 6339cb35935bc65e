// stream.ts -- the stream type: an append-only log with time-based IDs and consumer groups.
//
// A stream is a log: every XADD appends an entry (a few field/value pairs)
// under an ID that only ever grows, readers ask "what came after the last
// ID I saw?", and nothing is consumed by reading. On top of the log sit
// consumer groups, which share the work out: each new entry goes to one
// consumer of the group, stays in the group's pending entries list (PEL)
// until that consumer acknowledges it, and can be claimed by another
// consumer if the first one dies. A small Kafka inside Redis.
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
// <ms>-0: XDEL, XACK, XCLAIM, XGROUP CREATE, MINID, and the IDs
// of XREAD/XREADGROUP other than "$" and ">".
export function parseStrictId(arg: string): StreamId {
  return parseIdCore(arg, 0n, true, false).id;
}

// XRANGE/XREVRANGE/XPENDING/XAUTOCLAIM bounds. "-" is 0-0 and "+" the
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

// The per-stream IDs of XREAD and XREADGROUP. "$" (XREAD only) means "only
// what arrives from now on" and is resolved by the command to the stream's
// lastId (0-0 for a missing key); ">" (XREADGROUP only) means "entries never
// delivered to this group". Redis marks ">" internally as the largest ID,
// so an explicit 18446744073709551615-18446744073709551615 in XREADGROUP
// also means ">": we return "new" for it too.
export type ReadId = { kind: "last" } | { kind: "new" } | { kind: "after"; id: StreamId };

export function parseReadId(arg: string, group = false): ReadId {
  if (arg === "$") {
    if (group) throw new StreamError(DOLLAR_IN_XREADGROUP);
    return { kind: "last" };
  }
  if (arg === ">") {
    if (!group) throw new StreamError(GT_IN_XREAD);
    return { kind: "new" };
  }
  const id = parseStrictId(arg);
  if (group && compareIds(id, MAX_ID) === 0) return { kind: "new" };
  return { kind: "after", id };
}

// XGROUP CREATE and XGROUP SETID: "$" is the stream's last ID. CREATE is
// strict, but SETID in Redis 7.0 uses the lenient parse, so "-" (0-0) and
// "+" are accepted there.
export function parseGroupId(arg: string, subcommand: "create" | "setid"): StreamId | "$" {
  if (arg === "$") return "$";
  return parseIdCore(arg, 0n, subcommand === "create", false).id;
}

/* ================================ Errors ================================
 * `reply` is the error line exactly as Redis 7 sends it, without the "-".
 * Errors that name the key (NOGROUP) are built by the command layer with
 * these helpers, since only it knows the key.
 * ======================================================================== */

const DOLLAR_IN_XREADGROUP =
  "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.";
const GT_IN_XREAD =
  "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.";

export class StreamError extends Error {
  constructor(readonly reply: string) {
    super(reply);
    this.name = "StreamError";
  }

  static invalidId(): StreamError {
    return new StreamError("ERR Invalid stream ID specified as stream command argument");
  }
}

export const streamErrors = {
  // XGROUP SETID/CREATECONSUMER/DELCONSUMER on a missing group.
  noGroupXgroup: (key: string, group: string) =>
    `NOGROUP No such consumer group '${group}' for key name '${key}'`,
  // XREADGROUP on a missing key or group.
  noGroupXreadgroup: (key: string, group: string) =>
    `NOGROUP No such key '${key}' or consumer group '${group}' in XREADGROUP with GROUP option`,
  // XPENDING, XCLAIM, XAUTOCLAIM.
  noGroup: (key: string, group: string) =>
    `NOGROUP No such key '${key}' or consumer group '${group}'`,
  // Any XGROUP subcommand on a missing key (without MKSTREAM).
  xgroupNoKey:
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
  busyGroup: "BUSYGROUP Consumer Group name already exists",
};

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

// What XINFO STREAM (without FULL) reports, minus radix-tree-nodes, an
// internal detail of the rax we cannot reproduce.
export interface StreamInfo {
  length: number;
  radixTreeKeys: number;
  lastGeneratedId: StreamId;
  maxDeletedEntryId: StreamId;
  entriesAdded: number;
  recordedFirstEntryId: StreamId;
  groups: number;
  firstEntry: StreamEntry | undefined;
  lastEntry: StreamEntry | undefined;
}

export interface StreamOptions {
  // Milliseconds since the epoch; tests inject a fake one. Used for "*" IDs
  // and for the idle times of pending entries and consumers.
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
  private nodes = 0;

  private len = 0;
  private last: StreamId = MIN_ID;
  private first: StreamId = MIN_ID;
  private maxDeleted: StreamId = MIN_ID;
  private added = 0;
  private readonly groupsByName = new Map<string, ConsumerGroup>();

  constructor(opts: StreamOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.nodeMaxEntries = opts.nodeMaxEntries ?? 100;
  }

  get length(): number {
    return this.len;
  }

  // The last ID ever generated ("last-generated-id"), even if that entry was
  // deleted since: new IDs must stay above it. XREAD's "$" resolves to it.
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
      this.nodes++;
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

  // XREAD: entries with an ID greater than `after`, oldest first.
  readAfter(after: StreamId, count = 0): StreamEntry[] {
    const start = incrId(after);
    return start ? this.range(start, MAX_ID, count) : [];
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
    this.nodes--;
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

  /* ------------------------------ XINFO ------------------------------ */

  info(): StreamInfo {
    return {
      length: this.len,
      radixTreeKeys: this.nodes,
      lastGeneratedId: this.last,
      maxDeletedEntryId: this.maxDeleted,
      entriesAdded: this.added,
      recordedFirstEntryId: this.first,
      groups: this.groupsByName.size,
      firstEntry: this.range(MIN_ID, MAX_ID, 1)[0],
      lastEntry: this.range(MIN_ID, MAX_ID, 1, true)[0],
    };
  }

  /* --------------------- Bookkeeping for consumer groups --------------------- */

  // Does [start, end] contain a deleted entry? Redis only knows the largest
  // deleted ID, so it answers from that (streamRangeHasTombstones).
  rangeHasTombstones(start: StreamId, end: StreamId = MAX_ID): boolean {
    if (this.len === 0 || isZeroId(this.maxDeleted)) return false;
    if (compareIds(this.first, this.maxDeleted) > 0) return false;
    return compareIds(start, this.maxDeleted) <= 0 && compareIds(this.maxDeleted, end) <= 0;
  }

  // How many entries came before and including `id` since the stream was
  // born, when that can be known without counting; -1 when it cannot
  // (streamEstimateDistanceFromFirstEverEntry). It makes a group's lag.
  estimateEntriesRead(id: StreamId): number {
    if (!this.added) return 0;
    if (this.len === 0 && compareIds(id, this.last) < 1) return this.added;
    const cmpLast = compareIds(id, this.last);
    if (cmpLast === 0) return this.added;
    if (cmpLast > 0) return -1;
    const cmpFirst = compareIds(id, this.first);
    if (isZeroId(this.maxDeleted) || compareIds(this.maxDeleted, this.first) < 0) {
      if (cmpFirst < 0) return this.added - this.len;
      if (cmpFirst === 0) return this.added - this.len + 1;
    }
    return -1;
  }

  /* ------------------------------ Groups ------------------------------ */

  group(name: string): ConsumerGroup | undefined {
    return this.groupsByName.get(name);
  }

  groups(): ConsumerGroup[] {
    return [...this.groupsByName.values()].sort((a, b) => byteOrder(a.name, b.name));
  }

  // XGROUP CREATE key name id|$ [ENTRIESREAD n]. entriesRead -1 (the
  // default) means "unknown", shown as nil by XINFO GROUPS.
  createGroup(name: string, start: StreamId | "$", entriesRead = -1): ConsumerGroup {
    if (this.groupsByName.has(name)) throw new StreamError(streamErrors.busyGroup);
    const g = new ConsumerGroup(this, name, start === "$" ? this.last : start, entriesRead);
    this.groupsByName.set(name, g);
    return g;
  }

  // XGROUP DESTROY: false when there was no such group (the reply is 0).
  destroyGroup(name: string): boolean {
    return this.groupsByName.delete(name);
  }
}

function entryOf(s: Slot): StreamEntry {
  return { id: s.id, fields: s.fields };
}

// Redis orders group and consumer names as raw bytes (rax order). Names
// here are strings; give them as latin1 ("binary") decodings of the
// argument bytes and this code-unit order is exactly byte order.
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/* ===================== Sorted ID index (for the PELs) =====================
 * A Map for O(1) lookup by ID plus an array of IDs in order for range
 * scans. Deliveries mostly arrive in ID order, so insertion is usually a
 * push; removal is lazy (the key leaves the Map, the array keeps a stale
 * ID that scans skip) and the array is rebuilt when stale IDs outnumber
 * live ones.
 * ======================================================================== */

// The Map key: the ID as one 128-bit BigInt. Maps compare BigInts by
// value, and building one is much cheaper than formatting a string.
const keyOf = (id: StreamId): bigint => (id.ms << 64n) | id.seq;

class IdIndex<T> {
  private readonly map = new Map<bigint, T>();
  private order: StreamId[] = [];
  private stale = 0;

  get size(): number {
    return this.map.size;
  }

  get(id: StreamId): T | undefined {
    return this.map.get(keyOf(id));
  }

  set(id: StreamId, value: T): void {
    const key = keyOf(id);
    if (this.map.has(key)) {
      this.map.set(key, value);
      return;
    }
    this.map.set(key, value);
    const n = this.order.length;
    if (n === 0 || compareIds(this.order[n - 1]!, id) < 0) {
      this.order.push(id);
      return;
    }
    const at = this.lowerBound(id);
    if (at < n && compareIds(this.order[at]!, id) === 0) this.stale--;
    else this.order.splice(at, 0, id);
  }

  delete(id: StreamId): boolean {
    if (!this.map.delete(keyOf(id))) return false;
    this.stale++;
    if (this.stale > 32 && this.stale > this.map.size) {
      this.order = this.order.filter((x) => this.map.has(keyOf(x)));
      this.stale = 0;
    }
    return true;
  }

  private lowerBound(id: StreamId): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIds(this.order[mid]!, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // Live [id, value] pairs with id >= start, in ID order. The index may be
  // changed while iterating (entries deleted or re-set): the scan works on
  // positions and re-checks each key.
  *from(start: StreamId = MIN_ID): IterableIterator<[StreamId, T]> {
    // Compaction replaces this.order with a new array and never edits the
    // old one, so a scan that deletes as it goes stays on its positions.
    const order = this.order;
    for (let i = this.lowerBound(start); i < order.length; i++) {
      const id = order[i]!;
      const v = this.map.get(keyOf(id));
      if (v !== undefined) yield [id, v];
    }
  }

  first(): StreamId | undefined {
    for (const [id] of this.from()) return id;
    return undefined;
  }

  last(): StreamId | undefined {
    for (let i = this.order.length - 1; i >= 0; i--) {
      const id = this.order[i]!;
      if (this.map.has(keyOf(id))) return id;
    }
    return undefined;
  }
}

/* ============================ Consumer groups ============================ */

// A delivered, not yet acknowledged entry (Redis's streamNACK). The same
// object sits in the group's PEL and in its consumer's PEL.
export interface Pending {
  readonly id: StreamId;
  consumer: Consumer | null; // null only for a FORCE claim not yet owned
  deliveryTime: number;
  deliveryCount: number;
}

export class Consumer {
  readonly pel = new IdIndex<Pending>();
  constructor(
    readonly name: string,
    public seenTime: number,
  ) {}

  get pending(): number {
    return this.pel.size;
  }
}

// A read through a group: each entry, or a null body for an entry still
// pending but deleted from the stream (XREADGROUP history replies [id, nil]).
export interface GroupEntry {
  readonly id: StreamId;
  readonly fields: readonly Buffer[] | null;
}

export interface PendingSummary {
  count: number;
  min: StreamId | undefined;
  max: StreamId | undefined;
  consumers: { name: string; count: number }[];
}

export interface PendingDetail {
  id: StreamId;
  consumer: string;
  idle: number;
  deliveries: number;
}

export interface ClaimOptions {
  // IDLE ms or TIME unix-ms: when the entry counts as last delivered.
  // Give only the one that came last on the command line.
  idle?: number;
  time?: number;
  retryCount?: number;
  force?: boolean;
  justId?: boolean;
  lastId?: StreamId; // LASTID: raise the group's last-delivered ID
}

export class ConsumerGroup {
  readonly pel = new IdIndex<Pending>();
  private readonly consumersByName = new Map<string, Consumer>();

  constructor(
    private readonly stream: Stream,
    readonly name: string,
    public lastId: StreamId, // last-delivered-id
    public entriesRead: number, // -1 = unknown
  ) {}

  private now(): number {
    return this.stream.clock();
  }

  /* ------------------------------ Consumers ------------------------------ */

  // The consumer, its seen-time refreshed (what XREADGROUP and the claims
  // do; pass refresh=false for XPENDING and DELCONSUMER).
  consumer(name: string, refresh = true): Consumer | undefined {
    const c = this.consumersByName.get(name);
    if (c && refresh) c.seenTime = this.now();
    return c;
  }

  private consumerOrCreate(name: string): Consumer {
    return this.consumer(name) ?? this.addConsumer(name);
  }

  private addConsumer(name: string): Consumer {
    const c = new Consumer(name, this.now());
    this.consumersByName.set(name, c);
    return c;
  }

  consumers(): Consumer[] {
    return [...this.consumersByName.values()].sort((a, b) => byteOrder(a.name, b.name));
  }

  // XGROUP CREATECONSUMER: false when it already existed (reply 0).
  createConsumer(name: string): boolean {
    if (this.consumersByName.has(name)) return false;
    this.addConsumer(name);
    return true;
  }

  // XGROUP DELCONSUMER: its pending entries are dropped from the group
  // (nobody owns them any more; they are NOT handed to anyone). Returns how
  // many it had, 0 for an unknown consumer.
  deleteConsumer(name: string): number {
    const c = this.consumersByName.get(name);
    if (!c) return 0;
    const n = c.pel.size;
    for (const [id] of c.pel.from()) this.pel.delete(id);
    this.consumersByName.delete(name);
    return n;
  }

  // XGROUP SETID id|$ [ENTRIESREAD n]: entriesRead is reset to -1 unless
  // given, as in Redis.
  setId(id: StreamId | "$", entriesRead = -1): void {
    this.lastId = id === "$" ? this.stream.lastId : id;
    this.entriesRead = entriesRead;
  }

  /* ------------------------------ Reading ------------------------------ */

  // XREADGROUP ... >: entries never delivered to this group, oldest first.
  // Each advances the group's last-delivered-id and, unless noAck, becomes
  // pending for this consumer (delivery count 1). Returns null when there is
  // nothing to deliver: the command then blocks or replies nil, and, as in
  // Redis, the consumer is not created in that case.
  readNew(consumerName: string, count = 0, noAck = false): StreamEntry[] | null {
    const top = this.stream.lastEntryId();
    if (!top || compareIds(top, this.lastId) <= 0) return null;
    const consumer = this.consumerOrCreate(consumerName);
    const entries = this.stream.readAfter(this.lastId, count);
    const now = this.now();
    for (const e of entries) {
      if (compareIds(e.id, this.lastId) > 0) {
        if (this.entriesRead !== -1 && !this.stream.rangeHasTombstones(e.id)) {
          this.entriesRead++;
        } else if (this.stream.entriesAdded) {
          this.entriesRead = this.stream.estimateEntriesRead(e.id);
        }
        this.lastId = e.id;
      }
      if (noAck) continue;
      const old = this.pel.get(e.id);
      if (old) {
        // Delivered before (the group's ID was moved back with SETID): the
        // entry changes hands and starts over.
        old.consumer?.pel.delete(e.id);
        old.consumer = consumer;
        old.deliveryTime = now;
        old.deliveryCount = 1;
        consumer.pel.set(e.id, old);
      } else {
        const p: Pending = { id: e.id, consumer, deliveryTime: now, deliveryCount: 1 };
        this.pel.set(e.id, p);
        consumer.pel.set(e.id, p);
      }
    }
    return entries;
  }

  // XREADGROUP ... <id>: this consumer's own pending entries with IDs
  // greater than `after`, a re-delivery: each one's delivery count grows
  // and its idle time restarts. An entry deleted from the stream comes back
  // with fields null and is left as it was. The consumer is created if new.
  readHistory(consumerName: string, after: StreamId, count = 0): GroupEntry[] {
    const consumer = this.consumerOrCreate(consumerName);
    const start = incrId(after) ?? MIN_ID;
    const out: GroupEntry[] = [];
    const now = this.now();
    for (const [id, p] of consumer.pel.from(start)) {
      if (count && out.length >= count) break;
      const e = this.stream.get(id);
      if (e) {
        p.deliveryTime = now;
        p.deliveryCount++;
      }
      out.push({ id, fields: e ? e.fields : null });
    }
    return out;
  }

  /* --------------------------- Acknowledging --------------------------- */

  // XACK id...: how many were pending (and now are not).
  ack(ids: readonly StreamId[]): number {
    let n = 0;
    for (const id of ids) {
      const p = this.pel.get(id);
      if (!p) continue;
      this.pel.delete(id);
      p.consumer?.pel.delete(id);
      n++;
    }
    return n;
  }

  /* ------------------------------ Inspecting ------------------------------ */

  // XPENDING key group: count, smallest and largest pending ID, and the
  // consumers that have any, by name.
  pendingSummary(): PendingSummary {
    const consumers = this.consumers()
      .filter((c) => c.pending > 0)
      .map((c) => ({ name: c.name, count: c.pending }));
    return { count: this.pel.size, min: this.pel.first(), max: this.pel.last(), consumers };
  }

  // XPENDING key group [IDLE ms] start end count [consumer]. An unknown
  // consumer gives []; count <= 0 gives []. Idle is now - last delivery.
  pendingRange(opts: {
    start: StreamId;
    end: StreamId;
    count: number;
    minIdle?: number;
    consumer?: string;
  }): PendingDetail[] {
    let pel = this.pel;
    if (opts.consumer !== undefined) {
      const c = this.consumer(opts.consumer, false);
      if (!c) return [];
      pel = c.pel;
    }
    const out: PendingDetail[] = [];
    const now = this.now();
    const minIdle = opts.minIdle ?? 0;
    if (opts.count <= 0) return out;
    for (const [id, p] of pel.from(opts.start)) {
      if (compareIds(id, opts.end) > 0 || out.length >= opts.count) break;
      const idle = now - p.deliveryTime;
      if (minIdle && idle < minIdle) continue;
      out.push({
        id,
        consumer: p.consumer?.name ?? "",
        idle: Math.max(0, idle),
        deliveries: p.deliveryCount,
      });
    }
    return out;
  }

  // XINFO GROUPS: lag is how many entries the group has yet to read, null
  // when tombstones make it unknowable.
  info(): {
    name: string;
    consumers: number;
    pending: number;
    lastDeliveredId: StreamId;
    entriesRead: number | null;
    lag: number | null;
  } {
    return {
      name: this.name,
      consumers: this.consumersByName.size,
      pending: this.pel.size,
      lastDeliveredId: this.lastId,
      entriesRead: this.entriesRead === -1 ? null : this.entriesRead,
      lag: this.lag(),
    };
  }

  private lag(): number | null {
    const s = this.stream;
    if (!s.entriesAdded) return 0;
    if (this.entriesRead !== -1 && !s.rangeHasTombstones(this.lastId)) {
      return s.entriesAdded - this.entriesRead;
    }
    const read = s.estimateEntriesRead(this.lastId);
    return read === -1 ? null : s.entriesAdded - read;
  }

  /* ------------------------------ Claiming ------------------------------ */

  // Hand a pending entry to `consumer`; shared by XCLAIM and XAUTOCLAIM.
  private transfer(p: Pending, consumer: Consumer, deliveryTime: number): void {
    if (p.consumer !== consumer) {
      p.consumer?.pel.delete(p.id);
      consumer.pel.set(p.id, p);
      p.consumer = consumer;
    }
    p.deliveryTime = deliveryTime;
  }

  // An entry pending but gone from the stream: XCLAIM and XAUTOCLAIM drop it.
  private forget(p: Pending): void {
    this.pel.delete(p.id);
    p.consumer?.pel.delete(p.id);
  }

  // XCLAIM consumer min-idle id... [IDLE|TIME] [RETRYCOUNT] [FORCE] [JUSTID]
  // [LASTID]. Each listed ID that is pending and idle for at least minIdle
  // ms moves to `consumer` (created on the first success). Its delivery
  // time becomes now (or IDLE/TIME); its delivery count grows by one unless
  // JUSTID, or is set by RETRYCOUNT. FORCE makes an entry pending even if no
  // one had it, as long as it exists in the stream. IDs no longer in the
  // stream are dropped from the PEL and not returned. Returns the claimed
  // entries (with fields) or, with justId, entries whose fields are null.
  claim(
    consumerName: string,
    minIdle: number,
    ids: readonly StreamId[],
    opts: ClaimOptions = {},
  ): GroupEntry[] {
    const now = this.now();
    if (opts.lastId && compareIds(opts.lastId, this.lastId) > 0) this.lastId = opts.lastId;
    let deliveryTime = now;
    if (opts.time !== undefined) deliveryTime = opts.time;
    if (opts.idle !== undefined) deliveryTime = now - opts.idle;
    if (deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
    const min = Math.max(0, minIdle);

    let consumer: Consumer | undefined;
    const out: GroupEntry[] = [];
    for (const id of ids) {
      let p = this.pel.get(id);
      const e = this.stream.get(id);
      if (!e) {
        if (p) this.forget(p);
        continue;
      }
      if (!p && opts.force) {
        p = { id, consumer: null, deliveryTime: now, deliveryCount: 1 };
        this.pel.set(id, p);
      }
      if (!p) continue;
      if (p.consumer && min && now - p.deliveryTime < min) continue;
      consumer ??= this.consumerOrCreate(consumerName);
      this.transfer(p, consumer, deliveryTime);
      if (opts.retryCount !== undefined && opts.retryCount >= 0) p.deliveryCount = opts.retryCount;
      else if (!opts.justId) p.deliveryCount++;
      out.push({ id, fields: opts.justId ? null : e.fields });
    }
    return out;
  }

  // XAUTOCLAIM consumer min-idle start [COUNT n] [JUSTID]: walk the group
  // PEL from `start`, claiming entries idle for at least minIdle ms, until
  // `count` results (claimed or deleted) or count*10 entries looked at.
  // Returns the cursor for the next call (0-0 when the PEL was walked to
  // its end), the claimed entries, and the IDs found deleted from the
  // stream (dropped from the PEL), as Redis 7 replies.
  autoclaim(
    consumerName: string,
    minIdle: number,
    start: StreamId,
    count = 100,
    justId = false,
  ): { next: StreamId; claimed: GroupEntry[]; deleted: StreamId[] } {
    const now = this.now();
    const min = Math.max(0, minIdle);
    let attempts = count * 10;
    let left = count;
    let consumer: Consumer | undefined;
    const claimed: GroupEntry[] = [];
    const deleted: StreamId[] = [];
    const it = this.pel.from(start);
    let next: StreamId = MIN_ID;
    for (;;) {
      if (attempts-- <= 0 || left <= 0) {
        // Stopped early: the cursor is the next pending ID, if any.
        const r = it.next();
        next = r.done ? MIN_ID : r.value[0];
        break;
      }
      const r = it.next();
      if (r.done) break;
      const [id, p] = r.value;
      const e = this.stream.get(id);
      if (!e) {
        this.forget(p);
        deleted.push(id);
        left--;
        continue;
      }
      if (min && now - p.deliveryTime < min) continue;
      consumer ??= this.consumerOrCreate(consumerName);
      this.transfer(p, consumer, now);
      if (!justId) p.deliveryCount++;
      claimed.push({ id, fields: justId ? null : e.fields });
      left--;
    }
    return { next, claimed, deleted };
  }
}
