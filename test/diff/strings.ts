// strings.ts -- the diff family of strings and keys: SET's options, counters at the int64
// edges, expiry, binary keys, KEYS and SCAN, scripted and seeded-random.
//
// Every case starts with FLUSHALL: both servers live for the whole family,
// and a key left by one case must not change the next. Times are chosen so
// that both servers must give the same answer: a TTL of 1000 s reads 1000
// on both, whatever milliseconds passed between SET and TTL; PTTL is only
// asked of keys without a TTL. KEYS and SCAN list keys in an order each
// server picks (Redis's hash table, our birth order): those cases sort the
// keys before comparing.

import {
  type Action,
  type Arg,
  type DiffCase,
  type Family,
  frameEnd,
  maskIds,
  random,
} from "../src/redis-diff.ts";

const b = (s: string) => Buffer.from(s, "latin1");

const INT64_MAX = "9223372036854775807";
const INT64_MIN = "-9223372036854775808";

// Sort the elements of every array in the transcript made only of bulk
// strings: the keys of a KEYS reply, the keys inside SCAN's.
function sortFrame(frame: string): string {
  const type = frame[0];
  if (type !== "*" && type !== "~") return frame;
  const nl = frame.indexOf("\r\n");
  const items: string[] = [];
  const buf = Buffer.from(frame, "latin1");
  let pos = nl + 2;
  while (pos < buf.length) {
    const end = frameEnd(buf, pos);
    items.push(sortFrame(buf.toString("latin1", pos, end)));
    pos = end;
  }
  const sortable = items.length > 0 && items.every((i) => i.startsWith("$"));
  return frame.slice(0, nl + 2) + (sortable ? items.sort() : items).join("");
}

function sortKeyArrays(transcript: string[]): string[] {
  return maskIds(transcript).map((entry) => {
    const m = /^(\d+): (".*")$/.exec(entry);
    if (m === null) return entry;
    return `${m[1]}: ${JSON.stringify(sortFrame(JSON.parse(m[2]!) as string))}`;
  });
}

const unordered = {
  why: "KEYS and SCAN return keys in each server's own order; connection ids differ",
  normalize: sortKeyArrays,
};

const cmds = (...list: Arg[][]): Action[] => list.map((cmd) => ({ cmd }));

