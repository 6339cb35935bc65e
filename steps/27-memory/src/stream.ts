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
// Step 27: the entries live as Redis keeps them, packed into nodes of up
// to 100 entries, each node one Buffer (see "Nodes" below), the nodes in an
// array in ID order. Appending writes a few bytes at the end of the last
// node (O(1)); finding an ID is a binary search over the nodes, then a
// walk along one node's bytes (O(log n) plus at most 100 entries);
// trimming drops whole nodes from the front. XDEL flags the entry inside
// its node, and a node goes when its last live entry does, so there are
// no tombstones to compact.
//
// What Redis does (src/t_stream.c, src/stream.h): a radix tree keyed by
// 128-bit big-endian IDs whose leaves are listpacks, compact blobs of up to
// 100 entries (stream-node-max-entries) or 4 KB (stream-node-max-bytes),
// with IDs and repeated field names delta-encoded against each node's first
// entry. Deleted entries are flagged inside their listpack, and a node goes
// away when its last live entry does. Our nodes are those listpacks, IDs
// and field names compressed the same way; a sorted array does the radix
// tree's job, since nodes are only ever added at the end (and removing one
// from the middle, when XDEL empties it, moves 8 bytes a node).
//
// Approximate trimming (MAXLEN ~ / MINID ~) is defined by those nodes:
// Redis only drops whole nodes from the head, so it may keep more entries
// than asked. To answer XLEN exactly as Redis does, our nodes close as its
// do: when they have held 100 entries (live plus deleted); and they
// disappear when their last live entry is deleted. One difference remains,
// documented rather than emulated: Redis also closes a node at 4096 bytes,
// so with entries larger than about 40 bytes its nodes are smaller and `~`
// trims more finely than ours.
//
// Everything here is pure: no keys, no replies. Errors are thrown as
// StreamError carrying the exact error line Redis sends; "nothing there"
// is an ordinary return value (undefined, [], null).

import { keepArg } from "./resp.ts";

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

/* ================================ Nodes ================================
 * Step 27: entries are packed into nodes, as Redis packs them into
 * listpacks. Up to step 26 an entry was an object, an ID object with two
 * BigInts, an array and a Buffer per field: 400 bytes for `XADD s * f v`,
 * whose data is 2 bytes. Now a node of up to 100 entries
 * (stream-node-max-entries) is one object holding one Buffer, and an
 * entry is a few bytes inside it:
 *
 *   flags  ms - node.ms  seq  count  len field  len value ...
 *
 * each number a varint (7 bits a byte, low first, the top bit saying
 * "more"). The node keeps its first entry's ID as BigInts; an entry stores
 * its millisecond as a delta from that, usually one byte, and its sequence
 * as it is, usually one or two. The flags byte says DELETED (XDEL marks
 * the entry in place, as Redis does; the node goes when its last live
 * entry goes), WIDE (an ID whose numbers do not fit a double exactly is
 * written as two 8-byte integers, so u64 IDs stay exact), BIG (an entry
 * of 4 KB or more keeps Buffers of its own, in node.big) and SAME (its
 * field names are those of the node's first entry, as a stream's entries
 * mostly are: only its values are written, Redis's SAMEFIELDS). `f v` is
 * 8 bytes as a node's first entry, 5 after it.
 *
 * The open node writes into the stream's tail buffer, which grows by
 * doubling and is reused by each node in turn: a full node is copied out
 * to a Buffer of its exact size, and leaves no garbage. Finding an ID is a
 * binary search over the sorted array of nodes, then a walk along one
 * node's bytes (a Cursor), which is also how Redis reads a listpack.
 * Readers get IDs as BigInts and fields as views of the node's Buffer
 * (of a copy while the node is open): an entry's bytes are never written
 * again, only its flags.
 * ======================================================================== */

const DELETED = 1;
const WIDE = 2;
const BIG = 4;
const SAME = 8; // the first entry's field names: only the values are stored
const BIG_ENTRY = 4096; // bytes of fields from which an entry is BIG
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

class Node {
  used = 0; // bytes of buf holding entries
  open = true; // buf is the stream's tail buffer, to be reused (see close())
  live = 0; // entries not deleted
  total = 0; // entries ever appended to it, deleted ones included
  lastAt = 0; // where its last entry (deleted or not) starts
  names = 0; // how many fields its first entry has (0 if BIG): SAME entries have as many
  big: (readonly Buffer[])[] | undefined; // the fields of its BIG entries

  // Its first entry's ID, which every other entry is stored against.
  constructor(
    readonly ms: bigint,
    readonly seq: bigint,
    public buf: Buffer,
  ) {}

