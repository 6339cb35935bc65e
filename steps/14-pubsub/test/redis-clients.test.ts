// redis-clients.test.ts -- real clients subscribe: redis-cli, ioredis, node-redis.
//
// redis-cli's subscribed mode in a terminal; ioredis and node-redis with
// their default settings (RESP3: messages are push frames) and forced to
// RESP2, each receiving a message by channel and one by pattern.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { killAll, spawnInPty } from "@smallchat/test/pty";
import { redisCli } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { afterEach, describe, expect, it } from "vitest";

// Since step 14: runs against step 14 and every later step of its track.
for (const step of corpusSteps(14)) {
  describe(step.name, async () => {
    const server = serverForAllTests(stepFile(step, "src/server.ts"));
    afterEach(() => killAll());

    // Resolve with the first value `subscribe` hands its callback: a message.
    function nextMessage<T>(subscribe: (deliver: (value: T) => void) => void): Promise<T> {
      return new Promise((resolve) => subscribe(resolve));
    }

    it("redis-cli, interactive: SUBSCRIBE, then Ctrl-C", async () => {
      const port = server().port;
      const cli = spawnInPty("redis-cli", ["-h", "127.0.0.1", "-p", String(port)]);
      const prompt = `127.0.0.1:${port}>`;
      await cli.waitForText(prompt);
      cli.write("SUBSCRIBE news\r");
      await cli.waitForText("Reading messages");
      expect(await redisCli(port, ["PUBLISH", "news", "extra"])).toBe("1\n");
      await cli.waitForText('"extra"');
      cli.write("\x03"); // Ctrl-C leaves subscribed mode (a new connection).
      await cli.waitFor("a new prompt", (s) => s.text.split(prompt).length > 2);
      cli.write("PING\r");
      await cli.waitForText(/^PONG$/m);
      await cli.waitFor("the last prompt", (s) => s.text.split(prompt).length > 3);
      cli.write("QUIT\r");
      await cli.waitForExit();
    });

    describe.each([
      { label: "default settings (RESP3)", protocol: undefined },
      { label: "RESP2", protocol: 2 as const },
    ])("ioredis, $label", ({ protocol }) => {
      it("SUBSCRIBE and PSUBSCRIBE receive messages", async () => {
        const port = server().port;
        const sub = new Redis({ host: "127.0.0.1", port, protocol, lazyConnect: true });
        const pub = new Redis({ host: "127.0.0.1", port, protocol, lazyConnect: true });
        try {
          await Promise.all([sub.connect(), pub.connect()]);
          await sub.subscribe("io:chan");
          await sub.psubscribe("io:pat:*");
          const message = nextMessage<[string, string]>((deliver) =>
            sub.once("message", (ch: string, msg: string) => deliver([ch, msg])),
          );
          expect(await pub.publish("io:chan", "hello")).toBe(1);
          expect(await message).toEqual(["io:chan", "hello"]);
          const pmessage = nextMessage<[string, string, string]>((deliver) =>
            sub.once("pmessage", (p: string, ch: string, msg: string) => deliver([p, ch, msg])),
          );
          expect(await pub.publish("io:pat:x", "by pattern")).toBe(1);
          expect(await pmessage).toEqual(["io:pat:*", "io:pat:x", "by pattern"]);
        } finally {
          sub.disconnect();
          pub.disconnect();
        }
      });
    });

    describe.each([
      { label: "default settings (RESP3)", RESP: undefined },
      { label: "RESP2", RESP: 2 as const },
    ])("node-redis, $label", ({ RESP }) => {
      const open = async () => {
        const c = createClient({ socket: { host: "127.0.0.1", port: server().port }, RESP });
        c.on("error", () => {}); // Reported through the failing promise instead.
        await c.connect();
        return c;
      };

      it("SUBSCRIBE and PSUBSCRIBE receive messages", async () => {
        const sub = await open();
        const pub = await open();
        try {
          let deliver: (m: [string, string]) => void = () => {};
          const message = nextMessage<[string, string]>((d) => {
            deliver = d;
          });
          let pdeliver: (m: [string, string]) => void = () => {};
          const pmessage = nextMessage<[string, string]>((d) => {
            pdeliver = d;
          });
          // Each resolves once the server has confirmed the subscription.
          await sub.subscribe("nr:chan", (msg, ch) => deliver([ch, msg]));
          await sub.pSubscribe("nr:pat:*", (msg, ch) => pdeliver([ch, msg]));
          expect(await pub.publish("nr:chan", "hello")).toBe(1);
          expect(await message).toEqual(["nr:chan", "hello"]);
          expect(await pub.publish("nr:pat:x", "by pattern")).toBe(1);
          expect(await pmessage).toEqual(["nr:pat:x", "by pattern"]);
        } finally {
          sub.destroy();
          pub.destroy();
        }
      });
    });
  });
}
