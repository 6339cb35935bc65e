// redis-server.test.ts -- the server's promises that no single reply shows.
//
// A protocol error closes that client and nobody else's; garbage never
// stops the server; a client that ends its input still gets its replies;
// the port-taken message says what to do.

import net from "node:net";
import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { connectClient, serverForEachTest, startProgram } from "@smallchat/test/harness";
import { freePort } from "@smallchat/test/redis";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

// Since step 10: runs against step 10 and every later step of its track.
for (const step of corpusSteps(10)) {
  describe(step.name, async () => {
    const SERVER = stepFile(step, "src/server.ts");
    const server = serverForEachTest(SERVER);

    const resp = (...args: string[]) =>
      `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;

    const connect = () => connectClient(server().port, { welcome: null });

    describe("server", () => {
      it("a client that ends its input still gets every reply, then is closed", async () => {
        // A client at the end of a pipe (`nc -N`): the FIN comes with the
        // commands, and the replies must not be lost to it.
        const c = await connect();
        c.socket.end(`${resp("PING")}${resp("ECHO", "hi")}`);
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
