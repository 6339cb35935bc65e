// lists.test.ts -- lists through real sockets: requests split and packed the way real
// clients send them, checked against our server and a real redis-server alike, and a
// 20,000-element list pushed, ranged, indexed and trimmed.
//
// Byte-for-byte agreement with Redis, command by command, is the diff
// family (test/diff/lists.ts). Here are the behaviours that need raw
// socket timing or big data. The blocking pops and their waiters are step
// 19's (its test/blpop.test.ts).

import net from "node:net";
import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { redisForAllTests } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";

// Since step 18: runs against step 18 and every later step of its track.
// The same requests against redis-server prove the expectations are
// Redis's: that half runs once, with the first step of the list.
const steps = corpusSteps(18);
for (const step of steps) {
  describe(step.name, async () => {
    const SERVER = stepFile(step, "src/server.ts");
    const server = serverForAllTests(SERVER);
    const targets = step === steps[0] ? (["ours", "redis-server"] as const) : (["ours"] as const);
    const redis =
      step === steps[0]
        ? redisForAllTests()
        : () => {
            throw new Error("no redis-server here");
          };

    function encode(...args: string[]): string {
      return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
    }

    // A raw RESP connection: write bytes, wait until what arrived has a given
    // length, compare exactly.
    class Raw {
      private buf = "";
      private waiters: (() => void)[] = [];
      closed = false;
      constructor(readonly socket: net.Socket) {
        socket.setEncoding("latin1");
        socket.on("data", (d: string) => {
          this.buf += d;
          for (const w of this.waiters.splice(0)) w();
        });
        socket.on("close", () => {
          this.closed = true;
          for (const w of this.waiters.splice(0)) w();
        });
        socket.on("error", () => {});
      }
      static connect(port: number): Promise<Raw> {
        return new Promise((resolve, reject) => {
          const s = net.connect({ host: "127.0.0.1", port }, () => resolve(new Raw(s)));
          s.once("error", reject);
          opened.push(s);
        });
      }
      send(data: string): void {
        this.socket.write(data);
      }
      cmd(...args: string[]): void {
        this.send(encode(...args));
      }
      // Resolve with the next `expected.length` bytes (or fail after 5 s).
      async read(expected: string, timeoutMs = 5000): Promise<string> {
        const deadline = Date.now() + timeoutMs;
        while (this.buf.length < expected.length && !this.closed && Date.now() < deadline) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, deadline - Date.now());
            this.waiters.push(() => {
              clearTimeout(t);
              resolve();
            });
          });
        }
        const got = this.buf.slice(0, expected.length);
        this.buf = this.buf.slice(expected.length);
        return got;
      }
      get pending(): string {
        return this.buf;
      }
    }

    const opened: net.Socket[] = [];
    afterEach(() => {
      for (const s of opened.splice(0)) s.destroy();
    });

    const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

    for (const target of targets) {
      const port = () => (target === "ours" ? server().port : redis().port);

      describe(`regressions of the seed's bugs (${target})`, () => {
        it("a command split across two TCP reads", async () => {
          const c = await Raw.connect(port());
          c.cmd("DEL", "split:k");
          expect(await c.read(":0\r\n")).toMatch(/^:[01]\r\n$/);
          const req = encode("RPUSH", "split:k", "hello", "world");
          // Cut inside the first value's bytes; the second write goes out only
          // after the first has left, so the server sees two reads.
          await new Promise<void>((resolve) => c.socket.write(req.slice(0, 30), () => resolve()));
          expect(c.pending).toBe("");
          c.send(req.slice(30));
          expect(await c.read(":2\r\n")).toBe(":2\r\n");
          c.cmd("LPOP", "split:k");
          expect(await c.read(bulk("hello"))).toBe(bulk("hello"));
        });

        it("many commands in one read", async () => {
          const c = await Raw.connect(port());
          c.send(
            encode("DEL", "many:k") +
              encode("RPUSH", "many:k", "a", "b", "c") +
              encode("LPOP", "many:k") +
              encode("RPOP", "many:k") +
              encode("LRANGE", "many:k", "0", "-1"),
          );
          const want = `:0\r\n:3\r\n${bulk("a")}${bulk("c")}*1\r\n${bulk("b")}`;
          expect(await c.read(want)).toBe(want);
        });

        it("*0 is no command at all", async () => {
          const c = await Raw.connect(port());
          c.send(`*0\r\n${encode("PING")}*0\r\n`);
          expect(await c.read("+PONG\r\n")).toBe("+PONG\r\n");
          c.cmd("ECHO", "after");
          expect(await c.read(bulk("after"))).toBe(bulk("after"));
        });
      });
    }

    describe("big lists", () => {
      it("a 20,000-element list pushed and ranged", async () => {
        const r = new Redis({ host: "127.0.0.1", port: server().port, lazyConnect: true });
        try {
          await r.connect();
          await r.del("big");
          const values = Array.from({ length: 20_000 }, (_, i) => `v${i}`);
          for (let i = 0; i < values.length; i += 5_000) {
            await r.rpush("big", ...values.slice(i, i + 5_000));
          }
          expect(await r.llen("big")).toBe(20_000);
          expect(await r.lrange("big", 0, -1)).toEqual(values);
          expect(await r.lrange("big", 10_000, 10_002)).toEqual(["v10000", "v10001", "v10002"]);
          expect(await r.lindex("big", -1)).toBe("v19999");
          expect(await r.lindex("big", 17_777)).toBe("v17777");
          await r.ltrim("big", 19_990, -1);
          expect(await r.lrange("big", 0, -1)).toEqual(values.slice(19_990));
        } finally {
          r.disconnect();
        }
      });
    });
    describe("MEMORY USAGE of a list", () => {
      it("weighs the ring and a sample of the elements, as redis-cli --memkeys asks", async () => {
        const r = new Redis({ host: "127.0.0.1", port: server().port, lazyConnect: true });
        try {
          await r.connect();
          await r.del("weigh");
          expect(await r.call("MEMORY", "USAGE", "weigh")).toBeNull();
          await r.rpush("weigh", ...Array.from({ length: 1000 }, () => "x".repeat(100)));
          const sampled = Number(await r.call("MEMORY", "USAGE", "weigh"));
          const all = Number(await r.call("MEMORY", "USAGE", "weigh", "SAMPLES", "0"));
          // 1,000 elements of 100 bytes: at least their bytes, and not
          // wildly more (a Buffer object each, the ring's slots).
          for (const bytes of [sampled, all]) {
            expect(bytes).toBeGreaterThan(100_000);
            expect(bytes).toBeLessThan(400_000);
          }
          expect(sampled).toBe(all); // Equal elements: the sample is exact.
          await r.ltrim("weigh", 0, 9);
          expect(Number(await r.call("MEMORY", "USAGE", "weigh"))).toBeLessThan(sampled / 10);
        } finally {
          r.disconnect();
        }
      });
    });
  });
}
