// buffered-io.test.ts -- lines are reassembled, and every buffer has a limit.

import { readFileSync } from "node:fs";
import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { connectClient, FLOOD_LINE, floodPaced, serverForEachTest } from "@smallchat/test/harness";
import { describe, expect, it } from "vitest";

// Since step 02: runs against step 02 and every later step of its track.
for (const step of corpusSteps(2)) {
  describe(step.name, async () => {
    // A fresh server for every test: tests must not hear each other's clients.
    const server = serverForEachTest(stepFile(step, "src/server.ts"));

    describe("input buffer", () => {
      it("waits for the newline of a line written a byte at a time", async () => {
        const a = await connectClient(server().port);
        const b = await connectClient(server().port);
        for (const ch of "slowly\n") await a.send(ch);
        expect(await b.nextLine()).toMatch(/^user:\d+> slowly$/);
      });

      it("rejects an overlong line once, drops all of it, and reads the next line", async () => {
        const a = await connectClient(server().port);
        const b = await connectClient(server().port);
        // 1 MiB with no newline: the server must not keep it, only say so once.
        const chunk = Buffer.alloc(64 * 1024, "x");
        for (let i = 0; i < 16; i++) await a.send(chunk);
        await a.send("tail of the long line\nshort line\n");
        expect(await a.nextLine()).toBe("ERR line too long (max 4096 bytes): discarded");
        expect(await b.nextLine()).toMatch(/> short line$/);
        expect(a.drain()).toEqual([]);
        expect(server().logs.filter((l) => l.includes("over 4096 bytes"))).toHaveLength(1);
      });

      it("accepts a line of exactly 4096 bytes and rejects 4097", async () => {
        const a = await connectClient(server().port);
        const b = await connectClient(server().port);
        await a.send(`${"y".repeat(4096)}\r\n${"z".repeat(4097)}\r\nafter\n`);
        expect(await b.nextLine()).toMatch(/> y{4096}$/);
        expect(await a.nextLine()).toMatch(/^ERR line too long/);
        expect(await b.nextLine()).toMatch(/> after$/);
      });

      it("answers invalid UTF-8 with an error and neutralises control bytes", async () => {
        const a = await connectClient(server().port);
        const b = await connectClient(server().port);
        await a.send(Buffer.from([0xc3, 0x28, 0x0a])); // A broken 2-byte sequence.
        expect(await a.nextLine()).toBe("ERR invalid UTF-8: line discarded");
        await a.send("\x1b[2Jbell\x07 café 中\n");
        expect(await b.nextLine()).toMatch(/> \ufffd\[2Jbell\ufffd café 中$/);
      });
    });

    describe("hostile and odd input", () => {
      it("neutralises C1 controls like C0 ones", async () => {
        const a = await connectClient(server().port);
        const b = await connectClient(server().port);
        // U+009B is a one-character ESC [: "\u009b2J" clears many a screen.
        await a.send("\u009b2J \u0085 \u009f \u00a0ok\n");
        expect(await b.nextLine()).toMatch(/> \ufffd2J \ufffd \ufffd \u00a0ok$/);
      });

      it("relays no whitespace-only line, and reads command names in any case", async () => {
        const a = await connectClient(server().port);
        const b = await connectClient(server().port);
        await a.send("    \n\t \t\n/NICK Shouty\n");
        await server().waitForLog(/is now known as Shouty$/);
        await a.send("after\n");
        // The blank lines said nothing: the first line b hears is the next one.
        expect(await b.nextLine()).toBe("Shouty> after");
      });

      it("answers a /nick without a nick with its usage", async () => {
        const a = await connectClient(server().port);
        await a.send("/nick\n/nick   \n");
        expect(await a.nextLine()).toBe("ERR usage: /nick <nick>");
        expect(await a.nextLine()).toBe("ERR usage: /nick <nick>");
      });
    });

    describe("end of input", () => {
      it("relays the text after the last newline when the client ends its input", async () => {
        const a = await connectClient(server().port);
        const b = await connectClient(server().port);
        await a.send("one\nlast words");
        a.socket.end(); // printf 'one\nlast words' | nc -N host port
        expect(await b.nextLine()).toMatch(/^user:1> one$/);
        expect(await b.nextLine()).toMatch(/^user:1> last words$/);
      });

      it("keeps sending to a client that half-closed, and frees it once it closes", async () => {
        const a = await connectClient(server().port);
        const b = await connectClient(server().port);
        const c = await connectClient(server().port);
        a.socket.end();
        await server().waitForLog(/^Client id=1 ended its input: still receiving$/);
        expect(await a.nextLine()).toMatch(/^\* end of your input/);
        await b.send("still there?\n");
        expect(await a.nextLine()).toBe("user:2> still there?");
        // Now a closes for good: the server learns it by writing (a closed peer
        // answers with a reset), so b keeps talking until a is freed.
        a.close();
        for (let i = 0; !server().logs.some((l) => l.startsWith("Disconnected client id=1")); i++) {
          await b.send(`ping ${i}\n`);
          await c.waitForLine(`> ping ${i}`);
        }
        await b.send("/who\n");
        expect(await b.nextLine()).toMatch(/^Users: user:2 user:3$|^Unsupported command$/);
      });
    });

    describe("dead peers", () => {
      // A peer that vanishes without a packet cannot be staged on loopback (no
      // cable to pull without root), so this checks the kernel's own view: the
      // server's end of the connection has a keepalive timer, due in about 60 s.
      it.runIf(process.platform === "linux")("turns TCP keepalive on, at 60 s", async () => {
        const a = await connectClient(server().port);
        const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");
        const ours = `:${hex(server().port)} 0100007F:${hex(a.socket.localPort!)} `;
        const row = readFileSync("/proc/net/tcp", "utf8")
          .split("\n")
          .find((l) => l.includes(ours));
        // Columns: sl local remote st tx:rx tr:when ... ; tr 02 is the keepalive
        // timer, `when` in clock ticks (USER_HZ, 100 a second).
        const [timer, when] = (row?.trim().split(/\s+/)[5] ?? "").split(":");
        expect(timer).toBe("02");
        expect(Number.parseInt(when!, 16) / 100).toBeGreaterThan(50);
        expect(Number.parseInt(when!, 16) / 100).toBeLessThanOrEqual(60);
      });
    });

    describe("output buffer", () => {
      it("drops a client that stops reading, and loses nothing for the others", async () => {
        const slow = await connectClient(server().port);
        slow.socket.pause(); // Never read again: the kernel buffers fill, then ours.
        const sender = await connectClient(server().port);
        const reader = await connectClient(server().port);
        // 3,000 lines, ~12 MB: more than the kernel buffers plus our 1 MiB limit.
        await floodPaced(sender, reader, 3000);
        await server().waitForLog(
          /^Disconnected client id=1, .*output buffer over 1048576 bytes/,
          20000,
        );
        const flood = `user:2> ${FLOOD_LINE.trimEnd()}`;
        expect(reader.lines.filter((l) => l === flood)).toHaveLength(3000);
      });

      it("survives a connection reset in the middle of a line", async () => {
        const a = await connectClient(server().port);
        const b = await connectClient(server().port);
        await a.send("half a li");
        a.socket.resetAndDestroy();
        await server().waitForLog(/^Disconnected client id=1/);
        const c = await connectClient(server().port);
        await c.send("still serving\n");
        expect(await b.nextLine()).toMatch(/> still serving$/);
      });
    });
  });
}
