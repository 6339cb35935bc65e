// counters.test.ts -- counters through real clients: the int64 edge, INCRBYFLOAT's digits,
// INCRBY and DECRBY through ioredis and node-redis, in RESP2 and RESP3.
//
// The byte-for-byte comparison with Redis is the diff family
// (test/diff/counters.ts); this is what a transcript cannot show: what a
// client library gets back.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { describe, expect, it } from "vitest";

// Since step 16: runs against step 16 and every later step of its track.
for (const step of corpusSteps(16)) {
  describe(step.name, async () => {
    const SERVER = stepFile(step, "src/server.ts");
    const server = serverForAllTests(SERVER);

    describe.each([
      { label: "default settings (RESP3)", protocol: undefined },
      { label: "RESP2", protocol: 2 as const },
    ])("ioredis, $label", ({ protocol }) => {
      it("counts at the int64 edge and adds floats with Redis's digits", async () => {
        const r = new Redis({
          host: "127.0.0.1",
          port: server().port,
          protocol,
          lazyConnect: true,
        });
        try {
          await r.connect();
          expect(await r.set("io:n", "9223372036854775806")).toBe("OK");
          await r.incr("io:n"); // Its reply is a JS number in ioredis: rounded.
          expect(await r.get("io:n")).toBe("9223372036854775807");
          expect(await r.call("INCR", "io:n").catch((e: Error) => e.message)).toBe(
            "ERR increment or decrement would overflow",
          );
          expect(await r.incrbyfloat("io:f", "0.1")).toBe("0.1");
          expect(await r.incrbyfloat("io:f", "0.2")).toBe("0.3");
          expect(await r.del("io:n", "io:f", "missing")).toBe(2);
        } finally {
          r.disconnect();
        }
      });
    });

    describe.each([
      { label: "default settings (RESP3)", RESP: undefined },
      { label: "RESP2", RESP: 2 as const },
    ])("node-redis, $label", ({ RESP }) => {
      it("increments and decrements by an amount", async () => {
        const c = createClient({ socket: { host: "127.0.0.1", port: server().port }, RESP });
        c.on("error", () => {}); // Reported through the failing promise instead.
        await c.connect();
        try {
          expect(await c.incrBy("nr:c", 5)).toBe(5);
          expect(await c.decrBy("nr:c", 7)).toBe(-2);
          expect(await c.decr("nr:c")).toBe(-3);
          expect(await c.del(["nr:c"])).toBe(1);
        } finally {
          c.destroy();
        }
      });
    });
  });
}
