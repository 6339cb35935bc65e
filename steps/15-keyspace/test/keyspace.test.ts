// keyspace.test.ts -- the keyspace through real clients: binary keys and values, SET's
// options and types through ioredis and node-redis, in RESP2 and RESP3.
//
// The byte-for-byte comparison with Redis is the diff family
// (test/diff/strings.ts); this is what a transcript cannot show: what a
// client library gets back.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { Redis } from "ioredis";
import { createClient, RESP_TYPES } from "redis";
import { describe, expect, it } from "vitest";

// Since step 15: runs against step 15 and every later step of its track.
for (const step of corpusSteps(15)) {
  describe(step.name, async () => {
    const SERVER = stepFile(step, "src/server.ts");
    const server = serverForAllTests(SERVER);

    // Every byte value, and the three that break naive code most.
    const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const NASTY_KEY = Buffer.from("k\0\r\n\xff", "latin1");

    describe.each([
      { label: "default settings (RESP3)", protocol: undefined },
      { label: "RESP2", protocol: 2 as const },
    ])("ioredis, $label", ({ protocol }) => {
      it("round-trips binary keys and values and types", async () => {
        const r = new Redis({
          host: "127.0.0.1",
          port: server().port,
          protocol,
          lazyConnect: true,
        });
        try {
          await r.connect();
          expect(await r.set(NASTY_KEY, ALL_BYTES)).toBe("OK");
          expect(await r.getBuffer(NASTY_KEY)).toEqual(ALL_BYTES);
          expect(await r.mgetBuffer(NASTY_KEY, "missing")).toEqual([ALL_BYTES, null]);
          expect(await r.append(NASTY_KEY, Buffer.from([0xff, 0]))).toBe(258);
          expect(await r.strlen(NASTY_KEY)).toBe(258);
          expect(await r.set("io:n", "9223372036854775807")).toBe("OK");
          expect(await r.getset("io:n", "1")).toBe("9223372036854775807");
          expect(await r.type(NASTY_KEY)).toBe("string");
          expect(await r.exists(NASTY_KEY, "io:n", "missing")).toBe(2);
          expect(await r.del(NASTY_KEY, "io:n", "missing")).toBe(2);
        } finally {
          r.disconnect();
        }
      });
    });

    describe.each([
      { label: "default settings (RESP3)", RESP: undefined },
      { label: "RESP2", RESP: 2 as const },
    ])("node-redis, $label", ({ RESP }) => {
      it("round-trips binary keys and values", async () => {
        const c = createClient({ socket: { host: "127.0.0.1", port: server().port }, RESP });
        c.on("error", () => {}); // Reported through the failing promise instead.
        await c.connect();
        try {
          const bin = c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
          expect(await bin.set(NASTY_KEY, ALL_BYTES)).toBe("OK");
          expect(await bin.get(NASTY_KEY)).toEqual(ALL_BYTES);
          expect(await bin.getDel(NASTY_KEY)).toEqual(ALL_BYTES);
          expect(await bin.get(NASTY_KEY)).toBeNull();
          expect(await c.set("nr:k", "v", { condition: "NX" })).toBe("OK");
          expect(await c.set("nr:k", "w", { condition: "NX" })).toBeNull();
          expect(await c.set("nr:k", "w", { condition: "XX", GET: true })).toBe("v");
          expect(await c.del(["nr:k", "nr:missing"])).toBe(1);
        } finally {
          c.destroy();
        }
      });
    });
  });
}
