// poll-loop.test.ts -- one loop: output coalesced per iteration, timers, backpressure.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import {
  connectClient,
  floodPaced,
  type LineClient,
  type RunningServer,
  startServer,
} from "@smallchat/test/harness";
import { afterEach, describe, expect, it } from "vitest";

// Since step 05: runs against step 05 and every later step of its track.
for (const step of corpusSteps(5)) {
  describe(step.name, async () => {
    const SERVER = stepFile(step, "src/server.ts");
    const servers: RunningServer[] = [];

    async function start(args: string[] = []): Promise<RunningServer> {
      const server = await startServer(SERVER, args);
      servers.push(server);
      return server;
    }

    afterEach(async () => {
      await Promise.all(servers.splice(0).map((s) => s.stop()));
    });

    // One request and its reply: proof that `c` is connected and served, and
    // (for the idle timeout) input from `c`.
    async function roundTrip(c: LineClient): Promise<string> {
      await c.send("/who\n");
      return c.waitForLine(/^Users: /);
    }

    describe("flush once per iteration", () => {
      it("relays a burst of 50 lines in one write, not 50", async () => {
        const server = await start();
        const sender = await connectClient(server.port);
        const reader = await connectClient(server.port);
        let chunks = 0;
        reader.socket.on("data", () => chunks++);
        const burst = Array.from({ length: 50 }, (_, i) => `line ${i + 1}\n`).join("");
        await sender.send(burst); // One write: the server reads it in one go.
        await reader.waitForLine(/> line 50$/);
        expect(reader.lines.filter((l) => /> line \d+$/.test(l))).toHaveLength(50);
        // One write arrives as one chunk. Step 03 made 50 writes, and a reader
        // sometimes sees those merged too: the server's own count below is the
        // proof that fails on step 03.
        expect(chunks).toBeLessThanOrEqual(2);
        expect(await server.stop()).toBe(0);
        // 2 welcomes + 50 relays queued; 2 welcome writes + the burst in 1 (or 2).
        const stats = /^Sent (\d+) messages in (\d+) socket writes$/;
        const [, messages, writes] = stats.exec(server.logs.find((l) => stats.test(l)) ?? "") ?? [];
        expect(Number(messages)).toBe(52);
        expect(Number(writes)).toBeLessThanOrEqual(4);
        // The console echoes every relayed line, in order: it is written once
        // per iteration too, and none may be left behind.
        const echoed = server.logs.filter((l) => /^user:\d+> line \d+$/.test(l));
        expect(echoed).toEqual(Array.from({ length: 50 }, (_, i) => `user:1> line ${i + 1}`));
      });

      it("delivers 1,000 lines sent fast, complete and in order", async () => {
        const server = await start();
        const sender = await connectClient(server.port);
        const reader = await connectClient(server.port);
        for (let i = 1; i <= 1000; i++) sender.socket.write(`n=${i}\n`);
        await reader.waitForLine(/> n=1000$/, 10000);
        const got = reader.lines.filter((l) => l.includes("> n=")).map((l) => l.split("> n=")[1]);
        expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => String(i + 1)));
      });
    });

    describe("backpressure", () => {
      it("drops a client that stops reading; it reconnects and chats normally", async () => {
        const server = await start();
        const slow = await connectClient(server.port);
        await slow.send("/nick slow\n");
        await server.waitForLog(/is now known as slow$/);
        slow.socket.pause(); // Never read again: the kernel buffers fill, then ours.
        const sender = await connectClient(server.port);
        const reader = await connectClient(server.port);
        await floodPaced(sender, reader, 3000); // ~12 MB: more than the kernel buffers plus 1 MiB.
        await server.waitForLog(
          /^Disconnected client id=1, nick=slow: output buffer over 1048576 bytes \(client not reading\)$/,
          20000,
        );
        slow.close();

        // Back, under the same nick: the dropped client left nothing behind.
        const again = await connectClient(server.port);
        await again.send("/nick slow\n");
        await server.waitForLog(/is now known as slow$/);
        await again.send("sorry, I was away\n");
        expect(await reader.waitForLine(/^slow> /)).toBe("slow> sorry, I was away");
        await sender.send("welcome back\n");
        expect(await again.waitForLine(/> welcome back$/)).toMatch(/^user:\d+> welcome back$/);
        expect(await roundTrip(again)).toBe("Users: user:2 user:3 slow");
      });
    });

    describe("timers", () => {
      it("drops a client idle for longer than --idle-timeout, and nobody by default", async () => {
        // Started first, so it has ticked at least once by the time the other
        // server drops its idle client (more than a second later).
        const plain = await start();
        const timed = await start(["--idle-timeout", "1"]);
        const idleAnyway = await connectClient(plain.port);
        const idle = await connectClient(timed.port);
        const active = await connectClient(timed.port);
        let idleClosed = false;
        void idle.closed.then(() => {
          idleClosed = true;
        });
        // Keep `active` talking until the tick finds `idle` silent for > 1 s:
        // a round trip (it waits for the reply), then a breath, as a person
        // typing would. Flat out, the loop would cost both processes a core.
        const deadline = Date.now() + 10000;
        while (!idleClosed && Date.now() < deadline) {
          await roundTrip(active);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }

        await timed.waitForLog(
          /^Disconnected client id=1, nick=user:1: idle timeout \(no input for 1 s\)$/,
        );
        await idle.closed;
        expect(idle.drain()).toEqual([
          "ERR idle timeout: no input for 1 s, closing the connection",
        ]);
        expect(await roundTrip(active)).toBe("Users: user:2");
        expect(timed.logs.filter((l) => l.startsWith("Disconnected"))).toHaveLength(1);

        // Without the flag, a client silent just as long is still served.
        expect(await roundTrip(idleAnyway)).toBe("Users: user:1");
        expect(plain.logs.some((l) => l.startsWith("Disconnected"))).toBe(false);
      });
    });
  });
}
