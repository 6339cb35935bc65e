// resp.test.ts -- the parser and the reply writer, without a server.
//
// Unit cases for each limit and error text, then property tests (fast-check):
// any valid stream cut at any points parses to the same commands, and
// arbitrary bytes never make the parser throw anything but ProtocolError
// nor hold more than the limits allow.

import { corpusSteps } from "@smallchat/test/corpus";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

// Since step 10: runs against step 10 and every later step of its track.
for (const step of corpusSteps(10)) {
  describe(step.name, async () => {
    const { ProtocolError, ReplyWriter, RespParser } = (await import(
      `${step.dir}src/resp.ts`
    )) as typeof import("../src/resp.ts");
    const LIMITS = { maxBulkLen: 512 * 1024 * 1024 };

    // Everything a parser makes of `chunks` fed one by one: commands as arrays
    // of latin1 strings, then "ERR <message>" if it threw.
    function parseAll(chunks: Buffer[], limits = LIMITS): string[][] {
      const p = new RespParser(limits);
      const out: string[][] = [];
      try {
        for (const chunk of chunks) {
          p.feed(chunk);
          for (let argv = p.next(); argv !== null; argv = p.next()) {
            out.push(argv.map((a) => a.toString("latin1")));
          }
        }
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        out.push([`ERR ${err.message}`]);
      }
      return out;
    }

    const b = (s: string) => Buffer.from(s, "latin1");

    function encode(argv: Buffer[]): Buffer {
      const parts: Buffer[] = [b(`*${argv.length}\r\n`)];
      for (const a of argv) parts.push(b(`$${a.length}\r\n`), a, b("\r\n"));
      return Buffer.concat(parts);
    }

    describe("RESP parser", () => {
      it("parses multibulk commands, pipelined", () => {
        const input = b("*2\r\n$4\r\nECHO\r\n$5\r\nhi\nyo\r\n*1\r\n$4\r\nPING\r\n");
        expect(parseAll([input])).toEqual([["ECHO", "hi\nyo"], ["PING"]]);
      });

      it("is binary safe: any byte in a bulk", () => {
        const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const p = new RespParser(LIMITS);
        p.feed(encode([b("ECHO"), all]));
        expect(p.next()?.[1]?.equals(all)).toBe(true);
      });

      it("skips empty commands: *0 and *-1", () => {
        expect(parseAll([b("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n")])).toEqual([["PING"]]);
      });

      // Step 11 reads such a request as an inline command, as Redis does.
      if (step.num < 11) {
        it("refuses a request that does not start with '*'", () => {
          expect(parseAll([b("PING\r\n")])).toEqual([
            ["ERR Protocol error: expected '*', got 'P'"],
          ]);
        });
      }

      it("tells incomplete from invalid", () => {
        expect(parseAll([b("*2\r\n$4\r\nECHO\r\n$5\r\nhi")])).toEqual([]);
        expect(parseAll([b("*x\r\n")])).toEqual([["ERR Protocol error: invalid multibulk length"]]);
      });

      it.each([
        ["*3000000000\r\n", "invalid multibulk length"],
        ["*01\r\n", "invalid multibulk length"],
        ["*1\r\n$-1\r\n", "invalid bulk length"],
        ["*1\r\n$536870913\r\n", "invalid bulk length"],
        ["*1\r\nPING\r\n", "expected '$', got 'P'"],
        ["*1\r\n\r\n\r\n", "expected '$', got ' '"],
        ["*1\r\n$<70000 digits>", "too big bulk count string"],
        ["*<70000 digits>", "too big mbulk count string"],
      ])("rejects %j with Redis's text", (shown, msg) => {
        const input = shown.replace("<70000 digits>", "1".repeat(70000));
        expect(parseAll([b(input)])).toEqual([[`ERR Protocol error: ${msg}`]]);
      });

      it("honours proto-max-bulk-len", () => {
        expect(parseAll([b("*1\r\n$11\r\n")], { maxBulkLen: 10 })).toEqual([
          ["ERR Protocol error: invalid bulk length"],
        ]);
      });

      it("parses a 10 MB value split in 1 KB reads in linear time", () => {
        const value = Buffer.alloc(10 * 1024 * 1024, 0x61);
        const wire = encode([b("SET"), b("k"), value]);
        const p = new RespParser(LIMITS);
        const start = performance.now();
        let argv: Buffer[] | null = null;
        for (let i = 0; i < wire.length; i += 1024) {
          p.feed(wire.subarray(i, i + 1024));
          argv = p.next() ?? argv; // As the server does: parse after every read.
        }
        const ms = performance.now() - start;
        expect(argv?.[2]?.equals(value)).toBe(true);
        // Quadratic copying of 10 MB in 1 KB pieces moves ~50 GB: minutes.
        expect(ms).toBeLessThan(2000);
      });

      it("a command trickling in one byte per read costs linear copying", () => {
        const line = encode([b("ECHO"), b("y".repeat(60 * 1024))]);
        const p = new RespParser(LIMITS);
        const start = performance.now();
        let argv: Buffer[] | null = null;
        for (let i = 0; i < line.length; i++) {
          p.feed(line.subarray(i, i + 1));
          argv = p.next() ?? argv;
        }
        expect(argv?.[1]?.length).toBe(60 * 1024);
        // Copying the whole tail on each read would move ~1.9 GB.
        expect(performance.now() - start).toBeLessThan(2000);
      });
    });

    describe("RESP parser properties", () => {
      const arg = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
      const command = fc.array(arg, { minLength: 1, maxLength: 5 });

      it("any split of a valid stream yields the same commands", () => {
        fc.assert(
          fc.property(
            fc.array(command, { minLength: 1, maxLength: 8 }),
            fc.array(fc.nat(), { maxLength: 10 }),
            (cmds, cuts) => {
              const wire = Buffer.concat(cmds.map(encode));
              const points = [...new Set(cuts.map((n) => n % (wire.length + 1)))].sort(
                (x, y) => x - y,
              );
              const chunks: Buffer[] = [];
              let last = 0;
              for (const p of points) {
                chunks.push(wire.subarray(last, p));
                last = p;
              }
              chunks.push(wire.subarray(last));
              const expected = cmds.map((c) => c.map((a) => a.toString("latin1")));
              expect(parseAll(chunks)).toEqual(expected);
              expect(parseAll([wire])).toEqual(expected);
              // And byte by byte.
              expect(parseAll([...wire].map((x) => Buffer.from([x])))).toEqual(expected);
            },
          ),
          { numRuns: 300 },
        );
      });

      it("arbitrary bytes: only ProtocolError, and bounded holding", () => {
        fc.assert(
          fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), (chunks) => {
            const p = new RespParser({ maxBulkLen: 1000 });
            let fed = 0;
            try {
              for (const chunk of chunks) {
                p.feed(Buffer.from(chunk));
                fed += chunk.length;
                while (p.next() !== null) {}
                // What it holds is never more than what it was given.
                expect(p.buffered).toBeLessThanOrEqual(fed);
              }
            } catch (err) {
              expect(err).toBeInstanceOf(ProtocolError);
            }
          }),
          { numRuns: 500 },
        );
      });
    });

    describe("reply writer", () => {
      it("writes each RESP2 type", () => {
        const w = new ReplyWriter(() => {});
        w.simple("OK");
        w.error("ERR bad\nthing");
        w.integer(7);
        w.bulk("k");
        w.null();
        w.array(2);
        w.bulk(Buffer.from([0, 0xff]));
        w.raw(Buffer.from("+PONG\r\n"));
        expect(Buffer.concat(w.take()).toString("latin1")).toBe(
          "+OK\r\n-ERR bad thing\r\n:7\r\n$1\r\nk\r\n$-1\r\n*2\r\n$2\r\n\x00\xff\r\n+PONG\r\n",
        );
      });

      it("keeps bytes handed out by take() intact while writing on", () => {
        const w = new ReplyWriter(() => {});
        w.bulk("first");
        const taken = w.take();
        w.bulk("second");
        expect(Buffer.concat(taken).toString()).toBe("$5\r\nfirst\r\n");
        expect(Buffer.concat(w.take()).toString()).toBe("$6\r\nsecond\r\n");
        expect(w.take()).toEqual([]);
      });
    });
  });
}