  // Append an entry, copying its fields in (a BIG one keeps copies of its
  // own, or the Buffers themselves when they are ours already).
  append(id: StreamId, fields: readonly Buffer[]): void {
    const d = id.ms - this.ms;
    const wide = d > MAX_SAFE || id.seq > MAX_SAFE;
    let bytes = 0;
    for (const f of fields) bytes += f.length;
    const big = bytes >= BIG_ENTRY;
    // An upper bound: a varint of a double's integer is at most 8 bytes,
    // and a field length under 4 KB at most 2.
    this.reserve(1 + 16 + 5 + (big ? 0 : bytes + 2 * fields.length));
    const same = !big && this.total > 0 && this.sameNames(fields);
    const buf = this.buf;
    let p = this.used;
    this.lastAt = p;
    buf[p++] = (wide ? WIDE : 0) | (big ? BIG : 0) | (same ? SAME : 0);
    if (wide) {
      buf.writeBigUInt64BE(id.ms, p);
      buf.writeBigUInt64BE(id.seq, p + 8);
      p += 16;
    } else {
      p = putVarint(buf, p, Number(d));
      p = putVarint(buf, p, Number(id.seq));
    }
    if (big) {
      this.big ??= [];
      p = putVarint(buf, p, this.big.length);
      this.big.push(fields.map(keepArg));
    } else {
      if (!same) p = putVarint(buf, p, fields.length);
      if (this.total === 0) this.names = fields.length;
      for (let i = same ? 1 : 0; i < fields.length; i += same ? 2 : 1) {
        const f = fields[i]!;
        p = putVarint(buf, p, f.length);
        buf.set(f, p);
        p += f.length;
      }
    }
    this.used = p;
    this.live++;
    this.total++;
  }

  // Are these the first entry's field names, in the same order? Redis
  // asks the same of each entry it appends (SAMEFIELDS): a stream's
  // entries usually all have the same fields.
  private sameNames(fields: readonly Buffer[]): boolean {
    if (fields.length !== this.names) return false;
    const first = new Cursor(this);
    first.next();
    return first.hasNames(fields);
  }

  private reserve(n: number): void {
    if (this.used + n <= this.buf.length) return;
    let size = Math.max(64, 2 * this.buf.length);
    while (size < this.used + n) size *= 2;
    this.resize(size);
  }

  // A full node will not grow again: it moves out of the tail buffer into
  // a Buffer of its exact size, and the tail buffer is free for the next.
  close(): void {
    this.resize(this.used);
    this.open = false;
  }

  private resize(size: number): void {
    const buf = Buffer.allocUnsafeSlow(size);
    this.buf.copy(buf, 0, 0, this.used);
    this.buf = buf;
  }
}

function putVarint(buf: Buffer, p: number, n: number): number {
  while (n >= 128) {
    buf[p++] = (n & 127) | 128; // & keeps the low 7 bits of any safe integer
    n = Math.floor(n / 128);
  }
  buf[p++] = n;
  return p;
}

// An ID seen from a node: its deltas as doubles, so that most comparisons
// inside the node need no BigInt. Exact: a non-WIDE entry's numbers are at
// most 2^53 - 1, and a delta too big to be exact rounds to at least 2^53
// (or at most -2^53), so it still compares the right way.
interface Probe {
  readonly id: StreamId;
  readonly d: number;
  readonly seq: number;
}

function probe(id: StreamId, node: Node): Probe {
  return { id, d: Number(id.ms - node.ms), seq: Number(id.seq) };
}

// Reads a node's entries in order: each next() decodes one entry's flags
// and ID and moves past its fields; fields() then reads them.
class Cursor {
  at = 0; // where the current entry starts (its flags byte)
  flags = 0;
  private d = 0;
  private seq = 0;
  private wideMs = 0n;
  private wideSeq = 0n;
  private body = 0; // where its field count (or BIG index) starts
  private firstFields: readonly Buffer[] | undefined;
  private p: number;

  constructor(
    readonly node: Node,
    from = 0,
  ) {
    this.p = from;
  }

  // Go back (or on) to the entry at `at`, an offset next() has passed.
  seek(at: number): void {
    this.p = at;
  }

  get deleted(): boolean {
    return (this.flags & DELETED) !== 0;
  }

  next(): boolean {
    if (this.p >= this.node.used) return false;
    const buf = this.node.buf;
    this.at = this.p;
    this.flags = buf[this.p++]!;
    if (this.flags & WIDE) {
      this.wideMs = buf.readBigUInt64BE(this.p);
      this.wideSeq = buf.readBigUInt64BE(this.p + 8);
      this.p += 16;
    } else {
      this.d = this.varint();
      this.seq = this.varint();
    }
    this.body = this.p;
    if (this.flags & BIG) this.varint();
    else {
      const n = this.flags & SAME ? this.node.names / 2 : this.varint();
      for (let i = 0; i < n; i++) {
        const len = this.varint(); // read before this.p is: it moves this.p
        this.p += len;
      }
    }
    return true;
  }

