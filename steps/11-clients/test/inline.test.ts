// inline.test.ts -- the inline form: a plain line, as typed at telnet or nc.
//
// Unit cases for the splitting rules and the inline error texts, a property
// test (inline and multibulk commands mixed, cut at any points, parse the
// same), and redis-benchmark's PING_INLINE, which sends "PING\r\n".

import { spawn } from "node:child_process";
import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

// Since step 11: runs against step 11 and every later step of its track.
for (const step of corpusSteps(11)) {
  describe(step.name, async () => {
    const { ProtocolError, RespParser, splitArgs } = (await import(
      `${step.dir}src/resp.ts`
    )) as typeof import("../src/resp.ts");
    const LIMITS = { maxBulkLen: 512 * 1024 * 1024 };

    // Everything a parser makes of `chunks` fed one by one: commands as arrays
    // of latin1 strings, then "ERR <message>" if it threw.
    function parseAll(chunks: Buffer[]): string[][] {
      const p = new RespParser(LIMITS);
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

    describe("inline commands", () => {
      it("parses inline commands between multibulk ones, pipelined", () => {
        const input = b("*2\r\n$4\r\nECHO\r\n$5\r\nhi\nyo\r\nPING\r\n  ECHO  \"a b\" 'c'\r\n");
        expect(parseAll([input])).toEqual([["ECHO", "hi\nyo"], ["PING"], ["ECHO", "a b", "c"]]);
      });

      it("skips blank lines", () => {
        expect(parseAll([b("\r\n   \r\n\nPING\r\n")])).toEqual([["PING"]]);
      });

      it.each([
        ['"unbalanced\r\n', "unbalanced quotes in request"],
        ['"a"b\r\n', "unbalanced quotes in request"],
        ["<70000 x>", "too big inline request"],
      ])("rejects %j with Redis's text", (shown, msg) => {
        const input = shown.replace("<70000 x>", "x".repeat(70000));
        expect(parseAll([b(input)])).toEqual([[`ERR Protocol error: ${msg}`]]);
      });

      it("splits inline arguments as redis-cli does", () => {
        const args = splitArgs(b(`set "a\\x41\\n" 'it\\'s'`))?.map((a) => a.toString("latin1"));
        expect(args).toEqual(["set", "aA\n", "it's"]);
      });

      it("any split of inline and multibulk commands mixed yields the same commands", () => {
        const arg = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
        const command = fc.array(arg, { minLength: 1, maxLength: 5 });
        const inline = fc
          .array(fc.stringMatching(/^[a-zA-Z0-9]{1,8}$/), { minLength: 1, maxLength: 4 })
          .map((words) => words.map((w) => b(w)));
        fc.assert(
          fc.property(
            fc.array(
              fc.oneof(
                command.map((c) => ({ c, inline: false })),
                inline.map((c) => ({ c, inline: true })),
              ),
              { minLength: 1, maxLength: 8 },
            ),
            fc.array(fc.nat(), { maxLength: 10 }),
            (cmds, cuts) => {
              const wire = Buffer.concat(
                cmds.map(({ c, inline }) =>
                  inline ? b(`${c.map((a) => a.toString("latin1")).join(" ")}\r\n`) : encode(c),
                ),
              );
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
              const expected = cmds.map(({ c }) => c.map((a) => a.toString("latin1")));
              expect(parseAll(chunks)).toEqual(expected);
              // And byte by byte.
              expect(parseAll([...wire].map((x) => Buffer.from([x])))).toEqual(expected);
            },
          ),
          { numRuns: 300 },
        );
      });
    });

    describe("redis-benchmark", () => {
      const server = serverForAllTests(stepFile(step, "src/server.ts"));

      it("-t ping_inline -n 20000 -P 16 completes", async () => {
        const out = await new Promise<string>((resolve, reject) => {
          const child = spawn("redis-benchmark", [
            ...["-h", "127.0.0.1", "-p", String(server().port)],
            ...["-t", "ping_inline", "-n", "20000", "-P", "16", "-q"],
          ]);
          let text = "";
          child.stdout.on("data", (d: Buffer) => {
            text += d.toString();
          });
          child.on("error", reject);
          child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(text))));
        });
        expect(out).toMatch(/PING_INLINE: [\d.]+ requests per second/);
      });
    });
  });
}
