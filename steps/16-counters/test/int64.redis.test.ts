// int64.redis.test.ts -- INCRBY and INCRBYFLOAT against a private real
// redis-server, on thousands of seeded random operands: edge integers,
// decimals of every size, exponents, hex floats, and junk.

import { corpusSteps } from "@smallchat/test/corpus";
import { redisForAllTests } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Since step 16: runs against step 16 and every later step of its track.
for (const step of corpusSteps(16)) {
  describe(step.name, async () => {
    const { addInt64, ERR_NOT_INTEGER, ERR_OVERFLOW, incrByFloat, parseInt64 } = (await import(
      `${step.dir}src/int64.ts`
    )) as typeof import("../src/int64.ts");
    const redis = redisForAllTests();
    let client: Redis;

    beforeAll(() => {
      // stringNumbers: integer replies as strings, or ioredis would round them
      // to doubles, the very bug this file is about.
      client = new Redis({ port: redis().port, stringNumbers: true });
    });

    afterAll(() => client.disconnect());

    // A small seeded generator (mulberry32), so a failure can be replayed.
    function generator(seed: number) {
      let s = seed >>> 0;
      const next = () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      const int = (n: number) => Math.floor(next() * n);
      const pick = <T>(list: T[]) => list[int(list.length)]!;
      const sign = () => (int(2) ? "-" : "");
      return { next, int, pick, sign };
    }

    const FLOAT_EDGES = [
      "0.1",
      "0.2",
      "1e3",
      "10.6",
      "-10.6",
      "1e-20",
      "5e-18",
      "1e4932",
      "1e4933",
      "1e-4950",
      "1e-4952",
      "0x1p-16445",
      "0x1p-16446",
      "0x1.fffffffffffffffep16383",
      ".5",
      "5.",
      "+1",
      "0x10",
      "1e",
      "inf",
      "-inf",
      "nan",
      " 1",
      "1 ",
      "00.5",
      "-0",
      "3.0e3",
      "9223372036854775807",
      "123456789012345678901234567890",
      "1.00000000000000000000000001",
      "",
    ];

    const INT_EDGES = [
      "9223372036854775807",
      "-9223372036854775808",
      "9223372036854775806",
      "-9223372036854775807",
      "9223372036854775808",
      "-9223372036854775809",
      "0",
      "1",
      "-1",
      "-0",
      "+1",
      "01",
      "",
      " 1",
      "1.0",
      "99999999999999999999",
      "4611686018427387904",
      "-4611686018427387904",
    ];

    async function reply(p: Promise<unknown>): Promise<string> {
      try {
        return String(await p);
      } catch (err) {
        return (err as Error).message;
      }
    }

    it("INCRBYFLOAT gives Redis's digits and errors, 2,000 random cases", async () => {
      const g = generator(20261130);
      const operand = (): string =>
        g.pick([
          () => (g.next() * 10 ** g.int(8)).toFixed(g.int(6)),
          () => `${g.sign()}${g.int(100000)}.${g.int(1000)}`,
          () => `${g.int(10)}e${g.sign()}${g.int(40)}`,
          () => `${g.sign()}0.${"0".repeat(g.int(20))}${g.int(99999)}`,
          () => `${g.sign()}${g.int(1e9)}.${g.int(1e9)}e${g.sign()}${g.int(30)}`,
          () => String(g.next() * 1e20),
          () => g.pick(FLOAT_EDGES),
        ])();
      const mismatches: string[] = [];
      for (let i = 0; i < 2000; i++) {
        const [value, incr] = [operand(), operand()];
        await client.set("f", value);
        const theirs = await reply(client.incrbyfloat("f", incr));
        const result = incrByFloat(Buffer.from(value, "latin1"), Buffer.from(incr, "latin1"));
        const ours = typeof result === "string" ? result : result.toString("latin1");
        if (ours !== theirs) mismatches.push(`${value} + ${incr}: redis ${theirs}, ours ${ours}`);
      }
      expect(mismatches).toEqual([]);
    });

    it("INCRBY gives Redis's value or error at the int64 edges, 2,000 random cases", async () => {
      const g = generator(7);
      const operand = (): string =>
        g.int(3)
          ? g.pick(INT_EDGES)
          : (BigInt(`${g.sign()}${g.int(2 ** 53)}`) * BigInt(g.int(2048))).toString();
      const mismatches: string[] = [];
      for (let i = 0; i < 2000; i++) {
        const [value, incr] = [operand(), operand()];
        await client.set("i", value);
        const theirs = await reply(client.incrby("i", incr));
        const v = parseInt64(Buffer.from(value));
        const n = parseInt64(Buffer.from(incr));
        const ours =
          v === null || n === null ? ERR_NOT_INTEGER : (addInt64(v, n)?.toString() ?? ERR_OVERFLOW);
        if (ours !== theirs) mismatches.push(`${value} + ${incr}: redis ${theirs}, ours ${ours}`);
      }
      expect(mismatches).toEqual([]);
    });
  });
}
