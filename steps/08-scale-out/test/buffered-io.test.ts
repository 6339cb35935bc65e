// buffered-io.test.ts -- lines are reassembled, and every buffer has a limit.

import { connectClient, FLOOD_LINE, floodPaced, serverForEachTest } from "@smallchat/test/harness";
import { describe, expect, it } from "vitest";

// A fresh server for every test: tests must not hear each other's clients.
const server = serverForEachTest(new URL("../src/server.ts", import.meta.url));

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
