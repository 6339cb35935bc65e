// speed.test.ts -- step 26's compact forms give back exactly the bytes they took.
//
// The speed step changes how values are kept and written, never what a
// client reads back. The differential suite (test/redis-diff-24.test.ts)
// checks the replies against a real Redis; these check the new paths at
// their edges: every byte value, the size where a value stops being a
// string, and the reply writer fed both forms.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";
import type { ReplyWriter as Writer } from "../src/resp.ts";

const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const b = (s: string) => Buffer.from(s, "latin1");

// Since step 26: runs against step 26 and every later step of its track.
for (const step of corpusSteps(26)) {
  describe(step.name, async () => {
    const { Db, storedString } = (await import(
      `${step.dir}src/db.ts`
    )) as typeof import("../src/db.ts");
    const { ReplyWriter } = (await import(
      `${step.dir}src/resp.ts`
    )) as typeof import("../src/resp.ts");

    function written(fill: (w: Writer) => void): Buffer {
      const w = new ReplyWriter(() => {});
      fill(w);
      return Buffer.concat(w.take());
    }

    describe("small strings are stored as latin1 strings", () => {
      it("keeps every byte value, and hands out Buffers to get() and lookup()", () => {
        const db = new Db();
        const stored = storedString(all);
        expect(typeof stored).toBe("string");
        db.setString(b("k"), stored);
        expect(db.get(b("k"), "string")).toEqual(all);
        expect(db.lookup(b("k"))).toEqual({ type: "string", value: all });
        expect(db.stringForm(b("k"))).toBe(all.toString("latin1"));
      });

      it("keeps a value of 4096 bytes or more as a Buffer of its own", () => {
        expect(typeof storedString(Buffer.alloc(4095, 1))).toBe("string");
        const big = Buffer.alloc(4096, 2);
        const kept = storedString(big);
        expect(Buffer.isBuffer(kept)).toBe(true);
        expect(kept).toEqual(big);
        expect(kept).not.toBe(big); // A view of a read buffer is copied.
      });

      it("copies out of the read buffer: reusing it changes nothing stored", () => {
        const db = new Db();
        const read = b("value");
        db.setString(b("k"), storedString(read));
        read.fill(0x21);
        expect(db.get(b("k"), "string")).toEqual(b("value"));
      });

      it("answers WRONGTYPE, or nothing for MGET, on a key of another type", () => {
        const db = new Db();
        db.set(b("l"), { type: "list", value: {} as never });
        expect(() => db.stringForm(b("l"))).toThrow(/WRONGTYPE/);
        expect(db.stringForm(b("l"), true)).toBeUndefined();
        expect(db.stringForm(b("missing"))).toBeUndefined();
      });

      it("keeps SCAN order and expiry right through a compaction", () => {
        let now = 1000;
        const db = new Db({ now: () => now });
        for (let i = 0; i < 300; i++) db.setString(b(`k${i}`), "v", { expiresAt: 2000 + i });
        for (let i = 0; i < 300; i += 3) expect(db.persist(b(`k${i}`))).toBe(true);
        expect(db.expiringCount).toBe(200);
        expect(db.pttl(b("k1"))).toBe(1001);
        expect(db.pttl(b("k0"))).toBe(-1);
        now = 5000;
        db.activeExpireCycle(1000);
        expect(db.expiringCount).toBe(0);
        expect(db.size).toBe(100);
        expect(db.exists(b("k0"))).toBe(true);
        expect(db.exists(b("k1"))).toBe(false);
        // 200 holes among 300 slots: compacted. SCAN still walks the keys by birth.
        const seen: string[] = [];
        let cursor = 0;
        do {
          const [next, keys] = db.scan(cursor, 7);
          seen.push(...keys.map((k) => k.toString("latin1")));
          cursor = next;
        } while (cursor !== 0);
        expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => `k${3 * i}`));
      });

      it("keeps SCAN's place across a compaction of a big keyspace", () => {
        const db = new Db();
        const n = 150_000; // Over two of step 27's chunks of 65,536 slots.
        for (let i = 0; i < n; i++) db.setString(b(`k${i}`), "v");
        const [cursor, first] = db.scan(0, 100_000);
        expect(first.length).toBe(100_000);
        // Delete what was returned: 100,000 holes of 150,000 slots, so the
        // keyspace is compacted, and the cursor must still be the place of
        // the first key left. Keys added after come after it.
        for (let i = 0; i < 100_000; i++) db.delete(b(`k${i}`));
        for (let i = 0; i < 10; i++) db.setString(b(`new${i}`), "v");
        const rest: string[] = [];
        let c = cursor;
        do {
          const [next, keys] = db.scan(c, 1000);
          rest.push(...keys.map((k) => k.toString("latin1")));
          c = next;
        } while (c !== 0);
        const expected = Array.from({ length: 50_000 }, (_, i) => `k${100_000 + i}`);
        expect(rest).toEqual([...expected, ...Array.from({ length: 10 }, (_, i) => `new${i}`)]);
        expect(db.size).toBe(50_010);
        expect(db.randomKey()).toBeDefined();
      });
    });

    describe("the reply writer", () => {
      it("writes a stored string as the same bulk as its Buffer", () => {
        for (const v of [all, b(""), b("x"), Buffer.alloc(5000, 0xe9)]) {
          const asString = written((w) => w.value(v.toString("latin1")));
          expect(asString).toEqual(written((w) => w.bulk(v)));
          expect(asString).toEqual(Buffer.concat([b(`$${v.length}\r\n`), v, b("\r\n")]));
        }
      });
    });
  });
}
