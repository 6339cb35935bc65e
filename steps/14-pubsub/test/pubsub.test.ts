// pubsub.test.ts -- a message framed once, and a subscriber that stops reading.
//
// PUBLISH builds each message's frame once per protocol and copies it to
// every subscriber; a subscriber that does not read is dropped past the
// pub/sub output limit, with a logged reason, while the others get every
// message.

import net from "node:net";
import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { connectClient, serverForEachTest } from "@smallchat/test/harness";
import { describe, expect, it } from "vitest";

// Since step 14: runs against step 14 and every later step of its track.
for (const step of corpusSteps(14)) {
  describe(step.name, async () => {
    const { encodePush } = (await import(
      `${step.dir}src/resp.ts`
    )) as typeof import("../src/resp.ts");
    const server = serverForEachTest(stepFile(step, "src/server.ts"), [
      "--pubsub-output-limit",
      "1000000",
    ]);
    const b = (s: string) => Buffer.from(s, "latin1");
    const resp = (...args: string[]) =>
      `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
    const connect = () => connectClient(server().port, { welcome: null });

    it("frames a push once for many subscribers", () => {
      expect(encodePush(3, [b("message"), b("ch"), b("hi")]).toString()).toBe(
        ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
      );
      expect(encodePush(2, [b("message"), b("ch"), b("hi")]).toString()).toBe(
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
      );
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
      const dropped = server().waitForLog(/client \d+ dropped: pubsub output buffer over 1000000/);
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
}
