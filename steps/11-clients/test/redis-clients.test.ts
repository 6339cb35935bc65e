// redis-clients.test.ts -- client libraries connect: HELLO 3, CLIENT, SELECT.
//
// node-redis 6 opens with HELLO 3 and never falls back to RESP2; ioredis 6
// sends HELLO 3 too, then INFO as a ready check (INFO arrives in step 12,
// so here ioredis runs without its ready check). redis-cli's CLIENT and
// SELECT, and HELLO 3 typed at its prompt.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { killAll, spawnInPty } from "@smallchat/test/pty";
import { redisCli } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { afterEach, describe, expect, it } from "vitest";

// Since step 11: runs against step 11 and every later step of its track.
for (const step of corpusSteps(11)) {
  describe(step.name, async () => {
    const server = serverForAllTests(stepFile(step, "src/server.ts"));
    afterEach(() => killAll());

    describe("redis-cli", () => {
      it("CLIENT GETNAME and SELECT, one-shot and piped", async () => {
        const port = server().port;
        expect(await redisCli(port, ["--no-raw", "CLIENT", "GETNAME"])).toBe("(nil)\n");
        const out = await redisCli(port, [], "SELECT 0\nSELECT 16\n");
        expect(out).toBe("OK\nERR DB index is out of range\n\n");
      });

      it("interactive, in a terminal: HELLO 3 and CLIENT", async () => {
        const port = server().port;
        const cli = spawnInPty("redis-cli", ["-h", "127.0.0.1", "-p", String(port)]);
        const prompt = `127.0.0.1:${port}>`;
        let prompts = 0;
        const type = async (line: string, answer: string | RegExp) => {
          prompts++;
          const n = prompts;
          await cli.waitFor(`prompt #${n}`, (s) => s.text.split(prompt).length > n);
          cli.write(`${line}\r`);
          await cli.waitForText(answer);
        };
        await type("HELLO 3", '"proto"');
        await type("CLIENT GETNAME", "(nil)");
        await cli.waitFor("the last prompt", (s) => s.text.split(prompt).length > prompts + 1);
        cli.write("QUIT\r");
        await cli.waitForExit();
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
          enableReadyCheck: false, // Its ready check is INFO: step 12.
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
    });
  });
}