  // The current entry's ID against t: <0, 0 or >0.
  compare(t: Probe): number {
    if (this.flags & WIDE) return compareIds({ ms: this.wideMs, seq: this.wideSeq }, t.id);
    if (this.d !== t.d) return this.d < t.d ? -1 : 1;
    return this.seq === t.seq ? 0 : this.seq < t.seq ? -1 : 1;
  }

  id(): StreamId {
    if (this.flags & WIDE) return { ms: this.wideMs, seq: this.wideSeq };
    return { ms: this.node.ms + BigInt(this.d), seq: BigInt(this.seq) };
  }

  // The fields as views of the node's Buffer, or of one copy while the
  // node is open: the tail buffer will be written over by the next node.
  fields(): readonly Buffer[] {
    const end = this.p;
    this.p = this.body;
    if (this.flags & BIG) {
      const kept = this.node.big![this.varint()]!;
      this.p = end;
      return kept;
    }
    const { buf, open } = this.node;
    const from = open ? Buffer.from(buf.subarray(this.body, end)) : buf;
    const base = open ? this.body : 0;
    const names = this.flags & SAME ? this.names() : undefined;
    const out: Buffer[] = [];
    const n = names ? names.length : this.varint();
    for (let i = 0; i < n; i++) {
      if (names && i % 2 === 0) {
        out.push(names[i]!);
        continue;
      }
      const len = this.varint();
      out.push(from.subarray(this.p - base, this.p - base + len));
      this.p += len;
    }
    this.p = end;
    return out;
  }

  // The node's first entry's fields, for SAME entries to take their names
  // from: read once per cursor, so a range decodes them once per node.
  private names(): readonly Buffer[] {
    if (this.firstFields === undefined) {
      const first = new Cursor(this.node);
      first.next();
      this.firstFields = first.fields();
    }
    return this.firstFields;
  }

  // Are the names in `fields` (its even places) the current entry's? For
  // an entry neither BIG nor SAME; compared in place, nothing allocated.
  hasNames(fields: readonly Buffer[]): boolean {
    const end = this.p;
    this.p = this.body;
    let same = this.varint() === fields.length;
    for (let i = 0; same && i < fields.length; i++) {
      const len = this.varint();
      const f = fields[i]!;
      if (i % 2 === 0) same = this.node.buf.compare(f, 0, f.length, this.p, this.p + len) === 0;
      this.p += len;
    }
    this.p = end;
    return same;
  }

  entry(): StreamEntry {
    return { id: this.id(), fields: this.fields() };
  }

  markDeleted(): void {
    this.flags |= DELETED;
    this.node.buf[this.at] = this.flags;
    this.node.live--;
  }

