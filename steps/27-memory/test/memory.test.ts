// memory.test.ts -- step 27's packed stream nodes give back exactly what they took.
//
// The memory step changes how entries and keys are kept, never what a
// client reads back. The differential suite (test/redis-diff-24.test.ts)
// checks the replies against a real Redis; these check the packed forms at
// their edges: the varint lengths, IDs past 2^53, entries named as their
// node's first, the tail buffer's reuse, and the bytes a node takes.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";

const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const b = (s: string) => Buffer.from(s, "latin1");

// Since step 27: runs against step 27 and every later step of its track.
for (const step of corpusSteps(27)) {
  describe(step.name, async () => {
    const { MAX_ID, MIN_ID, Stream, U64_MAX } = (await import(
      `${step.dir}src/stream.ts`
    )) as typeof import("../src/stream.ts");

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
        expect(s.range(MIN_ID, MAX_ID).map((e) => e.id)).toEqual([
          ...ids.slice(0, 2),
          ...ids.slice(3),
        ]);
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
  });
}
