// speed.test.ts -- step 26's compact forms give back exactly the bytes they took.
//
// The speed step changes how values are kept and written, never what a
// client reads back. The differential suite (test/redis-diff.test.ts)
// checks the replies against a real Redis; these check the new paths at
// their edges: every byte value, the size where a value stops being a
// string, and the reply writer fed both forms.

import { describe, expect, it } from "vitest";
import { Db, storedString } from "../src/db.ts";
import { ReplyWriter } from "../src/resp.ts";
import { MAX_ID, MIN_ID, Stream, U64_MAX } from "../src/stream.ts";

const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const b = (s: string) => Buffer.from(s, "latin1");

function written(fill: (w: ReplyWriter) => void): Buffer {
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

  it("keeps SCAN order and expiry right without a birth in each entry", () => {
    let now = 1000;
    const db = new Db({ now: () => now });
    for (let i = 0; i < 100; i++) db.setString(b(`k${i}`), "v", { expiresAt: 2000 + i });
    for (let i = 0; i < 100; i += 2) expect(db.persist(b(`k${i}`))).toBe(true);
    expect(db.expiringCount).toBe(50);
    now = 5000;
    db.activeExpireCycle(1000);
    expect(db.expiringCount).toBe(0);
    expect(db.size).toBe(50);
    expect(db.exists(b("k0"))).toBe(true);
    expect(db.exists(b("k1"))).toBe(false);
    // The holes were compacted away: SCAN still walks the keys by birth.
    const seen: string[] = [];
    let cursor = 0;
    do {
      const [next, keys] = db.scan(cursor, 7);
      seen.push(...keys.map((k) => k.toString("latin1")));
      cursor = next;
    } while (cursor !== 0);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => `k${2 * i}`));
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

describe("stream entries are packed into nodes", () => {
  const id = (ms: bigint, seq = 0n) => ({ ms, seq });
  const fv = [b("f"), b("v")];

  it("gives back every field as sent, across the one- and two-byte lengths", () => {
    const s = new Stream({ clock: () => 1000 });
    const sizes = [0, 1, 127, 128, 129, 1000, 2000];
    const fields = sizes.map((n, i) => Buffer.alloc(n, i + 1));
    fields.push(all, b("")); // An even count: the last pair is [all bytes, empty].
    const first = s.add({ kind: "auto" }, fields);
    expect(s.range(first, first)[0]!.fields).toEqual(fields);
    // Big entries keep Buffers of their own; both kinds read back alike.
    const big = [b("f"), Buffer.alloc(5000, 7)];
    const second = s.add({ kind: "auto" }, big);
    expect(s.range(second, second)[0]!.fields).toEqual(big);
    expect(s.get(first)!.fields).toEqual(fields);
  });

  it("copies fields out of the read buffer, and out of the reused tail buffer", () => {
    const s = new Stream({ clock: () => 1000, nodeMaxEntries: 2 });
    const read = b("fieldvalue");
    const first = s.add({ kind: "auto" }, [read.subarray(0, 5), read.subarray(5)]);
    read.fill(0x21);
    const early = s.range(first, first)[0]!; // Read while its node is open.
    expect(early.fields).toEqual([b("field"), b("value")]);
    s.add({ kind: "auto" }, fv); // The node is full: it moves out of the tail buffer...
    s.add({ kind: "auto" }, [b("XXXXX"), b("YYYYY")]); // ...which the next node writes over.
    expect(early.fields).toEqual([b("field"), b("value")]);
    expect(s.range(first, first)[0]!.fields).toEqual([b("field"), b("value")]);
    expect(s.info().radixTreeKeys).toBe(2);
  });

  it("keeps IDs exact when a delta does not fit a double", () => {
    const s = new Stream({ nodeMaxEntries: 10 });
    const safe = BigInt(Number.MAX_SAFE_INTEGER);
    const ids = [
      id(5n),
      id(5n + safe), // The largest delta stored as a varint...
      id(6n + safe), // ...and the first stored WIDE.
      id(6n + safe, safe + 1n), // A sequence past 2^53.
      id(U64_MAX, U64_MAX - 1n),
    ];
    for (const x of ids) s.add({ kind: "explicit", id: x }, fv);
    expect(s.info().radixTreeKeys).toBe(1);
    expect(s.range(MIN_ID, MAX_ID).map((e) => e.id)).toEqual(ids);
    expect(s.range(MIN_ID, MAX_ID, 0, true).map((e) => e.id)).toEqual([...ids].reverse());
    for (const x of ids) expect(s.get(x)?.id).toEqual(x);
    // Neighbours that round to the same double are not found.
    expect(s.has(id(4n + safe))).toBe(false);
    expect(s.has(id(7n + safe))).toBe(false);
    expect(s.has(id(6n + safe, safe + 2n))).toBe(false);
    expect(s.range(id(6n + safe, 1n), MAX_ID).map((e) => e.id)).toEqual(ids.slice(3));
    expect(s.delete([ids[2]!])).toBe(1);
    expect(s.range(MIN_ID, MAX_ID).map((e) => e.id)).toEqual([...ids.slice(0, 2), ...ids.slice(3)]);
    expect(s.lastEntryId()).toEqual(ids[4]);
  });

  it("stores only the values of entries named as the node's first", () => {
    const s = new Stream({ clock: () => 1000, nodeMaxEntries: 5 });
    const entries = [
      [b("a"), b("1"), b("bb"), b("2")],
      [b("a"), b("3"), b("bb"), b("4")], // SAME
      [b("a"), b("5"), b("cb"), b("6")], // another name of the same length
      [b("a"), b("7"), b("bbb"), b("8")], // one byte longer
      [b("a"), b("9")], // fewer fields
      [b("a"), b("10"), b("bb"), b("11")], // the next node's first: all of it stored
      [b("a"), b(""), b("bb"), Buffer.alloc(300, 1)], // SAME, a two-byte length
    ];
    const ids = entries.map((e) => s.add({ kind: "auto" }, e));
    const read = () => s.range(MIN_ID, MAX_ID).map((e) => e.fields);
    expect(read()).toEqual(entries); // The second node open: copies...
    for (let i = 0; i < 3; i++) s.add({ kind: "auto" }, entries[0]!);
    expect(read().slice(0, 7)).toEqual(entries); // ...and closed: views.
    // The names live in the first entry, which XDEL only flags.
    expect(s.delete([ids[0]!, ids[5]!])).toBe(2);
    expect(s.get(ids[1]!)!.fields).toEqual(entries[1]);
    expect(s.get(ids[6]!)!.fields).toEqual(entries[6]);
    expect(s.range(ids[6]!, MAX_ID, 0, true).map((e) => e.fields)).toEqual([
      entries[0],
      entries[0],
      entries[0],
      entries[6],
    ]);
  });

  it("takes 5 bytes for `f v` in a full node, and no more room than it uses", () => {
    const s = new Stream({ clock: () => 1000 });
    for (let i = 0; i < 100; i++) s.add({ kind: "auto" }, fv);
    const [node] = (s as unknown as { nodes: { buf: Buffer; used: number }[] }).nodes;
    // The first entry: flags, ms delta, seq, count, 1 "f", 1 "v". The others:
    // flags (SAME), ms delta, seq, 1 "v".
    expect(node!.used).toBe(8 + 99 * 5);
    expect(node!.buf.length).toBe(node!.used);
  });

  it("hands out fresh IDs: a pending entry never holds a node", () => {
    const s = new Stream({ clock: () => 1000 });
    const added = s.add({ kind: "auto" }, fv);
    const a = s.get(added)!;
    expect(a.id).toEqual(added);
    expect(s.get(added)!.id).not.toBe(a.id);
  });
});
