// redis-harness.test.ts -- the private redis-server every Redis test leans on.
//
// If this fails, every cross-node and differential test fails with it; this
// file says why in one place: not installed, did not start, or did not come
// back after a kill.

import { describe, expect, it } from "vitest";
import { redisCli, startRedis } from "./src/redis.ts";

describe("startRedis", () => {
  it("starts a private server on a free port, survives kill and restart, stops", async () => {
    const redis = await startRedis();
    try {
      expect(redis.port).not.toBe(6379);
      expect((await redisCli(redis.port, ["SET", "k", "v"])).trim()).toBe("OK");
      expect((await redisCli(redis.port, ["GET", "k"])).trim()).toBe("v");
      await redis.kill();
      await expect(redisCli(redis.port, ["PING"])).rejects.toThrow();
      await redis.restart();
      // Restarted empty: nothing was persisted.
      expect((await redisCli(redis.port, ["GET", "k"])).trim()).toBe("");
    } finally {
      await redis.stop();
    }
  });
});