  private varint(): number {
    const buf = this.node.buf;
    let n = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = buf[this.p++]!;
      n += (byte & 127) * scale;
      scale *= 128;
    } while (byte >= 128);
    return n;
  }
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

  private nodes: Node[] = []; // in ID order
  // The open node's Buffer, reused by each node in turn, so that filling
  // one leaves no garbage behind (see Node.close()).
  private tail: Buffer = Buffer.alloc(0);

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

  // XADD: append an entry (fields is [f1, v1, ...], at least one pair,
  // views of a read buffer are fine: they are copied into the node) and
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

    // Only the last node can have room: a node is created when the one
    // before it is full, or gone (its last live entry deleted).
    let node = this.nodes[this.nodes.length - 1];
    if (!node || node.total >= this.nodeMaxEntries) {
      node = new Node(id.ms, id.seq, this.tail);
      this.nodes.push(node);
    }
    node.append(id, fields);
    this.tail = node.buf; // It may have grown.
    if (node.total >= this.nodeMaxEntries) node.close();
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

  // The node an ID would be in: the last one whose first ID is <= id
  // (binary search; 0 when id comes before them all).
  private nodeFor(id: StreamId): number {
    let lo = 0;
    let hi = this.nodes.length;
    // The last node first: readers mostly want the newest entries.
    if (hi > 0 && compareIds(this.nodes[hi - 1]!, id) <= 0) return hi - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIds(this.nodes[mid]!, id) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, lo - 1);
  }

  // A cursor on the live entry with this ID, if there is one.
  private find(id: StreamId, at = this.nodeFor(id)): Cursor | undefined {
    const node = this.nodes[at];
    if (!node) return undefined;
    const c = new Cursor(node);
    const t = probe(id, node);
    while (c.next()) {
      const cmp = c.compare(t);
      if (cmp === 0) return c.deleted ? undefined : c;
      if (cmp > 0) break;
    }
    return undefined;
  }

  get(id: StreamId): StreamEntry | undefined {
    return this.find(id)?.entry();
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
      for (let i = this.nodeFor(start); i < this.nodes.length; i++) {
        const node = this.nodes[i]!;
        const [from, to] = [probe(start, node), probe(end, node)];
        const c = new Cursor(node);
        while (c.next()) {
          if (c.compare(to) > 0) return out;
          if (c.deleted || c.compare(from) < 0) continue;
          out.push(c.entry());
          if (count && out.length >= count) return out;
        }
      }
    } else {
      // A node is read front to back; its entries' offsets, noted on the
      // way, let us visit them back to front. Its last entry is known
      // (lastAt), so XREVRANGE + - COUNT 1, "what came last?", needs no walk.
      for (let i = this.nodeFor(end); i >= 0 && i < this.nodes.length; i--) {
        const node = this.nodes[i]!;
        const [from, to] = [probe(start, node), probe(end, node)];
        // Visit the entry at `at`; true when the range is complete.
        const c = new Cursor(node);
        const visit = (at: number): boolean => {
          c.seek(at);
          c.next();
          if (c.compare(from) < 0) return true;
          if (!c.deleted && c.compare(to) <= 0) out.push(c.entry());
          return count > 0 && out.length >= count;
        };
        if (visit(node.lastAt)) return out;
        const offsets: number[] = [];
        for (const e = new Cursor(node); e.next() && e.at < node.lastAt; ) offsets.push(e.at);
        for (let k = offsets.length - 1; k >= 0; k--) if (visit(offsets[k]!)) return out;
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
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i]!;
      const last = new Cursor(node, node.lastAt);
      if (last.next() && !last.deleted) return last.id(); // Usually: no walk.
      let id: StreamId | undefined;
      for (const c = new Cursor(node); c.next(); ) if (!c.deleted) id = c.id();
      if (id) return id;
    }
    return undefined;
  }

  private firstLiveId(): StreamId {
    for (const node of this.nodes) {
      for (const c = new Cursor(node); c.next(); ) if (!c.deleted) return c.id();
    }
    return MIN_ID;
  }

  /* ------------------------------ Deleting ------------------------------ */

  // XDEL id...: returns how many existed. Deleted IDs vanish from every
  // range; lastId and entriesAdded are unchanged, maxDeletedId grows.
  delete(ids: readonly StreamId[]): number {
    let deleted = 0;
    let firstGone = false;
    for (const id of ids) {
      const at = this.nodeFor(id);
      const c = this.find(id, at);
      if (!c) continue;
      c.markDeleted();
      this.len--;
      // A node whose last live entry goes is freed at once in Redis; if it
      // was the tail, the next XADD starts a new node.
      if (c.node.live === 0) this.nodes.splice(at, 1);
      if (compareIds(id, this.first) === 0) firstGone = true;
      if (compareIds(id, this.maxDeleted) > 0) this.maxDeleted = id;
      deleted++;
    }
    if (deleted) {
      if (this.len === 0) this.first = MIN_ID;
      else if (firstGone) this.first = this.firstLiveId();
    }
    return deleted;
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
    let gone = 0; // whole nodes dropped from the front
    while (gone < this.nodes.length) {
      if (spec.strategy === "maxlen" && this.len <= spec.maxlen) break;
      const node = this.nodes[gone]!;
      if (limit && deleted + node.live > limit) break;
      let wholeNode: boolean;
      if (spec.strategy === "maxlen") wholeNode = this.len - node.live >= spec.maxlen;
      else {
        const lastEntry = new Cursor(node, node.lastAt);
        lastEntry.next();
        wholeNode = lastEntry.compare(probe(spec.minid, node)) < 0;
      }
      if (wholeNode) {
        deleted += node.live;
        this.len -= node.live;
        gone++;
        continue;
      }
      if (spec.approx) break;
      const minid = probe(spec.strategy === "minid" ? spec.minid : MIN_ID, node);
      for (const c = new Cursor(node); c.next(); ) {
        const stop = spec.strategy === "maxlen" ? this.len <= spec.maxlen : c.compare(minid) >= 0;
        if (stop) break;
        if (!c.deleted) {
          c.markDeleted();
          this.len--;
          deleted++;
        }
      }
      break;
    }
    this.nodes.splice(0, gone);
    if (this.len === 0) this.first = MIN_ID;
    else if (deleted) this.first = this.firstLiveId();
    return deleted;
  }

  /* ------------------------------ XINFO ------------------------------ */

  info(): StreamInfo {
    return {
      length: this.len,
      radixTreeKeys: this.nodes.length,
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
