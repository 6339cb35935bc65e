// blocking.ts -- clients that wait for a key: per-key queues, ready keys, timeouts.
//
// BLPOP is the first command that may not answer at once. When every list
// it names is empty, the client is parked: it stays connected, its further
// pipelined commands wait in its parser, and it is answered later, when
// another client pushes, or when its timeout passes. This file is the
// parking lot. It knows nothing of lists or replies: a waiter brings its
// own tryServe() callback, which looks at a key and either answers (and so
// leaves the lot) or says "not for me yet". BLPOP/BRPOP/BLMOVE plug into it
// here in step 19 (commands/lists.ts); step 21's XREAD BLOCK plugs into it
// the same way, with a callback that reads a stream instead of popping.
//
// How Redis does it, and so how we do it (blocked.c):
//
// - Per key, a FIFO of the clients waiting on it, in the order they
//   blocked. A client waiting on several keys (BLPOP k1 k2 0) is in the
//   queue of each.
//
//       waiting on "jobs":   [c7] -> [c3] -> [c9]      oldest first
//       waiting on "mail":   [c3]                      c3 waits on both
//
// - A write to a key with waiters does not serve them there and then. It
//   only marks the key ready (signalKeyAsReady). When the command that
//   wrote has finished, the loop calls handleClientsBlockedOnKeys(), which
//   walks the ready keys and offers each key to its waiters, oldest first.
//   Serving in the middle of the command would be wrong: LPUSH k a b c
//   would hand "a" to the first waiter before "b" and "c" were even
//   pushed, where Redis gives it "c", the head of the finished list; and a
//   transaction (step 24) must look atomic to the waiters too.
// - Serving can make other keys ready (BLMOVE pushes onto its destination,
//   whose own waiters are next in line): the walk repeats until no key is
//   ready.
// - A served or timed-out client leaves every queue at once, so a timeout
//   that comes after the client was served finds nothing to do, and a
//   client can never be answered twice.
// - A client that disconnects while blocked leaves every queue without a
//   word: it swallows nothing that is pushed afterwards.
// - Deadlines are milliseconds since the epoch (0 = wait forever). They
//   sit in a min-heap, so the loop can ask for the nearest one and sleep
//   exactly until then, like any other timer.
//
// Waiters are served from the key that became ready, not re-run from their
// first key: Redis 7.0 does the same (7.2 re-runs the command instead).

import type { Key } from "./db.ts";

export interface BlockRequest<C> {
  client: C;
  // The keys to wait on, in argument order; duplicates are ignored.
  keys: Key[];
  // ms since the epoch when the client gives up; 0 waits forever.
  deadline: number;
  // One of our keys was written to. Answer the client and return true if
  // the key has something for it; return false to keep waiting.
  tryServe(key: Key): boolean;
  // The deadline passed: answer the timeout reply.
  timedOut(): void;
}

interface Waiter<C> extends BlockRequest<C> {
  done: boolean; // Served, timed out or forgotten: ignore it everywhere.
}

export class BlockingManager<C> {
  // Key -> its waiters, oldest first. A Set keeps insertion order and
  // deletes in O(1), which a queue we must remove from the middle needs.
  private readonly byKey = new Map<Key, Set<Waiter<C>>>();
  private readonly byClient = new Map<C, Waiter<C>>();
  // Keys written to since the last handleClientsBlockedOnKeys(), in the
  // order they were signalled.
  private ready = new Set<Key>();
  // Waiters with a deadline, a binary min-heap on it. A waiter that leaves
  // early stays in the heap marked done, and is dropped when it surfaces.
  private readonly heap: Waiter<C>[] = [];
  private serving = false;

  // `onUnblock` is told each time a client leaves the lot because it was
  // served or timed out (not when it is forgotten): the server clears its
  // blocked flag and runs the commands it had pipelined meanwhile.
  constructor(private readonly onUnblock: (client: C) => void) {}

  /* ============================ Blocking ================================ */

