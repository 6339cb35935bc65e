// redis-clients.test.ts -- ioredis with its default ready check, which is INFO.
//
// ioredis 6 sends INFO once connected and waits for it before it sends
// anything else: with INFO, it connects with its default settings.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { redisCli } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";

// Since step 12: runs against step 12 and every later step of its track.
for (const step of corpusSteps(13)) {
  describe(step.name, async () => {
    const server = serverForAllTests(stepFile(step, "src/server.ts"));

    it("redis-cli piped: DBSIZE and INFO", async () => {
      const out = await redisCli(server().port, [], "DBSIZE\nINFO server\n");
      expect(out).toMatch(/^0\n# Server\r\n/);
      expect(out).toContain("redis_version:7.0.15");
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
    });
  });
}