const scripted: DiffCase[] = [
  {
    name: "GET, SET, and the arity of every string command",
    actions: cmds(
      ["GET", "k"],
      ["SET", "k", "v"],
      ["GET", "k"],
      ["SET", "k", ""],
      ["GET", "k"],
      ["STRLEN", "k"],
      ["GET"],
      ["SET", "k"],
      ["GET", "a", "b"],
      ["SETNX", "k"],
      ["GETSET", "k"],
      ["GETDEL"],
      ["MGET"],
      ["MSET", "a"],
      ["MSET", "a", "1", "b"],
      ["APPEND", "k"],
      ["STRLEN"],
      ["INCR"],
      ["DECR", "a", "b"],
      ["INCRBY", "k"],
      ["DECRBY", "k"],
      ["INCRBYFLOAT", "k"],
    ),
  },
  {
    name: "SET's options, alone and together",
    actions: cmds(
      ["SET", "k", "1", "NX"],
      ["SET", "k", "2", "NX"],
      ["SET", "k", "3", "XX"],
      ["SET", "missing", "x", "XX"],
      ["GET", "k"],
      ["SET", "k", "4", "GET"],
      ["SET", "new", "5", "GET"],
      ["SET", "k", "6", "NX", "GET"],
      ["SET", "k2", "6", "NX", "GET"],
      ["SET", "k", "7", "XX", "GET"],
      ["SET", "k3", "7", "XX", "GET"],
      ["SET", "k", "8", "nx", "nx"],
      ["SET", "k", "9", "xx", "xx", "get", "get"],
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
    name: "SET's syntax errors and invalid times",
    actions: cmds(
      ["SET", "k", "v", "NX", "XX"],
      ["SET", "k", "v", "XX", "NX"],
      ["SET", "k", "v", "EX"],
      ["SET", "k", "v", "EX", "10", "PX", "10"],
      ["SET", "k", "v", "PX", "10", "EX", "10"],
      ["SET", "k", "v", "EXAT", "10", "PXAT", "10"],
      ["SET", "k", "v", "EX", "10", "KEEPTTL"],
      ["SET", "k", "v", "KEEPTTL", "EX", "10"],
      ["SET", "k", "v", "KEEPTTL", "KEEPTTL"],
      ["SET", "k", "v", "BOGUS"],
      ["SET", "k", "v", "10"],
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
    name: "SETNX, GETSET, GETDEL, MGET, MSET",
    actions: cmds(
      ["SETNX", "k", "1"],
      ["SETNX", "k", "2"],
      ["GET", "k"],
      ["SET", "t", "x", "EX", "1000"],
      ["GETSET", "t", "y"],
      ["TTL", "t"],
      ["GETSET", "nothing", "z"],
      ["GETDEL", "nothing"],
      ["GETDEL", "missing"],
      ["EXISTS", "nothing"],
      ["MSET", "a", "1", "b", "2", "a", "3"],
      ["MGET", "a", "b", "c", "a"],
      ["SET", "e", "x", "EX", "1000"],
      ["MSET", "e", "y"],
      ["TTL", "e"],
    ),
  },
  {
    name: "APPEND and STRLEN",
    actions: cmds(
      ["APPEND", "k", "abc"],
      ["APPEND", "k", ""],
      ["APPEND", "k", "def"],
      ["GET", "k"],
      ["STRLEN", "k"],
      ["STRLEN", "missing"],
      ["SET", "t", "1", "EX", "1000"],
      ["APPEND", "t", "0"],
      ["TTL", "t"],
      ["INCR", "t"],
      ["APPEND", "t", "x"],
      ["GET", "t"],
      ["APPEND", "big", b("x".repeat(5000))],
      ["APPEND", "big", b("y".repeat(5000))],
      ["STRLEN", "big"],
      ["GET", "k"],
      ...Array.from({ length: 20 }, (_, i) => ["APPEND", "k", String(i)]),
      ["GET", "k"],
    ),
  },
  {
    name: "counters at the int64 edges",
    actions: cmds(
      ["SET", "n", "9223372036854775806"],
      ["INCR", "n"],
      ["INCR", "n"],
      ["GET", "n"],
      ["SET", "n", "-9223372036854775807"],
      ["DECR", "n"],
      ["DECR", "n"],
      ["INCRBY", "n", INT64_MAX],
      ["INCRBY", "n", INT64_MAX],
      ["INCRBY", "x", INT64_MIN],
      ["DECRBY", "x", "1"],
      ["DECRBY", "y", INT64_MIN],
      ["DECRBY", "missing", INT64_MIN],
      ["DECRBY", "y", INT64_MAX],
      ["INCRBY", "z", "9223372036854775808"],
      ["INCRBY", "z", "-9223372036854775809"],
      ["SET", "big", "9007199254740993"],
      ["INCR", "big"],
      ["INCRBY", "big", "9007199254740993"],
      ["DECR", "nothing"],
      ["DECRBY", "nothing2", "-5"],
    ),
  },
  {
    name: "what counts as an integer",
    actions: cmds(
      ...["+1", " 1", "1 ", "01", "-0", "1.0", "", "abc", "1e3", "0x10", "-", "00"].flatMap((v) => [
        ["SET", "v", v],
        ["INCR", "v"],
        ["INCRBY", "w", v],
      ]),
      ["SET", "v", "12345678901234567890"],
      ["INCR", "v"],
      ["SET", "v", "0"],
      ["INCR", "v"],
    ),
  },
  {
    name: "INCRBYFLOAT",
    actions: cmds(
      ["INCRBYFLOAT", "f", "10.5"],
      ["INCRBYFLOAT", "f", "0.1"],
      ["INCRBYFLOAT", "f", "-5.0e3"],
      ["INCRBYFLOAT", "g", "0.1"],
      ["INCRBYFLOAT", "g", "0.2"],
      ["INCRBYFLOAT", "h", "5"],
      ["GET", "h"],
      ["INCRBYFLOAT", "h", "abc"],
      ["INCRBYFLOAT", "h", "inf"],
      ["INCRBYFLOAT", "h", "nan"],
      ["INCRBYFLOAT", "h", " 1"],
      ["SET", "s", "abc"],
      ["INCRBYFLOAT", "s", "1"],
      ["SET", "i", INT64_MAX],
      ["INCRBYFLOAT", "i", "1"],
      ["SET", "t", "1", "EX", "1000"],
      ["INCRBYFLOAT", "t", "1.5"],
      ["TTL", "t"],
      ["HELLO", "3"],
      ["INCRBYFLOAT", "t", "1"],
    ),
    except: unordered,
  },
  {
    name: "binary keys and values: \\0, \\r\\n, \\xff",
    actions: [
      ...cmds(
        ["SET", b("a\0b"), b("v\0\r\n\xff")],
        ["SET", b("a\r\nb"), "2"],
        ["SET", b("\xff\xfe"), "3"],
        ["SET", b("\xfe\xff"), "4"],
        ["SET", b(""), "empty"],
        ["GET", b("a\0b")],
        ["GET", b("a")],
        ["GET", b("a\r\nb")],
        ["GET", b("\xff\xfe")],
        ["GET", b("\xfe\xff")],
        ["GET", b("")],
        ["MGET", b("a\0b"), b("\xff\xfe"), b("\xff")],
        ["EXISTS", b("a\0b"), b("a\0c")],
        ["RENAME", b("a\0b"), b("\0")],
        ["GET", b("\0")],
        ["APPEND", b("\xff\xfe"), b("\0\0")],
        ["GET", b("\xff\xfe")],
        ["KEYS", b("\xff*")],
        ["KEYS", b("a?b")],
        ["DBSIZE"],
      ),
      { cmd: ["KEYS", "*"] },
      { cmd: ["SCAN", "0", "COUNT", "100"] },
    ],
    except: unordered,
  },
  {
    name: "DEL, UNLINK, EXISTS, TYPE, DBSIZE, FLUSHDB",
    actions: cmds(
      ["MSET", "a", "1", "b", "2", "c", "3"],
      ["EXISTS", "a", "a", "x", "b"],
      ["TYPE", "a"],
      ["TYPE", "x"],
      ["DEL", "a", "x", "a"],
      ["UNLINK", "b", "b"],
      ["DBSIZE"],
      ["DEL"],
      ["EXISTS"],
      ["TYPE"],
      ["FLUSHDB", "ASYNC"],
      ["DBSIZE"],
      ["FLUSHALL", "bogus"],
      ["FLUSHALL", "sync", "async"],
      ["SET", "a", "1"],
      ["FLUSHALL", "SYNC"],
      ["GET", "a"],
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
    name: "RENAME",
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
    name: "KEYS with patterns",
    actions: cmds(
      [
        "MSET",
        "hello",
        "1",
        "hallo",
        "2",
        "hxllo",
        "3",
        "hllo",
        "4",
        "heeeello",
        "5",
        "h*llo",
        "6",
      ],
      ["KEYS", "*"],
      ["KEYS", "h?llo"],
      ["KEYS", "h*llo"],
      ["KEYS", "h[ae]llo"],
      ["KEYS", "h[^e]llo"],
      ["KEYS", "h[a-b]llo"],
      ["KEYS", "h\\*llo"],
      ["KEYS", "nothing*"],
      ["KEYS", "H*"],
      ["KEYS"],
    ),
    except: unordered,
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
    name: "INFO keyspace",
    actions: cmds(
      ["INFO", "keyspace"],
      ["MSET", "a", "1", "b", "2"],
      ["INFO", "keyspace"],
      ["FLUSHALL"],
      ["INFO", "keyspace"],
    ),
  },
  {
    name: "RESP3 replies",
    actions: cmds(
      ["SET", "k", "v"],
      ["HELLO", "3"],
      ["GET", "missing"],
      ["GET", "k"],
      ["SET", "k", "v", "NX"],
      ["SET", "k", "w", "GET"],
      ["MGET", "k", "missing"],
      ["INCR", "n"],
      ["INCRBYFLOAT", "n", "1.5"],
      ["TYPE", "k"],
      ["KEYS", "k"],
      ["SCAN", "0"],
      ["TTL", "k"],
    ),
    except: unordered,
  },
];

// Seeded-random sequences over four keys: every command above, with
// arguments drawn to make them collide (counters set to strings, expiries
// set and removed, renames onto each other).
const KEYS = ["a", "b", "c", b("d\0\xff")];
const NUMBERS = ["0", "1", "-1", "10", "abc", "1.5", INT64_MAX, INT64_MIN, "9223372036854775806"];

function randomCase(seed: number): DiffCase {
  const rnd = random(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const key = () => pick(KEYS);
  const actions: Action[] = [];
  for (let i = 0; i < 60; i++) {
    const cmd: Arg[] = pick<() => Arg[]>([
      () => ["SET", key(), pick(NUMBERS)],
      () => [
        "SET",
        key(),
        pick(["x", "1", ""]),
        ...pick([[], ["NX"], ["XX"], ["GET"], ["EX", "1000"], ["KEEPTTL"]]),
      ],
      () => ["GET", key()],
      () => ["INCR", key()],
      () => ["DECR", key()],
      () => ["INCRBY", key(), pick(NUMBERS)],
      () => ["DECRBY", key(), pick(NUMBERS)],
      () => ["INCRBYFLOAT", key(), pick(["1.5", "-0.25", "3", "abc"])],
      () => ["APPEND", key(), pick(["x", "1", ""])],
      () => ["STRLEN", key()],
      () => ["GETSET", key(), pick(NUMBERS)],
      () => ["GETDEL", key()],
      () => ["SETNX", key(), "n"],
      () => ["MGET", key(), key(), key()],
      () => ["MSET", key(), pick(NUMBERS), key(), pick(NUMBERS)],
      () => ["DEL", key(), key()],
      () => ["EXISTS", key(), key()],
      () => ["TYPE", key()],
      () => [
        "EXPIRE",
        key(),
        pick(["1000", "2000", "-1"]),
        ...pick([[], ["NX"], ["XX"], ["GT"], ["LT"]]),
      ],
      () => ["TTL", key()],
      () => ["PERSIST", key()],
      () => ["RENAME", key(), key()],
      () => ["DBSIZE"],
    ])();
    actions.push({ conn: Math.floor(rnd() * 2), cmd });
  }
  return { name: `random sequence over four keys, seed ${seed}`, actions };
}

const cases: DiffCase[] = [...scripted];
for (const seed of [1, 2, 3, 4, 5, 6]) cases.push(randomCase(seed));
// Each case on an empty keyspace.
for (const c of cases) c.actions.unshift({ cmd: ["FLUSHALL"] });

export const family: Family = { name: "strings and keys", since: 15, cases };
