// slab.test.ts -- step 26's reply slab and its big bulks of their own.
//
// Steps 10-25 queue one Buffer per reply and copy every stored argument;
// here small replies share one 16 KB slab, big payloads are queued as they
// are, and a big bulk is read into a buffer of its own that a stored value
// keeps. The bytes a client reads are the same (the differential suite
// checks them); these check the tricks themselves. The memory they save is
// measured by test/redis-memory.test.ts.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";

const LIMITS = { maxBulkLen: 512 * 1024 * 1024 };
const b = (s: string) => Buffer.from(s, "latin1");

// Since step 26: runs against step 26 and every later step of its track.
for (const step of corpusSteps(26)) {
  describe(step.name, async () => {
    const { keepArg, ReplyWriter, RespParser } = (await import(
      `${step.dir}src/resp.ts`
    )) as typeof import("../src/resp.ts");

    describe("one slab per client", () => {
      it("writes many small replies into one chunk", () => {
        const w = new ReplyWriter(() => {});
        for (let i = 0; i < 100; i++) w.integer(i);
        const chunks = w.take();
        expect(chunks.length).toBe(1);
        expect(chunks[0]!.toString()).toBe(
          Array.from({ length: 100 }, (_, i) => `:${i}\r\n`).join(""),
        );
      });

      it("queues a big payload as it is, between the slab's pieces", () => {
        const w = new ReplyWriter(() => {});
        const value = Buffer.alloc(10000, 0x61);
        w.integer(1);
        w.bulk(value);
        w.integer(2);
        const chunks = w.take();
        expect(chunks.some((c) => c === value)).toBe(true);
        expect(
          Buffer.concat(chunks).equals(
            Buffer.concat([b(":1\r\n$10000\r\n"), value, b("\r\n:2\r\n")]),
          ),
        ).toBe(true);
      });

      it("keeps views handed out by take() intact past a full slab", () => {
        const w = new ReplyWriter(() => {});
        w.bulk("first");
        const taken = w.take();
        for (let i = 0; i < 2000; i++) w.bulk("0123456789"); // 32 KB: two slabs more.
        expect(Buffer.concat(taken).toString()).toBe("$5\r\nfirst\r\n");
        expect(Buffer.concat(w.take()).toString()).toBe("$10\r\n0123456789\r\n".repeat(2000));
      });
    });

    describe("a big value is held once", () => {
      it("reads a big bulk split over many reads into a buffer that keepArg() keeps as it is", () => {
        const value = Buffer.alloc(100 * 1024);
        for (let i = 0; i < value.length; i++) value[i] = i % 251;
        const wire = Buffer.concat([
          b(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${value.length}\r\n`),
          value,
          b("\r\n"),
        ]);
        const p = new RespParser(LIMITS);
        let argv: Buffer[] | null = null;
        for (let i = 0; i < wire.length; i += 1000) {
          p.feed(wire.subarray(i, i + 1000));
          argv = p.next() ?? argv;
          // While it arrives, the whole bulk is counted against the query buffer limit.
          if (argv === null) expect(p.buffered).toBeGreaterThanOrEqual(value.length);
        }
        expect(argv?.[2]?.equals(value)).toBe(true);
        expect(argv![2]!.buffer).not.toBe(wire.buffer);
        expect(keepArg(argv![2]!)).toBe(argv![2]);
        // A small argument is a view of the read: it is copied.
        expect(keepArg(argv![1]!)).not.toBe(argv![1]);
        expect(keepArg(argv![1]!).toString()).toBe("k");
      });
    });
  });
}
