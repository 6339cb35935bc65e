// list.ts -- the list type: a deque of byte strings with Redis's index rules.
//
// A Redis list is used as a queue far more often than as an array: LPUSH at
// one end, RPOP or BLPOP at the other, millions of times. So both ends must
// cost O(1), and LINDEX/LSET/LRANGE want to reach any position without a
// walk from the head. We keep the elements in a ring buffer: one array
// whose size is a power of two, a `head` slot and a `length`. Element i
// lives in slot (head + i) & mask, so an index is one addition and one AND,
// and pushing at the front just moves `head` one slot back (wrapping). When
// the ring is full it doubles and the elements are copied out in order;
// when it falls below a quarter full it halves, so a list that once held a
// million items and now holds ten gives the memory back.
//
// Why not the obvious alternatives:
// - A plain JS array with push()/shift()/unshift(). shift() and unshift()
//   move every element: popping a 100,000-item queue from the front is
//   O(n) per pop, O(n^2) in total. (V8 sometimes hides this for small
//   arrays with a trick that stops working as they grow.)
// - A chunked deque (a list of fixed-size blocks, as Python's deque and
//   C++'s std::deque): O(1) at both ends without ever copying everything,
//   but LINDEX must first find the right block, and the code is twice as
//   long. Doubling a ring copies each element O(1) times on average, the
//   same amortized cost, and keeps one flat array that the CPU likes.
//
// What Redis does (src/quicklist.c): a doubly linked list of listpacks.
// A listpack is a compact byte blob holding several small elements back to
// back (about 8 KB each by default), so a list of short strings costs a few
// bytes per element instead of a pointer-heavy node each, and the middle
// nodes can even be LZF-compressed. The price is that LINDEX walks from the
// nearer end node by node: O(n / elements-per-node), not O(1). Redis
// optimises memory because it keeps everything in RAM for millions of keys;
// we keep a Buffer object per element (tens of bytes of overhead each) and
// win simple O(1) indexing. Same commands, same replies, different trade.
//
// Everything here is pure: no keys, no replies, no protocol. The command
// layer (commands/lists.ts) parses the arguments, calls these methods and
// turns their plain results into RESP, deleting the key when a list
// becomes empty (Redis never keeps an empty list).

/* ============================= The ring buffer =============================
 * Slots outside [head, head+length) always hold undefined, so popped
 * Buffers can be garbage collected at once.
 * ======================================================================== */

// The smallest ring we allocate. Most lists are small; 8 slots is one cache
// line's worth of pointers and avoids resizing for the first few pushes.
const MIN_CAPACITY = 8;

export class List {
  private slots: (Buffer | undefined)[] = new Array(MIN_CAPACITY).fill(undefined);
  private head = 0;
  private len = 0;

  get length(): number {
    return this.len;
  }

  // The ring's size, exposed for tests of growing and shrinking.
  get capacity(): number {
    return this.slots.length;
  }

  // Slot of the i-th element (0 = head). The capacity is a power of two, so
  // "& mask" is the modulo that wraps around the end of the array.
  private slot(i: number): number {
    return (this.head + i) & (this.slots.length - 1);
  }

  // Copy the elements, in order, into a new ring of `capacity` slots starting
  // at slot 0. Called on a full ring (double) and a sparse one (halve).
  private resize(capacity: number): void {
    const next: (Buffer | undefined)[] = new Array(capacity).fill(undefined);
    for (let i = 0; i < this.len; i++) next[i] = this.slots[this.slot(i)];
    this.slots = next;
    this.head = 0;
  }

  private growIfFull(): void {
    if (this.len === this.slots.length) this.resize(this.slots.length * 2);
  }

  // Halve when a quarter full, not half: a list hovering around a power of
  // two would otherwise double and halve on every push/pop pair. LREM can
  // empty most of the list at once, so halve as many times as needed.
  private shrinkIfSparse(): void {
    let cap = this.slots.length;
    while (cap > MIN_CAPACITY && this.len <= cap / 4) cap /= 2;
    if (cap !== this.slots.length) this.resize(cap);
  }

  /* ============================== Both ends ============================== */

  // LPUSH: the new element becomes index 0.
  pushFront(value: Buffer): void {
    this.growIfFull();
    this.head = (this.head - 1) & (this.slots.length - 1);
    this.slots[this.head] = value;
    this.len++;
  }

  // RPUSH: the new element becomes index length-1.
  pushBack(value: Buffer): void {
    this.growIfFull();
    this.slots[this.slot(this.len)] = value;
    this.len++;
  }

