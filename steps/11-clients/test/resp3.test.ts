// resp3.test.ts -- the reply writer speaks RESP2 or RESP3, as the client chose with HELLO.
//
// One handler writes one reply; the writer gives each protocol its form:
// a map is "%" in RESP3 and a flat array in RESP2, a null "_" or "$-1"...

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";

// Since step 11: runs against step 11 and every later step of its track.
for (const step of corpusSteps(11)) {
  describe(step.name, async () => {
    const { ReplyWriter } = (await import(
      `${step.dir}src/resp.ts`
    )) as typeof import("../src/resp.ts");

    it("writes RESP2 and RESP3 forms of the same replies", () => {
      const text = (proto: 2 | 3) => {
        const w = new ReplyWriter(() => {});
        w.proto = proto;
        w.map(1);
        w.bulk("k");
        w.null();
        w.bool(true);
        w.double(1.5);
        w.set(1);
        w.integer(7);
        w.nullArray();
        w.verbatim("hi");
        return Buffer.concat(w.take()).toString("latin1");
      };
      expect(text(2)).toBe(
        "*2\r\n$1\r\nk\r\n$-1\r\n:1\r\n$3\r\n1.5\r\n*1\r\n:7\r\n*-1\r\n$2\r\nhi\r\n",
      );
      expect(text(3)).toBe("%1\r\n$1\r\nk\r\n_\r\n#t\r\n,1.5\r\n~1\r\n:7\r\n_\r\n=6\r\ntxt:hi\r\n");
    });
  });
}
