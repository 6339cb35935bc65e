// command-docs.test.ts -- the command table describes itself, and redis-cli believes it.
//
// Before this step redis-cli's COMMAND DOCS got an unknown-command error,
// and it fell back on its own copy of Redis 7.0's table: `help GEOADD`
// documented a command the server does not have. With COMMAND DOCS, its
// help is this server's table. The bytes of each reply are compared with
// a real redis-server's in test/diff/introspection.ts.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { redisCli } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";

// Since step 13: runs against step 13 and every later step of its track.
for (const step of corpusSteps(13)) {
  describe(step.name, async () => {
    const server = serverForAllTests(stepFile(step, "src/server.ts"));

    it("redis-cli help knows only this server's commands", async () => {
      const port = server().port;
      // GEO is not in the tutorial: no row, so no help.
      expect((await redisCli(port, ["help", "GEOADD"])).trim()).toBe("");
      expect(await redisCli(port, ["help", "PING"])).toContain("Ping the server");
    });

    it("every command in COMMAND LIST has its docs, and COMMAND COUNT counts them", async () => {
      const r = new Redis({
        host: "127.0.0.1",
        port: server().port,
        protocol: 2,
        lazyConnect: true,
      });
      try {
        await r.connect();
        const names = (await r.call("COMMAND", "LIST")) as string[];
        const top = names.filter((n) => !n.includes("|"));
        expect(top).toContain("command");
        expect(await r.call("COMMAND", "COUNT")).toBe(top.length);
        // RESP2: a flat array, name then its fields as a flat array.
        const docs = (await r.call("COMMAND", "DOCS")) as (string | unknown[])[];
        const documented = new Map<string, unknown[]>();
        for (let i = 0; i < docs.length; i += 2) {
          documented.set(docs[i] as string, docs[i + 1] as unknown[]);
        }
        expect([...documented.keys()].sort()).toEqual([...top].sort());
        for (const [name, fields] of documented) {
          expect(fields.slice(0, 2), name).toEqual(["summary", expect.any(String)]);
          expect(fields[3], name).toMatch(/^\d+\.\d+\.\d+$/); // since
        }
      } finally {
        r.disconnect();
      }
    });
  });
}