  popFront(): Buffer | undefined {
    if (this.len === 0) return undefined;
    const value = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) & (this.slots.length - 1);
    this.len--;
    this.shrinkIfSparse();
    return value;
  }

  popBack(): Buffer | undefined {
    if (this.len === 0) return undefined;
    const s = this.slot(this.len - 1);
    const value = this.slots[s];
    this.slots[s] = undefined;
    this.len--;
    this.shrinkIfSparse();
    return value;
  }

  // LPOP key count: up to n elements from the head, head first.
  popFrontN(n: number): Buffer[] {
    const out: Buffer[] = [];
    while (out.length < n && this.len > 0) out.push(this.popFront()!);
    return out;
  }

  // RPOP key count: up to n elements from the tail, tail first (Redis
  // replies in popping order, so RPOP l 2 on [a b c] gives c, b).
  popBackN(n: number): Buffer[] {
    const out: Buffer[] = [];
    while (out.length < n && this.len > 0) out.push(this.popBack()!);
    return out;
  }

  /* ============================ By position ============================
   * Redis indices: 0 is the head, -1 the tail, -length the head again.
   * Anything beyond either end is "out of range", never an exception.
   * ======================================================================= */

  // Turn a Redis index into 0..length-1, or -1 when it is out of range.
  private resolve(index: number): number {
    const i = index < 0 ? this.len + index : index;
    return i >= 0 && i < this.len ? i : -1;
  }

  // LINDEX: the element, or undefined (the command replies nil).
  index(index: number): Buffer | undefined {
    const i = this.resolve(index);
    return i < 0 ? undefined : this.slots[this.slot(i)];
  }

  // LSET: false when out of range (the command replies "ERR index out of
  // range"; a missing key is "ERR no such key", decided before we exist).
  set(index: number, value: Buffer): boolean {
    const i = this.resolve(index);
    if (i < 0) return false;
    this.slots[this.slot(i)] = value;
    return true;
  }

  // Clamp an inclusive [start, stop] pair the way LRANGE and LTRIM do:
  // negatives count from the tail, a start before the head becomes 0, a stop
  // after the tail becomes the tail. Returns null when nothing is selected
  // (start > stop, or start past the tail). Huge values (beyond 2^53, which
  // a 64-bit argument may be) clamp the same way, so the command layer may
  // hand us Number(bigint) without care.
  private clamp(start: number, stop: number): [number, number] | null {
    let s = start < 0 ? this.len + start : start;
    let e = stop < 0 ? this.len + stop : stop;
    if (s < 0) s = 0;
    if (s > e || s >= this.len) return null;
    if (e >= this.len) e = this.len - 1;
    return [s, e];
  }

  // LRANGE start stop, inclusive at both ends. O(S+N): S to reach the start
  // is free here (one addition), N to copy out.
  range(start: number, stop: number): Buffer[] {
    const r = this.clamp(start, stop);
    if (!r) return [];
    const out: Buffer[] = new Array(r[1] - r[0] + 1);
    for (let i = r[0]; i <= r[1]; i++) out[i - r[0]] = this.slots[this.slot(i)]!;
    return out;
  }

  // LTRIM start stop: keep only that range (possibly nothing: then the
  // command deletes the key). Returns how many elements went away.
  trim(start: number, stop: number): number {
    const r = this.clamp(start, stop);
    const before = this.len;
    const [keepFrom, keepTo] = r ?? [before, before - 1];
    // Drop from both ends with the O(1) pops, so a trim that removes k
    // elements costs O(k). The shrink inside the pops keeps memory honest.
    for (let i = 0; i < keepFrom; i++) this.popFront();
    const tail = before - 1 - keepTo;
    for (let i = 0; i < tail && this.len > 0; i++) this.popBack();
    return before - this.len;
  }

  /* ============================ By value ============================
   * These walk the list comparing bytes (Buffer.equals), as Redis does:
   * O(n) is the documented cost of LINSERT, LREM and LPOS.
   * ======================================================================= */

  // Open a one-slot gap at logical position i (0..length), moving whichever
  // side is shorter, so inserting near either end stays cheap.
  private insertAt(i: number, value: Buffer): void {
    this.growIfFull();
    if (i < this.len - i) {
      // Shift the first i elements one slot towards the front.
      this.head = (this.head - 1) & (this.slots.length - 1);
      for (let j = 0; j < i; j++) this.slots[this.slot(j)] = this.slots[this.slot(j + 1)];
    } else {
      for (let j = this.len; j > i; j--) this.slots[this.slot(j)] = this.slots[this.slot(j - 1)];
    }
    this.slots[this.slot(i)] = value;
    this.len++;
  }

  // LINSERT BEFORE|AFTER pivot value: insert next to the first element
  // equal to pivot, searching from the head. Returns the new length, or -1
  // when the pivot is not there (the command's own reply values).
  insert(where: "before" | "after", pivot: Buffer, value: Buffer): number {
    for (let i = 0; i < this.len; i++) {
      if (this.slots[this.slot(i)]!.equals(pivot)) {
        this.insertAt(where === "before" ? i : i + 1, value);
        return this.len;
      }
    }
    return -1;
  }

  // LREM count value: count > 0 removes the first `count` matches from the
  // head, count < 0 the first |count| from the tail, 0 removes them all.
  // One pass that slides the survivors down over the holes: O(n) however
  // many go. Returns how many were removed.
  remove(count: number, value: Buffer): number {
    const limit = count === 0 ? Number.POSITIVE_INFINITY : Math.abs(count);
    const n = this.len;
    // Which positions go: decided first, because from the tail the matches
    // are found in reverse order.
    const doomed = new Uint8Array(n);
    let removed = 0;
    for (let k = 0; k < n && removed < limit; k++) {
      const i = count < 0 ? n - 1 - k : k;
      if (this.slots[this.slot(i)]!.equals(value)) {
        doomed[i] = 1;
        removed++;
      }
    }
    if (removed === 0) return 0;
    let w = 0;
    for (let i = 0; i < n; i++) {
      if (!doomed[i]) this.slots[this.slot(w++)] = this.slots[this.slot(i)];
    }
    for (let i = w; i < n; i++) this.slots[this.slot(i)] = undefined;
    this.len = w;
    this.shrinkIfSparse();
    return removed;
  }

  // LPOS value [RANK r] [COUNT c] [MAXLEN m]. The options are validated here
  // so that every rule of the command lives in one place; a bad option comes
  // back as a PosError (not thrown) that the command layer replies with.
  //   rank:   1 = first match, 2 = second...; negative searches from the
  //           tail (-1 = last match). 0 is an error.
  //   count:  how many matches to return, 0 = all of them. Leave it
  //           undefined for LPOS without COUNT: at most one index comes back
  //           and the command replies it as an integer, or nil when empty.
  //   maxlen: compare at most this many elements (0 = no limit).
  // Returned indices are always from the head, as LINDEX counts them.
  // Two corners for the command layer: Redis reports the first bad option
  // in argument order (LPOS l a COUNT -1 RANK 0 is the COUNT error), and
  // in 7.0 RANK -9223372036854775808 overflows when negated and behaves as
  // RANK -1; we would find no match, so map it to -1 before calling.
  pos(
    value: Buffer,
    opts: { rank?: number; count?: number; maxlen?: number } = {},
  ): number[] | PosError {
    const rank = opts.rank ?? 1;
    const count = opts.count;
    const maxlen = opts.maxlen ?? 0;
    if (rank === 0) return new PosError("rank-zero");
    if (count !== undefined && count < 0) return new PosError("count-negative");
    if (maxlen < 0) return new PosError("maxlen-negative");

    const fromTail = rank < 0;
    const skip = Math.abs(rank) - 1; // matches to pass over before reporting
    const want = count === undefined ? 1 : count === 0 ? Number.POSITIVE_INFINITY : count;
    const scan = maxlen === 0 ? this.len : Math.min(maxlen, this.len);
    const out: number[] = [];
    let matches = 0;
    for (let k = 0; k < scan && out.length < want; k++) {
      const i = fromTail ? this.len - 1 - k : k;
      if (this.slots[this.slot(i)]!.equals(value) && matches++ >= skip) out.push(i);
    }
    return out;
  }

  /* =============================== Whole list =============================== */

  *[Symbol.iterator](): IterableIterator<Buffer> {
    for (let i = 0; i < this.len; i++) yield this.slots[this.slot(i)]!;
  }

  toArray(): Buffer[] {
    return this.range(0, -1);
  }
}

/* ================================ Errors ================================
 * LPOS is the only list operation with errors of its own (WRONGTYPE, bad
 * integers and arity are the command layer's business). `reply` is the
 * exact error line Redis 7 sends, without the leading "-".
 * ======================================================================== */

export type PosErrorCode = "rank-zero" | "count-negative" | "maxlen-negative";

const POS_ERROR_REPLIES: Record<PosErrorCode, string> = {
  "rank-zero":
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
  "count-negative": "ERR COUNT can't be negative",
  "maxlen-negative": "ERR MAXLEN can't be negative",
};

export class PosError {
  readonly reply: string;
  constructor(readonly code: PosErrorCode) {
    this.reply = POS_ERROR_REPLIES[code];
  }
}
