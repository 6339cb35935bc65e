// clients.test.ts -- real Redis clients against our server.
//
// redis-cli (one-shot, piped, and interactive in a pseudo-terminal),
// redis-benchmark, ioredis and node-redis with their default settings
// (RESP3: HELLO 3 first) and forced to RESP2. If these connect, pipeline
// and receive pub/sub messages, the protocol is right where it matters.

import { spawn } from "node:child_process";
import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { killAll, spawnInPty } from "@smallchat/test/pty";
import { redisCli } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { afterEach, describe, expect, it } from "vitest";

// Since step 10: runs against step 10 and every later step of its track.
for (const step of corpusSteps(13)) {
  describe(step.name, async () => {
    const server = serverForAllTests(stepFile(step, "src/server.ts"));
    afterEach(() => killAll());

    // Resolve with the first value `subscribe` hands its callback: a message.
    function nextMessage<T>(subscribe: (deliver: (value: T) => void) => void): Promise<T> {
      return new Promise((resolve) => subscribe(resolve));
    }

    describe("redis-cli", () => {
      it("one-shot commands", async () => {
        const port = server().port;
        expect(await redisCli(port, ["PING"])).toBe("PONG\n");
        expect(await redisCli(port, ["ECHO", "hello world"])).toBe("hello world\n");
        expect(await redisCli(port, ["NOSUCH", "x"])).toBe(
          "ERR unknown command 'NOSUCH', with args beginning with: 'x' \n\n", // redis-cli adds a line.
        );
        expect(await redisCli(port, ["--no-raw", "CLIENT", "GETNAME"])).toBe("(nil)\n");
      });

      it("commands piped on standard input", async () => {
        const out = await redisCli(server().port, [], "PING\nECHO piped\nDBSIZE\nSELECT 16\n");
        expect(out).toBe("PONG\npiped\n0\nERR DB index is out of range\n\n");
      });

      it("interactive, in a terminal", async () => {
        const port = server().port;
        const cli = spawnInPty("redis-cli", ["-h", "127.0.0.1", "-p", String(port)]);
        const prompt = `127.0.0.1:${port}>`;
        // Type a line once the prompt is back, then wait for `answer`.
        let prompts = 0;
        const type = async (line: string, answer: string | RegExp) => {
          prompts++;
          const n = prompts;
          await cli.waitFor(`prompt #${n}`, (s) => s.text.split(prompt).length > n);
          cli.write(`${line}\r`);
          await cli.waitForText(answer);
        };
        await type("PING", /^PONG$/m);
        await type('ECHO "two words"', '"two words"');
        await type("HELLO 3", '"proto"');
        await type("SUBSCRIBE news", "Reading messages");
        expect(await redisCli(port, ["PUBLISH", "news", "extra"])).toBe("1\n");
        await cli.waitForText('"extra"');
        cli.write("\x03"); // Ctrl-C leaves subscribed mode (a new connection).
        await type("CLIENT GETNAME", "(nil)");
        // QUIT too waits for the prompt: typed earlier, redis-cli may drop it.
        await cli.waitFor("the last prompt", (s) => s.text.split(prompt).length > prompts + 1);
        cli.write("QUIT\r");
        await cli.waitForExit();
      });
    });

    describe("redis-benchmark", () => {
      it("-t ping -n 100000 -P 16 completes", async () => {
        const out = await new Promise<string>((resolve, reject) => {
          const child = spawn("redis-benchmark", [
            ...["-h", "127.0.0.1", "-p", String(server().port)],
            ...["-t", "ping", "-n", "100000", "-P", "16", "-q"],
          ]);
          let text = "";
          child.stdout.on("data", (d: Buffer) => {
            text += d.toString();
          });
          child.on("error", reject);
          child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(text))));
        });
        expect(out).toMatch(/PING_INLINE: [\d.]+ requests per second/);
        expect(out).toMatch(/PING_MBULK: [\d.]+ requests per second/);
      });
    });

    describe.each([
      { label: "default settings (RESP3)", protocol: undefined },
      { label: "RESP2", protocol: 2 as const },
    ])("ioredis, $label", ({ protocol }) => {
      it("connects, pings and pipelines", async () => {
        const r = new Redis({
          host: "127.0.0.1",
          port: server().port,
          protocol,
          lazyConnect: true,
        });
        try {
          await r.connect();
          expect(await r.ping()).toBe("PONG");
          const results = await r.pipeline().echo("a").ping("b").echo("c").exec();
          expect(results).toEqual([
            [null, "a"],
            [null, "b"],
            [null, "c"],
          ]);
          expect(await r.client("ID")).toBeGreaterThan(0);
        } finally {
          r.disconnect();
        }
      });

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

      it("connects, pings and pipelines", async () => {
        const c = await open();
        try {
          expect(await c.ping()).toBe("PONG");
          const [a, b, d] = await Promise.all([c.echo("a"), c.ping("b"), c.echo("c")]);
          expect([a, b, d]).toEqual(["a", "b", "c"]);
          expect(await c.multi().echo("x").echo("y").execAsPipeline()).toEqual(["x", "y"]);
        } finally {
          c.destroy();
        }
      });

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