  // Park a client. The caller has already checked that nothing can be
  // served now (a blocking command that can answer at once never blocks).
  block(req: BlockRequest<C>): void {
    if (this.byClient.has(req.client)) throw new Error("client is already blocked");
    const w: Waiter<C> = { ...req, keys: [...new Set(req.keys)], done: false };
    this.byClient.set(w.client, w);
    for (const key of w.keys) {
      let queue = this.byKey.get(key);
      if (queue === undefined) {
        queue = new Set();
        this.byKey.set(key, queue);
      }
      queue.add(w);
    }
    if (w.deadline > 0) this.heapPush(w);
  }

  isBlocked(client: C): boolean {
    return this.byClient.has(client);
  }

  // How many clients are blocked (INFO's blocked_clients), and how many
  // wait on one key.
  get blockedClients(): number {
    return this.byClient.size;
  }

  waitingOn(key: Key): number {
    return this.byKey.get(key)?.size ?? 0;
  }

  // Forget a client without answering it: it disconnected. False if it was
  // not blocked.
  forget(client: C): boolean {
    const w = this.byClient.get(client);
    if (w === undefined) return false;
    this.remove(w);
    return true;
  }

  private remove(w: Waiter<C>): void {
    w.done = true;
    this.byClient.delete(w.client);
    for (const key of w.keys) {
      const queue = this.byKey.get(key);
      if (queue === undefined) continue;
      queue.delete(w);
      if (queue.size === 0) this.byKey.delete(key);
    }
  }

  /* ============================ Ready keys ============================== */

  // A key was written to: if anyone waits on it, remember it for
  // handleClientsBlockedOnKeys(). Cheap when nobody waits, since the
  // keyspace calls it on every write.
  signalKeyAsReady(key: Key): void {
    if (this.byKey.has(key)) this.ready.add(key);
  }

  // Any key waited on may have changed at once (SWAPDB brought another
  // database's keys in): offer every one to its waiters.
  signalAllKeysAsReady(): void {
    for (const key of this.byKey.keys()) this.ready.add(key);
  }

  // Offer every ready key to its waiters, oldest first, until no key is
  // ready. Called after each command. Each waiter's tryServe() decides;
  // serving may ready more keys (BLMOVE's destination), served in turn.
  // Re-entrant calls (a tryServe that runs a command) return at once: the
  // outer walk picks up what they readied.
  handleClientsBlockedOnKeys(): void {
    if (this.serving) return;
    this.serving = true;
    try {
      while (this.ready.size > 0) {
        const keys = this.ready;
        this.ready = new Set();
        for (const key of keys) this.serveKey(key);
      }
    } finally {
      this.serving = false;
    }
  }

  private serveKey(key: Key): void {
    const queue = this.byKey.get(key);
    if (queue === undefined) return;
    // Only the clients waiting now: none can join during the walk (a
    // client served here runs its pipelined commands later), but be sure.
    const waiters = [...queue];
    for (const w of waiters) {
      if (w.done) continue;
      if (!w.tryServe(key)) continue;
      this.remove(w);
      this.onUnblock(w.client);
    }
  }

  /* ============================ Timeouts ================================ */

  // The nearest deadline (ms since the epoch), or Infinity if none.
  nextDeadline(): number {
    while (this.heap.length > 0 && this.heap[0]!.done) this.heapPop();
    return this.heap.length > 0 ? this.heap[0]!.deadline : Number.POSITIVE_INFINITY;
  }

  // Answer the timeout to every waiter whose deadline is before `now`
  // (Redis: a client times out once now > deadline). Returns how many.
  expire(now: number): number {
    let n = 0;
    while (this.nextDeadline() < now) {
      const w = this.heapPop();
      this.remove(w);
      w.timedOut();
      this.onUnblock(w.client);
      n++;
    }
    return n;
  }

  private heapPush(w: Waiter<C>): void {
    const h = this.heap;
    h.push(w);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.deadline <= w.deadline) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = w;
  }

  private heapPop(): Waiter<C> {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      while (true) {
        let child = 2 * i + 1;
        if (child >= h.length) break;
        if (child + 1 < h.length && h[child + 1]!.deadline < h[child]!.deadline) child++;
        if (h[child]!.deadline >= last.deadline) break;
        h[i] = h[child]!;
        i = child;
      }
      h[i] = last;
    }
    return top;
  }
}
