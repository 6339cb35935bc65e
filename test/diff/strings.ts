// strings.ts -- the diff family of strings and keys: SET's options, binary keys, KEYS,
// scripted and seeded-random. Counters are step 16's family (counters.ts),
// expiry and SCAN step 17's (expiry.ts); both borrow the sorting and the
// random sequences from here.
//
// Every case starts with FLUSHALL: both servers live for the whole family,
// and a key left by one case must not change the next. KEYS lists keys in
// an order each server picks (Redis's hash table, our insertion order):
// those cases sort the keys before comparing.

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

export const INT64_MAX = "9223372036854775807";
export const INT64_MIN = "-9223372036854775808";

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

export function sortKeyArrays(transcript: string[]): string[] {
  return maskIds(transcript).map((entry) => {
    const m = /^(\d+): (".*")$/.exec(entry);
    if (m === null) return entry;
    return `${m[1]}: ${JSON.stringify(sortFrame(JSON.parse(m[2]!) as string))}`;
  });
}

export const unordered = {
  why: "KEYS and SCAN return keys in each server's own order; connection ids differ",
  normalize: sortKeyArrays,
};

export const cmds = (...list: Arg[][]): Action[] => list.map((cmd) => ({ cmd }));

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
      ["GET", "k"],
    ),
  },
  {
    name: "SET's syntax errors",
    actions: cmds(
      ["SET", "k", "v", "NX", "XX"],
      ["SET", "k", "v", "XX", "NX"],
      ["SET", "k", "v", "BOGUS"],
      ["SET", "k", "v", "10"],
      ["EXISTS", "k"],
    ),
  },
  {
    name: "SETNX, GETSET, GETDEL, MGET, MSET",
    actions: cmds(
      ["SETNX", "k", "1"],
      ["SETNX", "k", "2"],
      ["GET", "k"],
      ["SET", "t", "x"],
      ["GETSET", "t", "y"],
      ["GETSET", "nothing", "z"],
      ["GETDEL", "nothing"],
      ["GETDEL", "missing"],
      ["EXISTS", "nothing"],
      ["MSET", "a", "1", "b", "2", "a", "3"],
      ["MGET", "a", "b", "c", "a"],
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
      ["SET", "t", "1"],
      ["APPEND", "t", "0"],
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
    name: "RENAME",
    actions: cmds(
      ["RENAME", "missing", "x"],
      ["SET", "a", "1"],
      ["SET", "b", "2"],
      ["RENAME", "a", "b"],
      ["GET", "a"],
      ["GET", "b"],
      ["RENAME", "b", "b"],
      ["GET", "b"],
      ["SET", "c", "3"],
      ["RENAME", "c", "b"],
      ["GET", "b"],
      ["DBSIZE"],
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
      ["TYPE", "k"],
      ["KEYS", "k"],
    ),
    except: unordered,
  },
];

// Seeded-random sequences over four keys: every command above, with
// arguments drawn to make them collide (numbers and strings, renames onto
// each other). With `counters` (step 16's family on), INCR and its kin
// join in, on values that are and are not integers; with `expiry` (step
// 17's family), expiries are set and removed too.
const KEYS = ["a", "b", "c", b("d\0\xff")];
const NUMBERS = ["0", "1", "-1", "10", "abc", "1.5", INT64_MAX, INT64_MIN, "9223372036854775806"];

export function randomCase(seed: number, expiry: boolean, counters = true): DiffCase {
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
        ...pick(
          expiry
            ? [[], ["NX"], ["XX"], ["GET"], ["EX", "1000"], ["KEEPTTL"]]
            : [[], ["NX"], ["XX"], ["GET"], ["NX", "GET"]],
        ),
      ],
      () => ["GET", key()],
      ...(counters
        ? [
            (): Arg[] => ["INCR", key()],
            (): Arg[] => ["DECR", key()],
            (): Arg[] => ["INCRBY", key(), pick(NUMBERS)],
            (): Arg[] => ["DECRBY", key(), pick(NUMBERS)],
            (): Arg[] => ["INCRBYFLOAT", key(), pick(["1.5", "-0.25", "3", "abc"])],
          ]
        : []),
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
      () => ["RENAME", key(), key()],
      () => ["DBSIZE"],
      ...(expiry
        ? [
            (): Arg[] => [
              "EXPIRE",
              key(),
              pick(["1000", "2000", "-1"]),
              ...pick([[], ["NX"], ["XX"], ["GT"], ["LT"]]),
            ],
            (): Arg[] => ["TTL", key()],
            (): Arg[] => ["PERSIST", key()],
          ]
        : []),
    ])();
    actions.push({ conn: Math.floor(rnd() * 2), cmd });
  }
  const what = expiry ? "four keys that expire" : counters ? "four keys" : "four string keys";
  return { name: `random sequence over ${what}, seed ${seed}`, actions };
}

const cases: DiffCase[] = [...scripted];
for (const seed of [1, 2]) cases.push(randomCase(seed, false, false));
// Each case on an empty keyspace.
for (const c of cases) c.actions.unshift({ cmd: ["FLUSHALL"] });

export const family: Family = { name: "strings and keys", since: 15, cases };
