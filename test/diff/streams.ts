// streams.ts -- the diff family of streams, the log: every ID and option rule, XADD, XTRIM,
// XRANGE, XREVRANGE, XDEL, XLEN, TYPE and WRONGTYPE, scripted and seeded-random.
//
// Step 21's reads (XREAD, XINFO STREAM) are test/diff/xread.ts, which
// builds on the actions and random sequences here.
//
// Every case starts with FLUSHALL. Most IDs are explicit, so both servers
// must produce the same ones. What depends on the clock is masked, the
// same way on both sides: IDs made by "*" (a 13-digit millisecond), idle
// times (XPENDING's third field, XINFO CONSUMERS' idle: consumer groups,
// test/diff/consumer-groups.ts, use this family's masks), and XINFO
// STREAM's radix-tree-nodes, a detail of Redis's radix tree that our
// array does not have.

import {
  type Action,
  type Arg,
  type DiffCase,
  type Family,
  maskIds,
  random,
} from "../src/redis-diff.ts";

export const U64 = "18446744073709551615";

export function maskClock(transcript: string[]): string[] {
  return maskIds(transcript).map((t) =>
    t
      .replace(/\$\d+\\r\\n\d{13}-\d+\\r\\n/g, "<auto-id>")
      .replace(/(radix-tree-nodes\\r\\n:)\d+/g, "$1<n>")
      .replace(/(idle\\r\\n:)\d+/g, "$1<idle>")
      .replace(/(\*4\\r\\n\$\d+\\r\\n\d+-\d+\\r\\n\$\d+\\r\\n[^\\]*\\r\\n:)\d+/g, "$1<idle>"),
  );
}

export const clock = {
  why: "IDs from '*', idle times and radix-tree-nodes depend on the clock or on Redis's rax",
  normalize: maskClock,
};

export const cmds = (...list: Arg[][]): Action[] => list.map((cmd) => ({ cmd }));

