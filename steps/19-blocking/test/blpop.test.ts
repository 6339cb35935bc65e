// blpop.test.ts -- BLPOP and friends through real sockets: the seed's blocking bugs as named
// regressions, real client libraries with a concurrent producer, and a queue of 20
// consumers and 5 producers where every item arrives exactly once.
//
// Byte-for-byte agreement with Redis in scripted multi-client scenarios is
// the diff family (test/diff/blocking.ts). Here are the behaviours that
// need many clients or a client library. Where the order of waiters
// matters, a test waits until the server reports them blocked (INFO's
// blocked_clients) before the next one blocks: clients are separate
// sockets, and nothing else orders their arrival.

import net from "node:net";
import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { redisForAllTests } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { afterEach, describe, expect, it } from "vitest";

// Since step 19: runs against step 19 and every later step of its track.
// The same scenarios against redis-server prove the expectations are
// Redis's: that half runs once, with the first step of the list.
const steps = corpusSteps(19);
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

    // Wait until the server has `n` clients blocked: each poll is a round trip.
    async function blockedClients(ctl: Raw, n: number): Promise<void> {
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        ctl.cmd("INFO", "clients");
        const head = await ctl.read("$");
        expect(head).toBe("$");
        let len = "";
        while (!len.endsWith("\r\n")) len += await ctl.read("x");
        const body = await ctl.read("x".repeat(Number(len.trim()) + 2));
        if (new RegExp(`blocked_clients:${n}\\r\\n`).test(body)) return;
      }
      throw new Error(`never saw ${n} blocked clients`);
    }

    const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
    const popped = (key: string, value: string) => `*2\r\n${bulk(key)}${bulk(value)}`;

    for (const target of targets) {
      const port = () => (target === "ours" ? server().port : redis().port);

      describe(`regressions of the seed's bugs (${target})`, () => {
        it("a client that blocks, disconnects, then a push: the item stays", async () => {
          const ctl = await Raw.connect(port());
          ctl.cmd("DEL", "gone:k");
          await ctl.read(":0\r\n");
          const c = await Raw.connect(port());
          c.cmd("BLPOP", "gone:k", "0");
          await blockedClients(ctl, 1);
          c.socket.destroy();
          await blockedClients(ctl, 0);
          ctl.cmd("RPUSH", "gone:k", "precious");
          expect(await ctl.read(":1\r\n")).toBe(":1\r\n");
          ctl.cmd("LRANGE", "gone:k", "0", "-1");
          expect(await ctl.read(`*1\r\n${bulk("precious")}`)).toBe(`*1\r\n${bulk("precious")}`);
        });

        it("RPUSH with N values and N waiters serves each one, in blocking order", async () => {
          const ctl = await Raw.connect(port());
          ctl.cmd("DEL", "n:k");
          await ctl.read(":0\r\n");
          const waiters: Raw[] = [];
          for (let i = 0; i < 5; i++) {
            const w = await Raw.connect(port());
            w.cmd("BLPOP", "n:k", "0");
            await blockedClients(ctl, i + 1);
            waiters.push(w);
          }
          ctl.cmd("RPUSH", "n:k", "v0", "v1", "v2", "v3", "v4");
          expect(await ctl.read(":5\r\n")).toBe(":5\r\n");
          for (const [i, w] of waiters.entries()) {
            expect(await w.read(popped("n:k", `v${i}`))).toBe(popped("n:k", `v${i}`));
          }
          ctl.cmd("EXISTS", "n:k");
          expect(await ctl.read(":0\r\n")).toBe(":0\r\n");
        });

        it("LPUSH k a b c gives the first waiter c: served after the command, not during", async () => {
          const ctl = await Raw.connect(port());
          ctl.cmd("DEL", "lp:k");
          await ctl.read(":0\r\n");
          const w = await Raw.connect(port());
          w.cmd("BLPOP", "lp:k", "0");
          await blockedClients(ctl, 1);
          ctl.cmd("LPUSH", "lp:k", "a", "b", "c");
          expect(await ctl.read(":3\r\n")).toBe(":3\r\n");
          expect(await w.read(popped("lp:k", "c"))).toBe(popped("lp:k", "c"));
        });

        it("BLPOP reply shape is [key, value]; BRPOP takes the tail", async () => {
          const r = new Redis({ host: "127.0.0.1", port: port(), lazyConnect: true });
          try {
            await r.connect();
            await r.del("shape:a", "shape:b");
            await r.rpush("shape:b", "x", "y");
            expect(await r.blpop("shape:a", "shape:b", 0)).toEqual(["shape:b", "x"]);
            expect(await r.brpop("shape:a", "shape:b", 0)).toEqual(["shape:b", "y"]);
            expect(await r.blpop("shape:a", 0.05)).toBeNull();
          } finally {
            r.disconnect();
          }
        });

        it("a timeout that fires after the key was served does not reply twice", async () => {
          const ctl = await Raw.connect(port());
          ctl.cmd("DEL", "twice:k");
          await ctl.read(":0\r\n");
          const w = await Raw.connect(port());
          w.cmd("BLPOP", "twice:k", "0.2");
          await blockedClients(ctl, 1);
          ctl.cmd("RPUSH", "twice:k", "one");
          await ctl.read(":1\r\n");
          expect(await w.read(popped("twice:k", "one"))).toBe(popped("twice:k", "one"));
          // Block again, for ever, and let the first deadline pass: the
          // server's own timer is the clock (ctl's BLPOP times out after it).
          w.cmd("BLPOP", "twice:other", "0");
          await blockedClients(ctl, 1);
          ctl.cmd("BLPOP", "twice:never", "0.3");
          expect(await ctl.read("*-1\r\n")).toBe("*-1\r\n");
          ctl.cmd("RPUSH", "twice:other", "two");
          await ctl.read(":1\r\n");
          // The first reply w gets after "one" is "two": no stray nil in between.
          expect(await w.read(popped("twice:other", "two"))).toBe(popped("twice:other", "two"));
          w.cmd("PING");
          expect(await w.read("+PONG\r\n")).toBe("+PONG\r\n");
        });

        it("a blocked client's pipelined commands wait until it is served", async () => {
          const ctl = await Raw.connect(port());
          ctl.cmd("DEL", "pipe:k");
          await ctl.read(":0\r\n");
          const w = await Raw.connect(port());
          w.send(
            encode("BLPOP", "pipe:k", "0") + encode("LLEN", "pipe:k") + encode("ECHO", "last"),
          );
          await blockedClients(ctl, 1);
          ctl.cmd("RPUSH", "pipe:k", "a", "b");
          await ctl.read(":2\r\n");
          const want = `${popped("pipe:k", "a")}:1\r\n${bulk("last")}`;
          expect(await w.read(want)).toBe(want);
        });

        it("BLPOP k1 k2 wakes on either key; a timeout answers nil (RESP2 *-1, RESP3 _)", async () => {
          const ctl = await Raw.connect(port());
          ctl.cmd("DEL", "ab:1", "ab:2");
          await ctl.read(":0\r\n");
          const w = await Raw.connect(port());
          w.cmd("BLPOP", "ab:1", "ab:2", "0");
          await blockedClients(ctl, 1);
          ctl.cmd("RPUSH", "ab:2", "z");
          await ctl.read(":1\r\n");
          expect(await w.read(popped("ab:2", "z"))).toBe(popped("ab:2", "z"));
          w.cmd("BLPOP", "ab:1", "0.01");
          expect(await w.read("*-1\r\n")).toBe("*-1\r\n");
          w.cmd("HELLO", "3");
          await new Promise<void>((resolve) => {
            const check = () => (w.pending.includes("modules") ? resolve() : setTimeout(check, 5));
            check();
          });
          await w.read(w.pending);
          w.cmd("BLPOP", "ab:1", "0.01");
          expect(await w.read("_\r\n")).toBe("_\r\n");
        });

        it("BLMOVE serves the destination's waiters in turn", async () => {
          const ctl = await Raw.connect(port());
          ctl.cmd("DEL", "mv:src", "mv:dst");
          await ctl.read(":0\r\n");
          const mover = await Raw.connect(port());
          mover.cmd("BLMOVE", "mv:src", "mv:dst", "LEFT", "RIGHT", "0");
          await blockedClients(ctl, 1);
          const popper = await Raw.connect(port());
          popper.cmd("BLPOP", "mv:dst", "0");
          await blockedClients(ctl, 2);
          ctl.cmd("RPUSH", "mv:src", "job");
          await ctl.read(":1\r\n");
          expect(await mover.read(bulk("job"))).toBe(bulk("job"));
          expect(await popper.read(popped("mv:dst", "job"))).toBe(popped("mv:dst", "job"));
          ctl.cmd("EXISTS", "mv:src", "mv:dst");
          expect(await ctl.read(":0\r\n")).toBe(":0\r\n");
        });
      });
    }

    describe("client libraries with a concurrent producer", () => {
      it("ioredis: BLPOP consumers and a producer on other connections", async () => {
        const consumer = new Redis({ host: "127.0.0.1", port: server().port, lazyConnect: true });
        const producer = new Redis({ host: "127.0.0.1", port: server().port, lazyConnect: true });
        try {
          await Promise.all([consumer.connect(), producer.connect()]);
          await producer.del("io:q");
          const got: string[] = [];
          const consuming = (async () => {
            while (got.length < 100) {
              const r = await consumer.blpop("io:q", 5);
              if (r === null) throw new Error("timed out waiting for the producer");
              got.push(r[1]);
            }
          })();
          for (let i = 0; i < 100; i++) await producer.rpush("io:q", `item${i}`);
          await consuming;
          expect(got).toEqual(Array.from({ length: 100 }, (_, i) => `item${i}`));
        } finally {
          consumer.disconnect();
          producer.disconnect();
        }
      });

      it.each([
        { label: "RESP3", RESP: 3 as const },
        { label: "RESP2", RESP: 2 as const },
      ])("node-redis ($label): BLPOP with a concurrent producer", async ({ RESP }) => {
        const opts = { socket: { host: "127.0.0.1", port: server().port }, RESP };
        const consumer = createClient(opts);
        const producer = createClient(opts);
        consumer.on("error", () => {});
        producer.on("error", () => {});
        await Promise.all([consumer.connect(), producer.connect()]);
        try {
          await producer.del("nr:q");
          const waiting = consumer.blPop("nr:q", 5);
          const timedOut = consumer.blPop("nr:none", 0.05);
          await producer.rPush("nr:q", ["first", "second"]);
          expect(await waiting).toEqual({ key: "nr:q", element: "first" });
          expect(await timedOut).toBeNull();
          expect(await producer.lRange("nr:q", 0, -1)).toEqual(["second"]);
        } finally {
          consumer.destroy();
          producer.destroy();
        }
      });
    });

    describe("a queue", () => {
      it("20 consumers blocked on one key, 2,000 items from 5 producers: each delivered once", async () => {
        const p = server().port;
        const ctl = new Redis({ host: "127.0.0.1", port: p, lazyConnect: true });
        await ctl.connect();
        await ctl.del("queue");
        const consumers = Array.from(
          { length: 20 },
          () => new Redis({ host: "127.0.0.1", port: p, lazyConnect: true }),
        );
        const producers = Array.from(
          { length: 5 },
          () => new Redis({ host: "127.0.0.1", port: p, lazyConnect: true }),
        );
        try {
          await Promise.all([...consumers, ...producers].map((r) => r.connect()));
          const received: string[] = [];
          // Each consumer pops until all items are in; a short timeout lets the
          // ones still blocked at the end notice and return.
          const consuming = consumers.map(async (r) => {
            while (received.length < 2_000) {
              const got = await r.blpop("queue", 0.05);
              if (got !== null) received.push(got[1]);
            }
          });
          const producing = producers.map(async (r, pi) => {
            for (let i = 0; i < 400; i += 20) {
              const batch = Array.from({ length: 20 }, (_, j) => `p${pi}:${i + j}`);
              await r.rpush("queue", ...batch);
            }
          });
          await Promise.all([...producing, ...consuming]);
          expect(received.length).toBe(2_000);
          expect(new Set(received).size).toBe(2_000);
          expect(await ctl.exists("queue")).toBe(0);
        } finally {
          for (const r of [ctl, ...consumers, ...producers]) r.disconnect();
        }
      });
    });
  });
}
