// consumer-group.redis.test.ts -- seeded random group commands, replayed on a real Redis and on our Stream.
//
// Step 20's stream.redis.test.ts with consumer groups in the mix: a group
// reads the same log that XADD, XTRIM and XDEL change under it. Each run
// sends a few hundred random stream commands (the log's and every group
// command: XGROUP, XREADGROUP, XACK, XCLAIM, XAUTOCLAIM, XPENDING, XINFO
// GROUPS and CONSUMERS) to a private redis-server 7.0 and applies the same
// commands to a Stream through a tiny stand-in for the command layer
// below, and demands the same reply for every command (idle times
// excepted: they depend on the wall clock). Redis's streams are set to
// 5-entry nodes, so that approximate trimming crosses node boundaries in
// short runs; our Stream gets the same node size. A failure prints the
// seed and the command.

import { corpusSteps } from "@smallchat/test/corpus";
import { redisForAllTests } from "@smallchat/test/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stream, StreamEntry, TrimSpec } from "../src/stream.ts";

// Since step 22: runs against step 22 and every later step of its track.
for (const step of corpusSteps(23)) {
  describe(step.name, async () => {
    const {
      formatId,
      MIN_ID,
      parseGroupId,
      parseRangeEnd,
      parseRangeStart,
      parseReadId,
      parseStrictId,
      parseXaddId,
      Stream,
      StreamError,
    } = (await import(`${step.dir}src/stream.ts`)) as typeof import("../src/stream.ts");
    const redis = redisForAllTests();
    let client: Redis;

    beforeAll(async () => {
      client = new Redis({ port: redis().port, protocol: 2, lazyConnect: true });
      await client.connect();
      await client.call("CONFIG", "SET", "stream-node-max-entries", "5");
    });

    afterAll(async () => {
      await client?.quit();
    });

    type Reply = unknown;

    async function real(args: string[]): Promise<Reply> {
      try {
        return await client.call(args[0]!, ...args.slice(1));
      } catch (e) {
        return { err: (e as Error).message };
      }
    }

    function ours(f: () => Reply): Reply {
      try {
        return f();
      } catch (e) {
        if (e instanceof StreamError) return { err: e.reply };
        throw e;
      }
    }

    // A small seeded PRNG (mulberry32): the same seed replays the same run.
    function rng(seed: number) {
      let a = seed >>> 0;
      const next = () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
      const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
      return { next, int, pick };
    }

    /* ================================ Streams ================================
     * The stand-in command layer: just enough argument handling to call the
     * Stream API and shape its results as RESP2 replies look through ioredis.
     * ======================================================================== */

    const entryReply = (e: StreamEntry) => [formatId(e.id), e.fields.map(String)];

    function streamCommand(s: Stream, args: string[]): Reply {
      const [cmd, , ...a] = args;
      const key = "s";
      switch (cmd) {
        case "XADD": {
          let i = 0;
          let trim: TrimSpec | undefined;
          if (a[0] === "MAXLEN" || a[0] === "MINID") {
            const approx = a[1] === "~";
            const arg = a[2]!;
            trim =
              a[0] === "MAXLEN"
                ? { strategy: "maxlen", maxlen: Number(arg), approx }
                : { strategy: "minid", minid: parseStrictId(arg), approx };
            i = 3;
          }
          const idSpec = parseXaddId(a[i]!);
          const fields = a.slice(i + 1).map((x) => Buffer.from(x));
          return formatId(s.add(idSpec, fields, trim));
        }
        case "XTRIM": {
          const approx = a[1] === "~";
          const limit = a[3] === "LIMIT" ? Number(a[4]) : undefined;
          const spec: TrimSpec =
            a[0] === "MAXLEN"
              ? { strategy: "maxlen", maxlen: Number(a[2]), approx, limit }
              : { strategy: "minid", minid: parseStrictId(a[2]!), approx, limit };
          return s.trim(spec);
        }
        case "XDEL":
          return s.delete(a.map(parseStrictId));
        case "XLEN":
          return s.length;
        case "XRANGE":
        case "XREVRANGE": {
          const rev = cmd === "XREVRANGE";
          const start = parseRangeStart(rev ? a[1]! : a[0]!);
          const end = parseRangeEnd(rev ? a[0]! : a[1]!);
          return s.range(start, end, Number(a[3]), rev).map(entryReply);
        }
        case "XGROUP": {
          const [, sub, , g, x] = args;
          if (sub === "CREATE") {
            s.createGroup(g!, parseGroupId(x!, "create"));
            return "OK";
          }
          const grp = s.group(g!);
          if (!grp) return { err: `NOGROUP No such consumer group '${g}' for key name '${key}'` };
          if (sub === "SETID") {
            grp.setId(parseGroupId(x!, "setid"));
            return "OK";
          }
          if (sub === "CREATECONSUMER") return grp.createConsumer(x!) ? 1 : 0;
          if (sub === "DELCONSUMER") return grp.deleteConsumer(x!);
          if (sub === "DESTROY") return s.destroyGroup(g!) ? 1 : 0;
          break;
        }
        case "XREADGROUP": {
          // XREADGROUP GROUP g c COUNT n STREAMS s id
          const g = args[2]!;
          const c = args[3]!;
          const count = Number(args[5]);
          const grp = s.group(g);
          if (!grp) {
            return {
              err: `NOGROUP No such key '${key}' or consumer group '${g}' in XREADGROUP with GROUP option`,
            };
          }
          const rid = parseReadId(args[8]!, true);
          if (rid.kind === "new") {
            const got = grp.readNew(c, count);
            return got ? [[key, got.map(entryReply)]] : null;
          }
          if (rid.kind === "after") {
            const got = grp.readHistory(c, rid.id, count);
            return [
              [key, got.map((e) => [formatId(e.id), e.fields ? e.fields.map(String) : null])],
            ];
          }
          break;
        }
        case "XREAD": {
          // XREAD COUNT n STREAMS s id
          const rid = parseReadId(args[5]!, false);
          const after = rid.kind === "after" ? rid.id : s.lastId;
          const got = s.readAfter(after, Number(args[2]));
          return got.length ? [[key, got.map(entryReply)]] : null;
        }
        case "XACK": {
          const grp = s.group(a[0]!);
          return grp ? grp.ack(a.slice(1).map(parseStrictId)) : 0;
        }
        case "XCLAIM": {
          // XCLAIM s g c 0 id... [JUSTID] [FORCE] [RETRYCOUNT n]
          const grp = s.group(a[0]!);
          if (!grp) return { err: `NOGROUP No such key '${key}' or consumer group '${a[0]}'` };
          const ids = [];
          let i = 3;
          for (; i < a.length && /^\d/.test(a[i]!); i++) ids.push(parseStrictId(a[i]!));
          const opts: { justId?: boolean; force?: boolean; retryCount?: number } = {};
          for (; i < a.length; i++) {
            if (a[i] === "JUSTID") opts.justId = true;
            else if (a[i] === "FORCE") opts.force = true;
            else if (a[i] === "RETRYCOUNT") opts.retryCount = Number(a[++i]);
          }
          const got = grp.claim(a[1]!, Number(a[2]), ids, opts);
          return got.map((e) =>
            opts.justId ? formatId(e.id) : [formatId(e.id), e.fields!.map(String)],
          );
        }
        case "XAUTOCLAIM": {
          // XAUTOCLAIM s g c 0 start COUNT n [JUSTID]
          const grp = s.group(a[0]!);
          if (!grp) return { err: `NOGROUP No such key '${key}' or consumer group '${a[0]}'` };
          const justId = a[6] === "JUSTID";
          const r = grp.autoclaim(
            a[1]!,
            Number(a[2]),
            parseRangeStart(a[3]!),
            Number(a[5]),
            justId,
          );
          return [
            formatId(r.next),
            r.claimed.map((e) =>
              justId ? formatId(e.id) : [formatId(e.id), e.fields!.map(String)],
            ),
            r.deleted.map(formatId),
          ];
        }
        case "XPENDING": {
          // Redis parses the bounds before it looks for the group.
          const start = a.length > 1 ? parseRangeStart(a[1]!) : MIN_ID;
          const end = a.length > 1 ? parseRangeEnd(a[2]!) : MIN_ID;
          const grp = s.group(a[0]!);
          if (!grp) return { err: `NOGROUP No such key '${key}' or consumer group '${a[0]}'` };
          if (a.length === 1) {
            const p = grp.pendingSummary();
            if (p.count === 0) return [0, null, null, null];
            return [
              p.count,
              formatId(p.min!),
              formatId(p.max!),
              p.consumers.map((c) => [c.name, String(c.count)]),
            ];
          }
          return grp
            .pendingRange({
              start,
              end,
              count: Number(a[3]),
              consumer: a[4],
            })
            .map((p) => [formatId(p.id), p.consumer, "idle", p.deliveries]);
        }
        case "XINFO": {
          if (args[1] === "STREAM") {
            const i = s.info();
            return {
              length: i.length,
              "radix-tree-keys": i.radixTreeKeys,
              "last-generated-id": formatId(i.lastGeneratedId),
              "max-deleted-entry-id": formatId(i.maxDeletedEntryId),
              "entries-added": i.entriesAdded,
              "recorded-first-entry-id": formatId(i.recordedFirstEntryId),
              groups: i.groups,
              "first-entry": i.firstEntry ? entryReply(i.firstEntry) : null,
              "last-entry": i.lastEntry ? entryReply(i.lastEntry) : null,
            };
          }
          if (args[1] === "CONSUMERS") {
            const grp = s.group(args[3]!);
            if (!grp)
              return { err: `NOGROUP No such consumer group '${args[3]}' for key name '${key}'` };
            return grp
              .consumers()
              .map((c) => ["name", c.name, "pending", c.pending, "idle", "idle"]);
          }
          if (args[1] === "GROUPS") {
            return s.groups().map((g) => {
              const i = g.info();
              return [
                "name",
                i.name,
                "consumers",
                i.consumers,
                "pending",
                i.pending,
                "last-delivered-id",
                formatId(i.lastDeliveredId),
                "entries-read",
                i.entriesRead,
                "lag",
                i.lag,
              ];
            });
          }
          break;
        }
      }
      throw new Error(`no such stream command ${args.join(" ")}`);
    }

    // Make Redis's replies comparable: XINFO STREAM as an object without
    // radix-tree-nodes, idle times blanked.
    function normalizeReal(args: string[], r: Reply): Reply {
      if (args[0] === "XINFO" && args[1] === "STREAM" && Array.isArray(r)) {
        const o: Record<string, unknown> = {};
        for (let i = 0; i < r.length; i += 2) o[r[i] as string] = r[i + 1];
        delete o["radix-tree-nodes"];
        return o;
      }
      if (args[0] === "XINFO" && args[1] === "CONSUMERS" && Array.isArray(r)) {
        return r.map((c) => [c[0], c[1], c[2], c[3], c[4], "idle"]);
      }
      if (args[0] === "XPENDING" && args.length > 3 && Array.isArray(r)) {
        return r.map((p) => [p[0], p[1], "idle", p[3]]);
      }
      return r;
    }

    function randomStreamCommand(r: ReturnType<typeof rng>, top: { ms: number }): string[] {
      const ms = () => r.int(Math.max(0, top.ms - 6), top.ms + 1);
      const anId = () => `${ms()}-${r.int(0, 2)}`;
      const bound = () => r.pick(["-", "+", String(ms()), anId(), `(${anId()}`, `(${ms()}`]);
      const group = () => r.pick(["g1", "g2"]);
      const consumer = () => r.pick(["alice", "bob", "carol"]);
      switch (r.int(0, 21)) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4: {
          top.ms += r.int(0, 1);
          const id = r.pick([`${top.ms}-*`, `${top.ms}`, `${top.ms}-${r.int(0, 3)}`, anId()]);
          const cmd = ["XADD", "s"];
          const t = r.int(0, 9);
          if (t === 0) cmd.push("MAXLEN", r.pick(["~", "="]), String(r.int(0, 12)));
          if (t === 1) cmd.push("MINID", r.pick(["~", "="]), anId());
          cmd.push(id, "f", String(r.int(0, 99)));
          return cmd;
        }
        case 5: {
          const cmd = ["XTRIM", "s", r.pick(["MAXLEN", "MINID"]), r.pick(["~", "="])];
          cmd.push(cmd[2] === "MAXLEN" ? String(r.int(0, 15)) : anId());
          if (cmd[3] === "~" && r.next() < 0.4) cmd.push("LIMIT", String(r.int(0, 12)));
          return cmd;
        }
        case 6:
          return ["XDEL", "s", anId(), anId()];
        case 7:
          return [
            r.pick(["XRANGE", "XREVRANGE"]),
            "s",
            bound(),
            bound(),
            "COUNT",
            String(r.int(1, 6)),
          ];
        case 8:
          return r.next() < 0.5
            ? ["XGROUP", "CREATE", "s", group(), r.pick(["$", "0", anId()])]
            : ["XGROUP", "SETID", "s", group(), r.pick(["$", "0", anId()])];
        case 9:
          return ["XGROUP", r.pick(["CREATECONSUMER", "DELCONSUMER"]), "s", group(), consumer()];
        case 10:
        case 11:
        case 12: {
          const id = r.next() < 0.75 ? ">" : r.pick(["0", anId()]);
          return [
            "XREADGROUP",
            "GROUP",
            group(),
            consumer(),
            "COUNT",
            String(r.int(1, 4)),
            "STREAMS",
            "s",
            id,
          ];
        }
        case 13:
          return ["XACK", "s", group(), anId(), anId(), anId()];
        case 14: {
          const cmd = ["XCLAIM", "s", group(), consumer(), "0", anId(), anId()];
          if (r.next() < 0.4) cmd.push("JUSTID");
          if (r.next() < 0.3) cmd.push("FORCE");
          if (r.next() < 0.2) cmd.push("RETRYCOUNT", String(r.int(0, 5)));
          return cmd;
        }
        case 15: {
          const cmd = ["XAUTOCLAIM", "s", group(), consumer(), "0", r.pick(["0", anId()])];
          cmd.push("COUNT", String(r.int(1, 4)));
          if (r.next() < 0.5) cmd.push("JUSTID");
          return cmd;
        }
        case 16:
          return r.next() < 0.5
            ? ["XPENDING", "s", group()]
            : [
                "XPENDING",
                "s",
                group(),
                bound(),
                bound(),
                String(r.int(1, 5)),
                ...(r.next() < 0.4 ? [consumer()] : []),
              ];
        case 17:
          return ["XINFO", "STREAM", "s"];
        case 18:
          return ["XINFO", "GROUPS", "s"];
        case 19:
          return ["XINFO", "CONSUMERS", "s", group()];
        case 20:
          return [
            "XREAD",
            "COUNT",
            String(r.int(1, 4)),
            "STREAMS",
            "s",
            r.pick(["$", "0", anId()]),
          ];
        default:
          return ["XLEN", "s"];
      }
    }

    describe("differential against redis-server", () => {
      it.each([1, 2, 3, 4, 5, 6, 7, 8])("streams with groups, seed %i", async (seed) => {
        await client.call("DEL", "s");
        const r = rng(seed);
        const s = new Stream({ nodeMaxEntries: 5 });
        const top = { ms: 1 };
        const first = ["XADD", "s", "1-1", "f", "0"];
        expect(ours(() => streamCommand(s, first))).toEqual(await real(first));
        for (let step = 0; step < 600; step++) {
          const args = randomStreamCommand(r, top);
          const want = normalizeReal(args, await real(args));
          const got = ours(() => streamCommand(s, args));
          expect(got, `seed ${seed} step ${step}: ${args.join(" ")}`).toEqual(want);
        }
      });
    });
  });
}