// 250 entries (three of Redis's 100-entry nodes), then every trimming
// option of XADD and XTRIM, exact and approximate, and their errors.
// Step 21's family ends it with XINFO STREAM.
export const trimming: Action[] = [
  ...Array.from({ length: 250 }, (_, i) => ({ cmd: ["XADD", "s", `${i + 1}-1`, "f", "v"] })),
  ...cmds(
    ["XTRIM", "s", "MAXLEN", "~", "200"],
    ["XLEN", "s"],
    ["XTRIM", "s", "MAXLEN", "~", "120"],
    ["XLEN", "s"],
    ["XTRIM", "s", "MAXLEN", "=", "120"],
    ["XLEN", "s"],
    ["XTRIM", "s", "MINID", "~", "180"],
    ["XLEN", "s"],
    ["XTRIM", "s", "MINID", "180-1"],
    ["XLEN", "s"],
    ["XRANGE", "s", "-", "+", "COUNT", "2"],
    ["XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "10"],
    ["XLEN", "s"],
    ["XTRIM", "s", "MAXLEN", "0", "LIMIT", "10"],
    ["XTRIM", "s", "LIMIT", "10"],
    ["XTRIM", "s"],
    ["XTRIM", "s", "MAXLEN"],
    ["XTRIM", "s", "MAXLEN", "-1"],
    ["XTRIM", "s", "MAXLEN", "abc"],
    ["XTRIM", "s", "MAXLEN", "~", "1", "LIMIT", "-1"],
    ["XTRIM", "s", "MINID", "abc"],
    ["XTRIM", "s", "MINID", "-"],
    ["XTRIM", "s", "BOGUS", "1"],
    ["XTRIM", "missing", "MAXLEN", "0"],
    ["XTRIM", "s", "maxlen", "~", "10", "limit", "0"],
    ["XLEN", "s"],
    ["XADD", "s", "MAXLEN", "2", "300-1", "f", "v"],
    ["XRANGE", "s", "-", "+"],
    ["XADD", "s", "MAXLEN", "0", "301-1", "f", "v"],
    ["XLEN", "s"],
    ["EXISTS", "s"],
    ["XADD", "s", "MINID", "400", "302-1", "f", "v"],
    ["XLEN", "s"],
    ["XADD", "s", "MAXLEN", "1", "LIMIT", "5", "303-1", "f", "v"],
    ["XADD", "s", "LIMIT", "5", "303-1", "f", "v"],
    ["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "5", "303-1", "f", "v"],
    ["XADD", "s", "MAXLEN", "-5", "304-1", "f", "v"],
    ["XRANGE", "s", "-", "+"],
  ),
];

const scripted: DiffCase[] = [
  {
    name: "XADD checks its ID before the arity and the options",
    actions: cmds(
      ["XADD", "s", "abc", "f", "v", "g"],
      ["XADD", "k", "LIMIT", "10", "+", "f", "v"],
      ["XADD", "k", "MAXLEN", "10", "LIMIT", "10", "+", "f", "v"],
      ["XADD", "k", "MAXLEN", "~", "10", "LIMIT", "10", "-", "f", "v", "g"],
      ["XADD", "k", "NOMKSTREAM", "1-2-3", "f"],
      ["XADD", "s", "1-1", "f", "v", "g"],
      ["XADD", "s", "*", "f", "v", "g"],
      ["XADD", "s", "MAXLEN", "abc", "*", "f", "v", "g"],
      ["XADD", "s", "LIMIT", "10", "*", "f", "v"],
      ["EXISTS", "s", "k"],
    ),
  },
  {
    name: "XADD's IDs: explicit, incomplete, ms-*, and the errors",
    actions: cmds(
      ["XADD", "s", "1-1", "f", "v"],
      ["XADD", "s", "1-1", "f", "v"],
      ["XADD", "s", "1-0", "f", "v"],
      ["XADD", "s", "1", "f", "v"],
      ["XADD", "s", "2", "f", "v"],
      ["XADD", "s", "2-*", "f", "v"],
      ["XADD", "s", "2-*", "f", "v"],
      ["XADD", "s", "3-*", "f", "v"],
      ["XADD", "s", "1-*", "f", "v"],
      ["XADD", "s", "0-0", "f", "v"],
      ["XADD", "s", "0", "f", "v"],
      ["XADD", "new", "0-0", "f", "v"],
      ["EXISTS", "new"],
      ["XADD", "new2", "0-*", "f", "v"],
      ["XADD", "s", "abc", "f", "v"],
      ["XADD", "s", "1-2-3", "f", "v"],
      ["XADD", "s", "-1", "f", "v"],
      ["XADD", "s", "+", "f", "v"],
      ["XADD", "s", "-", "f", "v"],
      ["XADD", "s", `${U64}0-1`, "f", "v"],
      ["XADD", "s", "4-x", "f", "v"],
      ["XADD", "s", "5-1", "f"],
      ["XADD", "s", "5-1", "f", "v", "g"],
      ["XADD", "s", "5-1"],
      ["XADD", "s"],
      ["XADD", "s", "5-1", "f", "v", "g", "w"],
      ["XRANGE", "s", "-", "+"],
      ["XLEN", "s"],
      ["TYPE", "s"],
      ["XADD", "big", `${U64}-${U64}`, "f", "v"],
      ["XADD", "big", "*", "f", "v"],
      ["XADD", "big", `${U64}-*`, "f", "v"],
      ["XADD", "big2", `${U64}-${BigInt(U64) - 1n}`, "f", "v"],
      ["XADD", "big2", `${U64}-*`, "f", "v"],
      ["XADD", "big2", `${U64}-*`, "f", "v"],
      ["XADD", "big3", `5-${U64}`, "f", "v"],
      ["XADD", "big3", "5-*", "f", "v"],
      ["XADD", "big3", "*", "f", "v"],
      ["XLEN", "big3"],
    ),
    except: clock,
  },
  {
    name: "XADD NOMKSTREAM, options in any order, and WRONGTYPE everywhere",
    actions: cmds(
      ["XADD", "s", "NOMKSTREAM", "1-1", "f", "v"],
      ["EXISTS", "s"],
      ["XADD", "s", "NOMKSTREAM", "0-0", "f", "v"],
      ["XADD", "s", "1-1", "f", "v"],
      ["XADD", "s", "NOMKSTREAM", "2-1", "f", "v"],
      ["XADD", "s", "MAXLEN", "1", "NOMKSTREAM", "3-1", "f", "v"],
      ["XRANGE", "s", "-", "+"],
      ["SET", "str", "x"],
      ["XADD", "str", "1-1", "f", "v"],
      ["XADD", "str", "NOMKSTREAM", "1-1", "f", "v"],
      ["XLEN", "str"],
      ["XRANGE", "str", "-", "+"],
      ["XREVRANGE", "str", "+", "-"],
      ["XDEL", "str", "1-1"],
      ["XTRIM", "str", "MAXLEN", "0"],
      ["GET", "s"],
      ["INCR", "s"],
      ["TYPE", "s"],
      ["TYPE", "str"],
    ),
  },
  {
    name: "MAXLEN and MINID, exact and approximate, with LIMIT, in XADD and XTRIM",
    actions: [...trimming],
    except: clock,
  },
  {
    name: "XRANGE and XREVRANGE bounds: -, +, exclusive, incomplete, COUNT",
    actions: cmds(
      ["XADD", "s", "1-0", "a", "1"],
      ["XADD", "s", "1-5", "b", "2"],
      ["XADD", "s", "2-0", "c", "3"],
      ["XADD", "s", "3-7", "d", "4"],
      ["XADD", "s", `5-${U64}`, "e", "5"],
      ["XADD", "s", "6-0", "f", "6"],
      ["XRANGE", "s", "-", "+"],
      ["XREVRANGE", "s", "+", "-"],
      ["XRANGE", "s", "1", "1"],
      ["XRANGE", "s", "1", "2"],
      ["XRANGE", "s", "(1-0", "+"],
      ["XRANGE", "s", "-", "(2-0"],
      ["XRANGE", "s", "(1", "(5"],
      ["XRANGE", "s", "(5", "+"],
      ["XRANGE", "s", "-", "(6"],
      ["XREVRANGE", "s", "(6-0", "(1-0"],
      ["XREVRANGE", "s", "5", "3"],
      ["XRANGE", "s", "-", "+", "COUNT", "2"],
      ["XREVRANGE", "s", "+", "-", "COUNT", "2"],
      ["XRANGE", "s", "-", "+", "COUNT", "0"],
      ["XRANGE", "s", "-", "+", "COUNT", "-3"],
      ["XRANGE", "missing", "-", "+", "COUNT", "0"],
      ["XRANGE", "s", "-", "+", "COUNT"],
      ["XRANGE", "s", "-", "+", "COUNT", "x"],
      ["XRANGE", "s", "-", "+", "LIMIT", "1"],
      ["XRANGE", "s", "-", "+", "COUNT", "1", "COUNT", "3"],
      ["XRANGE", "s", "+", "-"],
      ["XRANGE", "s", "(-", "+"],
      ["XRANGE", "s", "-", "(+"],
      ["XRANGE", "s", "(", "+"],
      ["XRANGE", "s", `(${U64}-${U64}`, "+"],
      ["XRANGE", "s", "-", "(0-0"],
      ["XRANGE", "s", "x", "+"],
      ["XRANGE", "s", "-", "1-x"],
      ["XRANGE", "s", " 1", "+"],
      ["XRANGE", "s", "01-5", "+"],
      ["XRANGE", "s", "-", "3-"],
      ["XRANGE", "s"],
      ["XRANGE", "missing", "-", "+"],
      ["XREVRANGE", "missing", "+", "-"],
      ["XREVRANGE", "s", "x", "-"],
      ["XREVRANGE", "s", "+", "x"],
    ),
  },
  {
    name: "XDEL and XLEN: deleted IDs stay used, an emptied stream stays a key",
    actions: cmds(
      ["XADD", "s", "1-1", "a", "1"],
      ["XADD", "s", "2-1", "b", "2"],
      ["XADD", "s", "3-1", "c", "3"],
      ["XDEL", "s", "2-1", "2-1", "9-9"],
      ["XDEL", "s", "1-1", "x"],
      ["XLEN", "s"],
      ["XRANGE", "s", "-", "+"],
      ["XDEL", "s", "3-1"],
      ["XADD", "s", "3-1", "c", "3"],
      ["XDEL", "s", "1-1"],
      ["XRANGE", "s", "-", "+"],
      ["XDEL", "missing", "1-1"],
      ["XDEL", "missing", "x"],
      ["XDEL", "s"],
      ["XLEN", "missing"],
      ["XLEN"],
      ["XADD", "s", "4-1", "a", "1"],
      ["XDEL", "s", "1-1", "2-1", "3-1"],
      ["XDEL", "s", "4-1"],
      ["XLEN", "s"],
      ["EXISTS", "s"],
      ["TYPE", "s"],
      ["XADD", "s", "4-1", "a", "1"],
      ["XADD", "s", "5-1", "a", "1"],
    ),
  },
];

// Seeded-random sequences over two streams and a string: every command
// above with arguments drawn to collide (IDs near the top, a key that
// changes type). With `reads` (step 21's family, and every family after
// it) XREAD and XINFO STREAM are drawn too; with `groups` (step 22's
// family) the group commands as well, and groups come and go.
const KEYS = ["s1", "s2", "x"];

export function randomCase(seed: number, groups = false, reads = true): DiffCase {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  let top = 1;
  const ms = () => String(int(Math.max(0, top - 4), top + 1));
  const anId = () => `${ms()}-${int(0, 2)}`;
  const bound = () => pick(["-", "+", ms(), anId(), `(${anId()}`]);
  const key = () => pick(KEYS);
  const group = () => pick(["g1", "g2"]);
  const consumer = () => pick(["alice", "bob"]);
  // Each command maker, and the step whose commands it draws: the log's
  // (20), the reads (21), the groups' (22).
  const makers: [20 | 21 | 22, (i: number) => Arg[]][] = [
    [
      20,
      (i) => {
        top += int(0, 1);
        const trim = pick([
          [],
          [],
          ["MAXLEN", pick(["=", "~"]), String(int(0, 6))],
          ["MINID", anId()],
        ]);
        return [
          "XADD",
          key(),
          ...trim,
          pick([`${top}-*`, String(top), anId(), `${top}-${int(0, 3)}`]),
          "f",
          String(i),
        ];
      },
    ],
    [20, (i) => ["XADD", key(), `${top}-*`, "f", String(i)]],
    [
      20,
      () => ["XTRIM", key(), pick(["MAXLEN", "MINID"]), pick(["=", "~"]), pick(["0", "2", anId()])],
    ],
    [20, () => ["XDEL", key(), anId(), anId()]],
    [20, () => ["XLEN", key()]],
    [
      20,
      () => [pick(["XRANGE", "XREVRANGE"]), key(), bound(), bound(), "COUNT", String(int(0, 4))],
    ],
    [
      21,
      () => [
        "XREAD",
        "COUNT",
        String(int(1, 3)),
        "STREAMS",
        key(),
        key(),
        pick(["0", "$", anId()]),
        "0",
      ],
    ],
    [
      22,
      () => [
        "XGROUP",
        "CREATE",
        key(),
        group(),
        pick(["$", "0", anId()]),
        ...pick([[], ["MKSTREAM"]]),
      ],
    ],
    [22, () => ["XGROUP", "SETID", key(), group(), pick(["$", "0", anId()])]],
    [22, () => ["XGROUP", "DESTROY", key(), group()]],
    [22, () => ["XGROUP", pick(["CREATECONSUMER", "DELCONSUMER"]), key(), group(), consumer()]],
    [
      22,
      () => [
        "XREADGROUP",
        "GROUP",
        group(),
        consumer(),
        "COUNT",
        String(int(1, 3)),
        "STREAMS",
        key(),
        pick([">", ">", "0"]),
      ],
    ],
    [22, () => ["XACK", key(), group(), anId(), anId()]],
    [22, () => ["XPENDING", key(), group()]],
    [22, () => ["XPENDING", key(), group(), "-", "+", "5", ...pick([[], [consumer()]])]],
    [
      22,
      () => ["XCLAIM", key(), group(), consumer(), "0", anId(), anId(), ...pick([[], ["JUSTID"]])],
    ],
    [
      22,
      () => [
        "XAUTOCLAIM",
        key(),
        group(),
        consumer(),
        "0",
        "0",
        "COUNT",
        String(int(1, 3)),
        ...pick([[], ["JUSTID"]]),
      ],
    ],
    [21, () => ["XINFO", groups ? pick(["STREAM", "GROUPS"]) : "STREAM", key()]],
    [20, () => ["SET", key(), "str"]],
    [20, () => ["DEL", key()]],
    [20, () => ["TYPE", key()]],
    [20, () => ["GET", key()]],
  ];
  const drawn = (since: number) => since === 20 || (since === 21 && reads) || groups;
  const usable = makers.filter(([since]) => drawn(since)).map(([, make]) => make);
  const actions: Action[] = [];
  for (let i = 0; i < 80; i++) {
    const cmd = pick(usable)(i);
    actions.push({ conn: Math.floor(rnd() * 2), cmd });
  }
  const what = groups ? " with groups" : reads ? "" : " without reads";
  return {
    name: `random sequence over two streams${what} and a string, seed ${seed}`,
    actions,
    except: clock,
  };
}

const cases: DiffCase[] = [...scripted];
for (const seed of [1, 2, 3, 4]) cases.push(randomCase(seed, false, false));
for (const c of cases) c.actions.unshift({ cmd: ["FLUSHALL"] });

export const family: Family = { name: "streams", since: 20, cases };
