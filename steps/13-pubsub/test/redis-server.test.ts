// server.test.ts -- the server's promises that no single reply shows.
//
// A protocol error closes that client and nobody else's; garbage never
// stops the server; a pipelined burst is answered in one write; a
// subscriber that stops reading is dropped, with a logged reason, while
// the others get everything; the port-taken message says what to do.

import net from "node:net";
import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import {
  connectClient,
  type LineClient,
  serverForEachTest,
  startProgram,
} from "@smallchat/test/harness";
import { freePort } from "@smallchat/test/redis";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

// Since step 10: runs against step 10 and every later step of its track.
for (const step of corpusSteps(13)) {
  describe(step.name, async () => {
    const SERVER = stepFile(step, "src/server.ts");
    const server = serverForEachTest(SERVER, ["--pubsub-output-limit", "1000000"]);

    const resp = (...args: string[]) =>
      `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;

    const connect = () => connectClient(server().port, { welcome: null });

    // One INFO field, as a number.
    async function infoField(c: LineClient, field: string): Promise<number> {
      await c.send(resp("INFO", "stats"));
      const line = await c.waitForLine(new RegExp(`^${field}:`));
      return Number(line.split(":")[1]);
    }

    describe("server", () => {
      it("a client that ends its input still gets every reply, then is closed", async () => {
        // `printf 'PING\r\nECHO hi\r\n' | nc -N`: the FIN comes with the
        // commands, and the replies must not be lost to it.
        const c = await connect();
        c.socket.end(`${resp("PING")}ECHO hi\r\n`);
        await c.closed;
        expect(c.received().toString()).toBe("+PONG\r\n$2\r\nhi\r\n");
        await server().waitForLog(/client \d+ (dropped|closed).*closed by peer/);
      });

      it("a protocol error closes that client only, with a logged reason", async () => {
        const bad = await connect();
        const good = await connect();
        await bad.send("*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n");
        await bad.waitForLine("+PONG");
        await bad.waitForLine("-ERR Protocol error: invalid bulk length");
        await bad.closed;
        await server().waitForLog(/client \d+ dropped: protocol error: invalid bulk length/);
        await good.send(resp("ECHO", "still served"));
        await good.waitForLine("still served");
      });

      it("arbitrary bytes never stop the server", async () => {
        const good = await connect();
        let n = 0;
        await fc.assert(
          fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (bytes) => {
            const socket = net.connect({ host: "127.0.0.1", port: server().port });
            socket.on("error", () => {});
            socket.on("data", () => {});
            await new Promise((resolve) => socket.once("connect", resolve));
            socket.end(Buffer.from(bytes));
            await new Promise((resolve) => socket.once("close", resolve));
            await good.send(resp("ECHO", `alive ${++n}`));
            await good.waitForLine(`alive ${n}`);
          }),
          { numRuns: 50 },
        );
      });

      it("a pipelined burst is answered in one write", async () => {
        const c = await connect();
        const before = await infoField(c, "total_writes_processed");
        await c.send(resp("PING").repeat(100));
        for (let i = 0; i < 100; i++) await c.waitForLine("+PONG");
        const after = await infoField(c, "total_writes_processed");
        // The 100 PONGs, then the INFO reply: two writes. Step 02 would have made 100.
        expect(after - before).toBe(2);
      });

      it("drops a subscriber that stops reading; the others get every message", async () => {
        const port = server().port;
        const subscribe = async (paused: boolean) => {
          const socket = net.connect({ host: "127.0.0.1", port });
          socket.on("error", () => {});
          let received = 0;
          socket.on("data", (d: Buffer) => {
            received += d.length;
          });
          await new Promise((resolve) => socket.once("connect", resolve));
          socket.write(resp("SUBSCRIBE", "firehose"));
          await new Promise((resolve) => socket.once("data", resolve));
          if (paused) socket.pause();
          const closed = new Promise((resolve) => socket.once("close", resolve));
          return { socket, closed, received: () => received };
        };
        const slow = await subscribe(true);
        const fast = await subscribe(false);
        const pub = await connect();
        const payload = "x".repeat(10000);
        // Publish until the slow one is dropped: 1 MB of limit plus what the
        // kernel buffers hold; each reply says how many received it.
        let counts = "";
        let sent = 0;
        const dropped = server().waitForLog(
          /client \d+ dropped: pubsub output buffer over 1000000/,
        );
        let done = false;
        void dropped.then(() => {
          done = true;
        });
        while (!done && sent < 5000) {
          await pub.send(resp("PUBLISH", "firehose", payload).repeat(10));
          sent += 10;
          for (let i = 0; i < 10; i++) counts += await pub.nextLine();
        }
        await dropped;
        await pub.send(resp("PUBLISH", "firehose", "last"));
        expect(await pub.nextLine()).toBe(":1");
        expect(counts).toMatch(/^(:2)+(:1)*$/);
        // The fast subscriber got every message, the last one included.
        const frame = (p: string) =>
          `*3\r\n$7\r\nmessage\r\n$8\r\nfirehose\r\n$${p.length}\r\n${p}\r\n`;
        const confirmation = "*3\r\n$9\r\nsubscribe\r\n$8\r\nfirehose\r\n:1\r\n".length;
        const expected = confirmation + frame(payload).length * sent + frame("last").length;
        const start = Date.now();
        while (fast.received() < expected && Date.now() - start < 10000) {
          await new Promise((resolve) => fast.socket.once("data", resolve));
        }
        expect(fast.received()).toBe(expected);
        slow.socket.destroy();
        fast.socket.destroy();
      });
    });

    describe("starting", () => {
      it("says the port is taken, and what to do", async () => {
        const port = await freePort();
        const blocker = net.createServer();
        await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
        try {
          const p = startProgram(SERVER, ["--host", "127.0.0.1", "--port", String(port)]);
          await p.waitForLog(new RegExp(`port ${port} is already in use .*--port`));
          expect(await p.exited).toBe(1);
        } finally {
          blocker.close();
        }
      });
    });
  });
}
