// streams.ts -- the diff family of streams, the log: every ID and option rule, XADD, XTRIM,
// XRANGE, XREVRANGE, XDEL, XLEN, XREAD, XINFO STREAM, RESP2 and RESP3, scripted and seeded-random.
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
      ["XREAD", "STREAMS", "str", "0"],
      ["XREAD", "STREAMS", "s", "str", "0", "0"],
      ["XINFO", "STREAM", "str"],
      ["GET", "s"],
      ["INCR", "s"],
      ["TYPE", "s"],
      ["TYPE", "str"],
    ),
  },
  {
    name: "MAXLEN and MINID, exact and approximate, with LIMIT, in XADD and XTRIM",
    actions: [
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
        ["XINFO", "STREAM", "s"],
      ),
    ],
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
    name: "XDEL, XLEN and XINFO STREAM after deletes",
    actions: cmds(
      ["XADD", "s", "1-1", "a", "1"],
      ["XADD", "s", "2-1", "b", "2"],
      ["XADD", "s", "3-1", "c", "3"],
      ["XDEL", "s", "2-1", "2-1", "9-9"],
      ["XDEL", "s", "1-1", "x"],
      ["XLEN", "s"],
      ["XRANGE", "s", "-", "+"],
      ["XINFO", "STREAM", "s"],
      ["XDEL", "s", "3-1"],
      ["XADD", "s", "3-1", "c", "3"],
      ["XDEL", "s", "1-1"],
      ["XINFO", "STREAM", "s"],
      ["XDEL", "missing", "1-1"],
      ["XDEL", "missing", "x"],
      ["XDEL", "s"],
      ["XINFO", "STREAM", "missing"],
      ["XINFO", "STREAM"],
      ["XINFO", "BOGUS", "s"],
      ["XLEN", "missing"],
      ["XLEN"],
      ["XADD", "s", "4-1", "a", "1"],
      ["XDEL", "s", "1-1", "2-1", "3-1"],
      ["XINFO", "STREAM", "s"],
      ["XDEL", "s", "4-1"],
      ["XLEN", "s"],
      ["EXISTS", "s"],
      ["XINFO", "STREAM", "s"],
      ["XADD", "s", "4-1", "a", "1"],
    ),
    except: clock,
  },
  {
    name: "XREAD: several streams, $, COUNT, missing keys, and its errors",
    actions: cmds(
      ["XADD", "a", "1-1", "f", "1"],
      ["XADD", "a", "2-1", "f", "2"],
      ["XADD", "b", "1-1", "g", "1"],
      ["XREAD", "STREAMS", "a", "b", "0", "0"],
      ["XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"],
      ["XREAD", "STREAMS", "a", "b", "1-1", "1-1"],
      ["XREAD", "STREAMS", "a", "b", "$", "$"],
      ["XREAD", "STREAMS", "missing", "a", "0", "1"],
      ["XREAD", "STREAMS", "missing", "0"],
      ["XREAD", "COUNT", "0", "STREAMS", "a", "0"],
      ["XREAD", "COUNT", "-1", "STREAMS", "a", "0"],
      ["XREAD", "BLOCK", "0", "STREAMS", "a", "0"],
      ["XREAD", "BLOCK", "100", "COUNT", "1", "STREAMS", "a", "1"],
      ["XREAD", "STREAMS", "a", "b", "0"],
      ["XREAD", "STREAMS", "a", ">"],
      ["XREAD", "STREAMS", "a", "x"],
      ["XREAD", "STREAMS", "a", "-"],
      ["XREAD", "GROUP", "g", "c", "STREAMS", "a", "0"],
      ["XREAD", "NOACK", "STREAMS", "a", "0"],
      ["XREAD", "COUNT", "x", "STREAMS", "a", "0"],
      ["XREAD", "BLOCK", "x", "STREAMS", "a", "0"],
      ["XREAD", "BLOCK", "-1", "STREAMS", "a", "0"],
      ["XREAD", "BOGUS", "STREAMS", "a", "0"],
      ["XREAD", "COUNT", "1", "a", "0"],
      ["XREAD", "STREAMS"],
      ["XREAD", "streams", "a", "0"],
      ["HELLO", "3"],
      ["XREAD", "STREAMS", "a", "b", "0", "0"],
      ["XREAD", "STREAMS", "a", "$"],
      ["XRANGE", "a", "-", "+", "COUNT", "0"],
      ["XADD", "a", "NOMKSTREAM", "9-1", "f", "v"],
      ["XADD", "none", "NOMKSTREAM", "9-1", "f", "v"],
    ),
    except: clock,
  },
];

// Seeded-random sequences over two streams and a string: every command
// above with arguments drawn to collide (IDs near the top, a key that
// changes type). With `groups` (step 22's family) the group commands are
// drawn too, and groups come and go.
const KEYS = ["s1", "s2", "x"];

export function randomCase(seed: number, groups = false): DiffCase {
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
  // Each command maker, and whether it is a group command (left out of
  // step 20's sequences).
  const makers: [boolean, (i: number) => Arg[]][] = [
    [
      false,
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
    [false, (i) => ["XADD", key(), `${top}-*`, "f", String(i)]],
    [
      false,
      () => ["XTRIM", key(), pick(["MAXLEN", "MINID"]), pick(["=", "~"]), pick(["0", "2", anId()])],
    ],
    [false, () => ["XDEL", key(), anId(), anId()]],
    [false, () => ["XLEN", key()]],
    [
      false,
      () => [pick(["XRANGE", "XREVRANGE"]), key(), bound(), bound(), "COUNT", String(int(0, 4))],
    ],
    [
      false,
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
      true,
      () => [
        "XGROUP",
        "CREATE",
        key(),
        group(),
        pick(["$", "0", anId()]),
        ...pick([[], ["MKSTREAM"]]),
      ],
    ],
    [true, () => ["XGROUP", "SETID", key(), group(), pick(["$", "0", anId()])]],
    [true, () => ["XGROUP", "DESTROY", key(), group()]],
    [true, () => ["XGROUP", pick(["CREATECONSUMER", "DELCONSUMER"]), key(), group(), consumer()]],
    [
      true,
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
    [true, () => ["XACK", key(), group(), anId(), anId()]],
    [true, () => ["XPENDING", key(), group()]],
    [true, () => ["XPENDING", key(), group(), "-", "+", "5", ...pick([[], [consumer()]])]],
    [
      true,
      () => ["XCLAIM", key(), group(), consumer(), "0", anId(), anId(), ...pick([[], ["JUSTID"]])],
    ],
    [
      true,
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
    [false, () => ["XINFO", groups ? pick(["STREAM", "GROUPS"]) : "STREAM", key()]],
    [false, () => ["SET", key(), "str"]],
    [false, () => ["DEL", key()]],
    [false, () => ["TYPE", key()]],
    [false, () => ["GET", key()]],
  ];
  const usable = makers.filter(([isGroup]) => groups || !isGroup).map(([, make]) => make);
  const actions: Action[] = [];
  for (let i = 0; i < 80; i++) {
    const cmd = pick(usable)(i);
    actions.push({ conn: Math.floor(rnd() * 2), cmd });
  }
  return {
    name: `random sequence over two streams${groups ? " with groups" : ""} and a string, seed ${seed}`,
    actions,
    except: clock,
  };
}

const cases: DiffCase[] = [...scripted];
for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) cases.push(randomCase(seed));
for (const c of cases) c.actions.unshift({ cmd: ["FLUSHALL"] });

export const family: Family = { name: "streams", since: 21, cases };
