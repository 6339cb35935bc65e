// blocking.test.ts -- the blocking manager alone: per-key FIFO, ready keys served after the
// command, timeouts in deadline order, forgetting a client, never answering twice.
//
// No server and no lists: a "key" here is a plain array of items, and each
// waiter's tryServe() takes one item if there is one, exactly as BLPOP's
// callback pops. The server-level proofs are in blpop.test.ts and the diff
// family test/diff/blocking.ts.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";

// Since step 19: runs against step 19 and every later step of its track.
for (const step of corpusSteps(19)) {
  describe(step.name, async () => {
    const { BlockingManager } = (await import(
      `${step.dir}src/blocking.ts`
    )) as typeof import("../src/blocking.ts");
    interface Fake {
      name: string;
      got: string[];
    }

    function setup() {
      const store = new Map<string, string[]>();
      const unblocked: string[] = [];
      const m = new BlockingManager<Fake>((c) => unblocked.push(c.name));
      const block = (name: string, keys: string[], deadline = 0): Fake => {
        const c: Fake = { name, got: [] };
        m.block({
          client: c,
          keys,
          deadline,
          tryServe: (key) => {
            const items = store.get(key);
            if (items === undefined || items.length === 0) return false;
            c.got.push(`${key}:${items.shift()}`);
            return true;
          },
          timedOut: () => c.got.push("timeout"),
        });
        return c;
      };
      // A "command" that pushes: the keys become ready, waiters are served
      // only when it is over.
      const push = (key: string, ...items: string[]) => {
        const list = store.get(key) ?? [];
        list.push(...items);
        store.set(key, list);
        m.signalKeyAsReady(key);
      };
      return { m, store, unblocked, block, push };
    }

    describe("BlockingManager", () => {
      it("serves waiters on a key in the order they blocked, after the command", () => {
        const { m, unblocked, block, push } = setup();
        const [a, b, c] = [block("a", ["k"]), block("b", ["k"]), block("c", ["k"])];
        push("k", "1", "2", "3");
        expect(a.got).toEqual([]); // Nothing happens during the command.
        m.handleClientsBlockedOnKeys();
        expect([a.got, b.got, c.got]).toEqual([["k:1"], ["k:2"], ["k:3"]]);
        expect(unblocked).toEqual(["a", "b", "c"]);
        expect(m.blockedClients).toBe(0);
        expect(m.waitingOn("k")).toBe(0);
      });

      it("leaves the rest waiting when the key runs out", () => {
        const { m, block, push } = setup();
        const [a, b] = [block("a", ["k"]), block("b", ["k"])];
        push("k", "1");
        m.handleClientsBlockedOnKeys();
        expect([a.got, b.got]).toEqual([["k:1"], []]);
        expect(m.isBlocked(b)).toBe(true);
        push("k", "2");
        m.handleClientsBlockedOnKeys();
        expect(b.got).toEqual(["k:2"]);
      });

      it("wakes a client waiting on several keys on whichever gets data, once", () => {
        const { m, block, push } = setup();
        const a = block("a", ["k1", "k2"]);
        const b = block("b", ["k2"]);
        push("k2", "x", "y");
        push("k1", "z");
        m.handleClientsBlockedOnKeys();
        expect(a.got).toEqual(["k2:x"]);
        expect(b.got).toEqual(["k2:y"]);
        expect(m.waitingOn("k1")).toBe(0);
      });

      it("ignores keys nobody waits on, and duplicate keys in one request", () => {
        const { m, block, push } = setup();
        push("other", "1");
        m.handleClientsBlockedOnKeys();
        const a = block("a", ["k", "k"]);
        expect(m.waitingOn("k")).toBe(1);
        push("k", "1", "2");
        m.handleClientsBlockedOnKeys();
        expect(a.got).toEqual(["k:1"]);
      });

      it("serves keys readied while serving (a BLMOVE onto another waiter's key)", () => {
        const { m, store, block, push } = setup();
        const mover: Fake = { name: "mover", got: [] };
        m.block({
          client: mover,
          keys: ["src"],
          deadline: 0,
          tryServe: () => {
            const item = store.get("src")!.shift()!;
            mover.got.push(item);
            push("dst", item); // Readies dst in the middle of the walk.
            return true;
          },
          timedOut: () => {},
        });
        const waiter = block("w", ["dst"]);
        push("src", "job");
        m.handleClientsBlockedOnKeys();
        expect(mover.got).toEqual(["job"]);
        expect(waiter.got).toEqual(["dst:job"]);
      });

      it("forgets a client without answering it: it swallows nothing", () => {
        const { m, store, unblocked, block, push } = setup();
        const a = block("a", ["k"], 1000);
        const b = block("b", ["k"]);
        expect(m.forget(a)).toBe(true);
        expect(m.forget(a)).toBe(false);
        push("k", "1", "2");
        m.handleClientsBlockedOnKeys();
        expect(a.got).toEqual([]);
        expect(b.got).toEqual(["k:1"]);
        expect(store.get("k")).toEqual(["2"]);
        expect(unblocked).toEqual(["b"]);
        expect(m.expire(5000)).toBe(0); // a's deadline left with it.
      });

      it("times out in deadline order, strictly after the deadline, never 0 = forever", () => {
        const { m, block } = setup();
        const late = block("late", ["k"], 300);
        const forever = block("forever", ["k"], 0);
        const early = block("early", ["k"], 100);
        const mid = block("mid", ["j"], 200);
        expect(m.nextDeadline()).toBe(100);
        expect(m.expire(100)).toBe(0);
        expect(m.expire(101)).toBe(1);
        expect(early.got).toEqual(["timeout"]);
        expect(m.expire(1000)).toBe(2);
        expect(mid.got).toEqual(["timeout"]);
        expect(late.got).toEqual(["timeout"]);
        expect(forever.got).toEqual([]);
        expect(m.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
        expect(m.isBlocked(forever)).toBe(true);
      });

      it("never answers twice: a timeout after the client was served does nothing", () => {
        const { m, unblocked, block, push } = setup();
        const a = block("a", ["k"], 100);
        push("k", "1");
        m.handleClientsBlockedOnKeys();
        expect(m.expire(10_000)).toBe(0);
        expect(a.got).toEqual(["k:1"]);
        expect(unblocked).toEqual(["a"]);
      });

      it("keeps the heap right through many random deadlines", () => {
        const { m, block } = setup();
        const deadlines = Array.from({ length: 500 }, (_, i) => 1 + ((i * 7919) % 1000));
        const clients = deadlines.map((d, i) => block(`c${i}`, ["k"], d));
        for (let i = 0; i < clients.length; i += 3) m.forget(clients[i]!);
        let last = 0;
        let n = 0;
        for (let now = 2; now <= 1002; now++) {
          const before = m.nextDeadline();
          if (before !== Number.POSITIVE_INFINITY) expect(before).toBeGreaterThanOrEqual(last);
          n += m.expire(now);
          last = before === Number.POSITIVE_INFINITY ? last : before;
        }
        expect(n).toBe(clients.length - Math.ceil(clients.length / 3));
        expect(m.blockedClients).toBe(0);
      });

      it("refuses to block a client twice", () => {
        const { m } = setup();
        const c: Fake = { name: "x", got: [] };
        const req = {
          client: c,
          keys: ["k"],
          deadline: 0,
          tryServe: () => false,
          timedOut: () => {},
        };
        m.block(req);
        expect(() => m.block(req)).toThrow();
      });
    });
  });
}
