// redis-server.test.ts -- what INFO lets us see of the loop: one write per pipelined burst.
//
// Step 10 promised that a pipelined burst is answered in one write; with
// INFO's total_writes_processed the promise can be counted.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { connectClient, type LineClient, serverForAllTests } from "@smallchat/test/harness";
import { describe, expect, it } from "vitest";

// Since step 12: runs against step 12 and every later step of its track.
for (const step of corpusSteps(13)) {
  describe(step.name, async () => {
    const server = serverForAllTests(stepFile(step, "src/server.ts"));

    const resp = (...args: string[]) =>
      `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;

    // One INFO field, as a number.
    async function infoField(c: LineClient, field: string): Promise<number> {
      await c.send(resp("INFO", "stats"));
      const line = await c.waitForLine(new RegExp(`^${field}:`));
      return Number(line.split(":")[1]);
    }

    it("a pipelined burst is answered in one write", async () => {
      const c = await connectClient(server().port, { welcome: null });
      const before = await infoField(c, "total_writes_processed");
      await c.send(resp("PING").repeat(100));
      for (let i = 0; i < 100; i++) await c.waitForLine("+PONG");
      const after = await infoField(c, "total_writes_processed");
      // The 100 PONGs, then the INFO reply: two writes. Step 02 would have made 100.
      expect(after - before).toBe(2);
      c.close();
    });
  });
}
