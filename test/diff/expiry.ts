// expiry.ts -- the diff family of keys that expire, and of SCAN: SET's EX/PX/EXAT/PXAT/KEEPTTL,
// EXPIRE and its conditions, TTL, PTTL, PERSIST, which commands keep a TTL, expiry in each
// database, SCAN's cursor and options; scripted and seeded-random.
//
// Every case starts with FLUSHALL (of every database): both servers live
// for the whole family, and a key left by one case must not change the
// next. Times are chosen so that both servers must give the same answer:
// a TTL of 1000 s reads 1000 on both, whatever milliseconds passed between
// SET and TTL; PTTL is only asked of keys without a TTL. SCAN lists keys in
// an order each server picks: those cases sort the keys before comparing.

import type { Action, Arg, DiffCase, Family } from "../src/redis-diff.ts";
import { withoutKeySpecs } from "./introspection.ts";
import { cmds, randomCase, unordered } from "./strings.ts";

const b = (s: string) => Buffer.from(s, "latin1");
const on = (conn: number, ...list: Arg[][]): Action[] => list.map((cmd) => ({ conn, cmd }));

// INFO keyspace's avg_ttl is each server's own estimate: mask it, and the
// length of the bulk string that holds it.
const withoutAvgTtl = (t: string[]): string[] =>
  t.map((f) =>
    f.replace(/avg_ttl=\d+/g, "avg_ttl=<ms>").replace(/\$\d+(\\r\\n# Keyspace)/, "$<len>$1"),
  );

const INT64_MAX = "9223372036854775807";
const INT64_MIN = "-9223372036854775808";

const scripted: DiffCase[] = [
  {
    name: "SET's expiry options, alone and with NX, XX, GET",
    actions: cmds(
      ["SET", "k", "9"],
      ["SET", "k", "10", "EX", "1000"],
      ["TTL", "k"],
      ["SET", "k", "11", "KEEPTTL"],
      ["TTL", "k"],
      ["SET", "k", "12"],
      ["TTL", "k"],
      ["SET", "k", "13", "PX", "1000000"],
      ["TTL", "k"],
      ["SET", "k", "14", "EX", "5", "EX", "1000"],
      ["TTL", "k"],
      ["SET", "k", "15", "px", "5", "px", "1000000", "keepttl"],
      ["SET", "k", "16", "xx", "ex", "2000", "get"],
      ["TTL", "k"],
      ["GET", "k"],
    ),
  },
  {
    name: "SET's expiry options: syntax errors and invalid times",
    actions: cmds(
      ["SET", "k", "v", "EX"],
      ["SET", "k", "v", "EX", "10", "PX", "10"],
      ["SET", "k", "v", "PX", "10", "EX", "10"],
      ["SET", "k", "v", "EXAT", "10", "PXAT", "10"],
      ["SET", "k", "v", "EX", "10", "KEEPTTL"],
      ["SET", "k", "v", "KEEPTTL", "EX", "10"],
      ["SET", "k", "v", "KEEPTTL", "KEEPTTL"],
      ["SET", "k", "v", "EX", "abc"],
      ["SET", "k", "v", "EX", "1.5"],
      ["SET", "k", "v", "EX", "0"],
      ["SET", "k", "v", "EX", "-1"],
      ["SET", "k", "v", "PX", "0"],
      ["SET", "k", "v", "EXAT", "0"],
      ["SET", "k", "v", "EX", INT64_MAX],
      ["SET", "k", "v", "EX", "9223372036854776"],
      ["SET", "k", "v", "EX", "9223372036854775"],
      ["SET", "k", "v", "PX", INT64_MAX],
      ["SET", "k", "v", "EX", "99999999999999999999"],
      ["EXISTS", "k"],
      ["SET", "k", "v", "EXAT", "9223372036854775"],
      ["GET", "k"],
      ["SET", "k", "v", "PXAT", INT64_MAX],
      ["GET", "k"],
    ),
  },
  {
    name: "GETSET and MSET drop a TTL; APPEND, INCR and INCRBYFLOAT keep it",
    actions: cmds(
      ["SET", "t", "x", "EX", "1000"],
      ["GETSET", "t", "y"],
      ["TTL", "t"],
      ["SET", "e", "x", "EX", "1000"],
      ["MSET", "e", "y"],
      ["TTL", "e"],
      ["SET", "t", "1", "EX", "1000"],
      ["APPEND", "t", "0"],
      ["TTL", "t"],
      ["INCR", "t"],
      ["TTL", "t"],
      ["INCRBYFLOAT", "t", "1.5"],
      ["TTL", "t"],
      ["GET", "t"],
    ),
  },
  {
    name: "TTL and PTTL on missing and persistent keys; PERSIST",
    actions: cmds(
      ["TTL", "missing"],
      ["PTTL", "missing"],
      ["SET", "k", "v"],
      ["TTL", "k"],
      ["PTTL", "k"],
      ["PERSIST", "k"],
      ["PERSIST", "missing"],
      ["EXPIRE", "k", "1000"],
      ["TTL", "k"],
      ["PERSIST", "k"],
      ["TTL", "k"],
      ["PERSIST", "k"],
      ["PEXPIRE", "k", "1000000"],
      ["TTL", "k"],
      ["EXPIREAT", "k", "32503680000"],
      ["PEXPIREAT", "k", "32503680000000"],
      ["PERSIST", "k"],
    ),
  },
  {
    name: "expiry in the past deletes the key",
    actions: cmds(
      ["SET", "a", "1", "EXAT", "1"],
      ["GET", "a"],
      ["SET", "a", "1", "PXAT", "1", "GET"],
      ["EXISTS", "a"],
      ["SET", "b", "1"],
      ["EXPIRE", "b", "-1"],
      ["EXISTS", "b"],
      ["SET", "b", "1"],
      ["EXPIRE", "b", "0"],
      ["EXISTS", "b"],
      ["SET", "c", "1"],
      ["EXPIREAT", "c", "1"],
      ["GET", "c"],
      ["SET", "c", "1"],
      ["PEXPIREAT", "c", "0"],
      ["SET", "d", "1"],
      ["PEXPIRE", "d", "-100"],
      ["EXPIRE", "d", "-100"],
      ["DBSIZE"],
    ),
  },
  {
    name: "EXPIRE's NX, XX, GT, LT and its errors",
    actions: cmds(
      ["SET", "k", "v"],
      ["EXPIRE", "k", "1000", "XX"],
      ["EXPIRE", "k", "1000", "GT"],
      ["EXPIRE", "k", "1000", "LT"],
      ["TTL", "k"],
      ["EXPIRE", "k", "2000", "NX"],
      ["EXPIRE", "k", "2000", "XX"],
      ["EXPIRE", "k", "1500", "GT"],
      ["EXPIRE", "k", "2500", "gt"],
      ["EXPIRE", "k", "3000", "LT"],
      ["EXPIRE", "k", "1200", "lt", "xx"],
      ["TTL", "k"],
      ["EXPIRE", "k", "1", "NX", "XX"],
      ["EXPIRE", "k", "1", "NX", "GT"],
      ["EXPIRE", "k", "1", "GT", "LT"],
      ["EXPIRE", "k", "1", "XX", "GT", "NX"],
      ["EXPIRE", "k", "1", "BOGUS"],
      ["EXPIRE", "k", "abc", "BOGUS"],
      ["EXPIRE", "k", "1", b("a\0b")],
      ["EXPIRE", "k", "abc"],
      ["EXPIRE", "k", "1.5"],
      ["EXPIRE", "k", INT64_MAX],
      ["EXPIRE", "k", INT64_MIN],
      ["EXPIRE", "k", "9223372036854775"],
      ["PEXPIRE", "k", INT64_MAX],
      ["EXPIREAT", "k", "9223372036854776"],
      ["PEXPIREAT", "k", INT64_MIN],
      ["EXPIRE", "missing", "100"],
      ["EXPIRE", "missing", "100", "BOGUS"],
      ["EXPIRE", "k"],
      ["TTL", "k"],
      ["PERSIST", "k"],
      ["EXPIRE", "k", "-5", "LT"],
      ["EXISTS", "k"],
    ),
  },
  {
    name: "RENAME moves the TTL and drops the destination's",
    actions: cmds(
      ["RENAME", "missing", "x"],
      ["SET", "a", "1", "EX", "1000"],
      ["SET", "b", "2"],
      ["RENAME", "a", "b"],
      ["GET", "a"],
      ["GET", "b"],
      ["TTL", "b"],
      ["RENAME", "b", "b"],
      ["TTL", "b"],
      ["SET", "c", "3"],
      ["RENAME", "c", "b"],
      ["TTL", "b"],
      ["RENAME", "b"],
    ),
  },
  {
    name: "SCAN: small keyspaces in one call, options, errors",
    actions: cmds(
      ["SCAN", "0"],
      ["MSET", "k1", "1", "k2", "2", "x1", "3"],
      ["SCAN", "0"],
      ["SCAN", "0", "MATCH", "k*"],
      ["SCAN", "0", "match", "*", "count", "100"],
      ["SCAN", "0", "TYPE", "string"],
      ["SCAN", "0", "TYPE", "STRING", "MATCH", "x*"],
      ["SCAN", "0", "TYPE", "list"],
      ["SCAN", "0", "TYPE", "bogus"],
      ["SCAN", "", "COUNT", "5"],
      ["SCAN", "abc"],
      ["SCAN", " 0"],
      ["SCAN", "0x"],
      ["SCAN", "99999999999999999999999"],
      ["SCAN", "0", "COUNT", "0"],
      ["SCAN", "0", "COUNT", "-1"],
      ["SCAN", "0", "COUNT", "abc"],
      ["SCAN", "abc", "COUNT", "0"],
      ["SCAN", "0", "MATCH"],
      ["SCAN", "0", "BOGUS", "x"],
      ["SCAN", "0", "COUNT", "1", "COUNT"],
      ["SCAN"],
    ),
    except: unordered,
  },
  {
    name: "SCAN of binary keys",
    actions: cmds(
      ["SET", b("a\0b"), "1"],
      ["SET", b("a\r\nb"), "2"],
      ["SET", b("\xff\xfe"), "3"],
      ["SET", b(""), "empty"],
      ["SCAN", "0", "COUNT", "100"],
      ["SCAN", "0", "MATCH", b("\xff*")],
    ),
    except: unordered,
  },
  {
    name: "INFO keyspace counts the keys with a TTL",
    actions: cmds(
      ["MSET", "a", "1", "b", "2"],
      ["EXPIRE", "a", "1000"],
      ["INFO", "keyspace"],
      ["PERSIST", "a"],
      ["INFO", "keyspace"],
    ),
    except: {
      why: "avg_ttl is each server's own estimate, from its own samples",
      normalize: withoutAvgTtl,
    },
  },
  {
    name: "RESP3 replies of TTL, PTTL and SCAN",
    actions: cmds(
      ["SET", "k", "v", "EX", "1000"],
      ["HELLO", "3"],
      ["TTL", "k"],
      ["PTTL", "missing"],
      ["PERSIST", "k"],
      ["SCAN", "0"],
    ),
    except: unordered,
  },
  {
    // One key per SCAN answer: with more, their order is each server's own.
    name: "each database has its own expiries and SCAN",
    actions: [
      ...on(
        0,
        ["SET", "a", "zero"],
        ["SELECT", "2"],
        ["SET", "a", "two", "PX", "100000"],
        ["SET", "b", "x"],
        ["SCAN", "0", "MATCH", "b*", "COUNT", "100"],
        ["TTL", "a"],
        ["SELECT", "0"],
        ["TTL", "a"],
        ["SCAN", "0", "COUNT", "100"],
      ),
      ...on(1, ["SELECT", "2"], ["TTL", "a"], ["INFO", "keyspace"], ["SELECT", "0"]),
      ...on(0, ["SELECT", "0"]),
    ],
    except: {
      why: "avg_ttl is each server's own estimate, from its own samples",
      normalize: withoutAvgTtl,
    },
  },
  {
    name: "SWAPDB trades the expiries with the keys",
    actions: [
      ...on(0, ["SET", "a", "zero"], ["SET", "t", "x", "EX", "1000"]),
      ...on(1, ["SELECT", "1"], ["SET", "a", "one"]),
      ...on(0, ["SWAPDB", "0", "1"], ["TTL", "t"], ["EXISTS", "t"]),
      ...on(1, ["TTL", "t"], ["GET", "a"], ["SELECT", "0"]),
    ],
  },
  {
    name: "COMMAND INFO and DOCS of the expiry commands and SCAN",
    actions: [
      {
        cmd: [
          "COMMAND",
          "INFO",
          "expire",
          "pexpire",
          "expireat",
          "pexpireat",
          "ttl",
          "pttl",
          "persist",
          "scan",
        ],
      },
    ],
    except: withoutKeySpecs,
  },
  {
    name: "COMMAND DOCS of SET (its expiry options) and the expiry commands",
    actions: cmds(
      ["COMMAND", "DOCS", "set", "expire", "pexpireat", "scan", "ttl"],
      ["COMMAND", "DOCS", "pexpire", "expireat", "pttl", "persist"],
    ),
  },
];

const cases: DiffCase[] = [...scripted];
// The random sequences of strings.ts, with expiries set and removed.
for (const seed of [3, 4, 5, 6, 7, 8]) cases.push(randomCase(seed, true));
// Each case on an empty keyspace.
for (const c of cases) c.actions.unshift({ cmd: ["FLUSHALL"] });

export const family: Family = { name: "expiry and SCAN", since: 17, cases };
