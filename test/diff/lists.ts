// lists.ts -- the diff family of lists: every list command's edges, WRONGTYPE, TYPE list,
// arities, and seeded-random list sequences.
//
// Every case starts with FLUSHALL. The blocking pops are step 19's family
// (test/diff/blocking.ts).

import { type Action, type Arg, type DiffCase, type Family, random } from "../src/redis-diff.ts";

const INT64_MAX = "9223372036854775807";
const INT64_MIN = "-9223372036854775808";

const cmds = (...list: Arg[][]): Action[] => list.map((cmd) => ({ cmd }));

const scripted: DiffCase[] = [
  {
    name: "pushes and pops at both ends, counts, missing keys, an emptied list is deleted",
    actions: cmds(
      ["LPUSH", "l", "a", "b", "c"],
      ["RPUSH", "l", "d", "e"],
      ["LRANGE", "l", "0", "-1"],
      ["LPUSHX", "l", "x"],
      ["RPUSHX", "l", "y", "z"],
      ["LPUSHX", "none", "x"],
      ["RPUSHX", "none", "x"],
      ["EXISTS", "none"],
      ["LLEN", "l"],
      ["LLEN", "none"],
      ["LPOP", "l"],
      ["RPOP", "l"],
      ["LPOP", "l", "2"],
      ["RPOP", "l", "2"],
      ["LPOP", "l", "0"],
      ["RPOP", "l", "0"],
      ["LPOP", "l", "-1"],
      ["LPOP", "l", "x"],
      ["RPOP", "l", INT64_MIN],
      ["LPOP", "l", INT64_MAX],
      ["EXISTS", "l"],
      ["LPOP", "l"],
      ["RPOP", "l"],
      ["LPOP", "l", "0"],
      ["RPOP", "l", "3"],
      ["RPUSH", "l", ""],
      ["LRANGE", "l", "0", "-1"],
      ["RPOP", "l"],
      ["EXISTS", "l"],
      ["LPOP", "l", "1", "2"],
      ["TYPE", "l"],
    ),
  },
  {
    name: "LRANGE and LINDEX at every edge, LSET, LTRIM",
    actions: cmds(
      ["RPUSH", "l", "a", "b", "c", "d", "e", "f", "g"],
      ["LRANGE", "l", "0", "-1"],
      ["LRANGE", "l", "-3", "-1"],
      ["LRANGE", "l", "-100", "2"],
      ["LRANGE", "l", "5", "100"],
      ["LRANGE", "l", "3", "1"],
      ["LRANGE", "l", "7", "8"],
      ["LRANGE", "l", "-1", "-2"],
      ["LRANGE", "l", INT64_MIN, INT64_MAX],
      ["LRANGE", "l", "x", "1"],
      ["LRANGE", "l", "1", "1.5"],
      ["LRANGE", "none", "0", "-1"],
      ["LINDEX", "l", "0"],
      ["LINDEX", "l", "-1"],
      ["LINDEX", "l", "-7"],
      ["LINDEX", "l", "-8"],
      ["LINDEX", "l", "7"],
      ["LINDEX", "l", INT64_MAX],
      ["LINDEX", "l", "x"],
      ["LINDEX", "none", "0"],
      ["LINDEX", "none", "x"],
      ["LSET", "l", "0", "A"],
      ["LSET", "l", "-1", "G"],
      ["LSET", "l", "7", "x"],
      ["LSET", "l", "-8", "x"],
      ["LSET", "l", "x", "y"],
      ["LSET", "none", "0", "x"],
      ["LSET", "none", "x", "x"],
      ["LRANGE", "l", "0", "-1"],
      ["LTRIM", "l", "1", "-2"],
      ["LRANGE", "l", "0", "-1"],
      ["LTRIM", "l", "-2", "100"],
      ["LRANGE", "l", "0", "-1"],
      ["LTRIM", "l", "x", "1"],
      ["LTRIM", "none", "0", "1"],
      ["LTRIM", "l", "5", "1"],
      ["EXISTS", "l"],
    ),
  },
  {
    name: "LINSERT and LREM",
    actions: cmds(
      ["RPUSH", "l", "a", "b", "a", "c", "a"],
      ["LINSERT", "l", "BEFORE", "a", "x"],
      ["LINSERT", "l", "after", "a", "y"],
      ["LINSERT", "l", "before", "zz", "x"],
      ["LINSERT", "l", "middle", "a", "x"],
      ["LINSERT", "none", "before", "a", "x"],
      ["LINSERT", "none", "middle", "a", "x"],
      ["LRANGE", "l", "0", "-1"],
      ["LREM", "l", "1", "a"],
      ["LRANGE", "l", "0", "-1"],
      ["LREM", "l", "-1", "a"],
      ["LRANGE", "l", "0", "-1"],
      ["LREM", "l", "0", "x"],
      ["LREM", "l", "0", "nothing"],
      ["LREM", "l", "x", "a"],
      ["LREM", "none", "0", "a"],
      ["LRANGE", "l", "0", "-1"],
      ["LREM", "l", "0", "a"],
      ["LREM", "l", "0", "b"],
      ["LREM", "l", "0", "c"],
      ["LREM", "l", "0", "y"],
      ["EXISTS", "l"],
    ),
  },
  {
    name: "LPOS options, and the first bad option in argument order",
    actions: cmds(
      ["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"],
      ["LPOS", "l", "c"],
      ["LPOS", "l", "c", "RANK", "2"],
      ["LPOS", "l", "c", "RANK", "-1"],
      ["LPOS", "l", "c", "RANK", "-3"],
      ["LPOS", "l", "c", "RANK", "4"],
      ["LPOS", "l", "c", "COUNT", "0"],
      ["LPOS", "l", "c", "COUNT", "2"],
      ["LPOS", "l", "c", "COUNT", "2", "RANK", "-1"],
      ["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"],
      ["LPOS", "l", "c", "MAXLEN", "2"],
      ["LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1"],
      ["LPOS", "l", "c", "RANK", INT64_MIN],
      ["LPOS", "l", "c", "RANK", INT64_MIN, "COUNT", "0"],
      ["LPOS", "l", "zz"],
      ["LPOS", "l", "zz", "COUNT", "0"],
      ["LPOS", "none", "a"],
      ["LPOS", "none", "a", "COUNT", "5"],
      ["LPOS", "l", "c", "RANK", "0"],
      ["LPOS", "l", "c", "COUNT", "-1"],
      ["LPOS", "l", "c", "MAXLEN", "-1"],
      ["LPOS", "l", "c", "RANK", "0", "COUNT", "-1"],
      ["LPOS", "l", "c", "COUNT", "-1", "RANK", "0"],
      ["LPOS", "l", "c", "RANK", "x"],
      ["LPOS", "l", "c", "RANK"],
      ["LPOS", "l", "c", "FOO", "1"],
      ["LPOS", "l", "c", "rank", "1", "count"],
      ["LPOS", "none", "c", "RANK", "0"],
      ["LPOS", "l"],
    ),
  },
  {
    name: "LPOS COUNT and MAXLEN that are not numbers",
    actions: cmds(
      ["RPUSH", "l", "a", "b"],
      ["LPOS", "l", "a", "COUNT", "abc"],
      ["LPOS", "l", "a", "MAXLEN", "abc"],
      ["LPOS", "l", "a", "COUNT", "99999999999999999999"],
      ["LPOS", "l", "a", "MAXLEN", "1.5"],
      ["LPOS", "l", "a", "RANK", "abc", "COUNT", "abc"],
      ["LPOS", "l", "a", "COUNT", "abc", "RANK", "abc"],
      ["LPOS", "none", "a", "MAXLEN", "x"],
    ),
  },
  {
    name: "LMOVE and RPOPLPUSH: between lists, onto itself, missing source",
    actions: cmds(
      ["RPUSH", "src", "a", "b", "c"],
      ["LMOVE", "src", "dst", "LEFT", "RIGHT"],
      ["LMOVE", "src", "dst", "right", "left"],
      ["LRANGE", "dst", "0", "-1"],
      ["LMOVE", "dst", "dst", "LEFT", "RIGHT"],
      ["LRANGE", "dst", "0", "-1"],
      ["RPOPLPUSH", "src", "dst"],
      ["EXISTS", "src"],
      ["LRANGE", "dst", "0", "-1"],
      ["RPOPLPUSH", "none", "dst"],
      ["LMOVE", "none", "dst", "LEFT", "LEFT"],
      ["LMOVE", "dst", "x", "UP", "LEFT"],
      ["LMOVE", "dst", "x", "LEFT", "DOWN"],
      ["RPUSH", "one", "only"],
      ["RPOPLPUSH", "one", "one"],
      ["LRANGE", "one", "0", "-1"],
      ["LMOVE", "one", "one", "LEFT", "LEFT"],
      ["LRANGE", "one", "0", "-1"],
      ["RPOPLPUSH"],
      ["LMOVE", "a", "b", "LEFT"],
    ),
  },
  {
    name: "WRONGTYPE everywhere, TYPE list, and arities",
    actions: cmds(
      ["SET", "s", "v"],
      ["TYPE", "l"],
      ["LPUSH", "s", "a"],
      ["RPUSH", "s", "a"],
      ["LPUSHX", "s", "a"],
      ["RPUSHX", "s", "a"],
      ["LPOP", "s"],
      ["RPOP", "s", "2"],
      ["LLEN", "s"],
      ["LRANGE", "s", "0", "-1"],
      ["LINDEX", "s", "0"],
      ["LSET", "s", "0", "x"],
      ["LINSERT", "s", "BEFORE", "a", "b"],
      ["LREM", "s", "0", "a"],
      ["LTRIM", "s", "0", "1"],
      ["LPOS", "s", "a"],
      ["LMOVE", "s", "l", "LEFT", "LEFT"],
      ["LMOVE", "l", "s", "LEFT", "LEFT"],
      ["LRANGE", "l", "0", "-1"],
      ["RPOPLPUSH", "l", "s"],
      ["RPUSH", "l", "a"],
      ["GET", "l"],
      ["INCR", "l"],
      ["SET", "l", "now a string"],
      ["TYPE", "l"],
      ["LPUSH"],
      ["LPUSH", "k"],
      ["LPOP"],
      ["LLEN"],
      ["LRANGE", "k", "0"],
      ["LINDEX", "k"],
      ["LSET", "k", "0"],
      ["LINSERT", "k", "BEFORE", "a"],
      ["LREM", "k", "0"],
      ["LTRIM", "k", "0"],
    ),
  },
];

// Seeded-random sequences over three list keys and one string, from two
// connections: every list command, with indices and counts drawn around
// the edges. `more` adds commands of a later step to the draw (step 19's
// blocking pops, test/diff/blocking.ts).
const KEYS = ["a", "b", "c"];
const VALUES = ["x", "y", "z", "", "x"];
const INDICES = ["0", "1", "-1", "2", "-2", "5", "-5", "100", "-100"];

// What a generator draws from: a key (now and then the string), an end.
export interface Draw {
  key: () => string;
  end: () => string;
  pick: <T>(xs: T[]) => T;
}

export function randomCase(seed: number, more: ((d: Draw) => Arg[])[] = []): DiffCase {
  const rnd = random(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const key = () => (rnd() < 0.05 ? "s" : pick(KEYS));
  const end = () => pick(["LEFT", "RIGHT"]);
  const draw: Draw = { key, end, pick };
  const actions: Action[] = [{ cmd: ["SET", "s", "string"] }];
  for (let i = 0; i < 80; i++) {
    const cmd: Arg[] = pick<() => Arg[]>([
      () => ["LPUSH", key(), pick(VALUES), pick(VALUES)],
      () => ["RPUSH", key(), pick(VALUES)],
      () => ["RPUSH", key(), pick(VALUES), pick(VALUES), pick(VALUES)],
      () => [pick(["LPUSHX", "RPUSHX"]), key(), pick(VALUES)],
      () => [pick(["LPOP", "RPOP"]), key()],
      () => [pick(["LPOP", "RPOP"]), key(), pick(["0", "1", "2", "5"])],
      () => ["LLEN", key()],
      () => ["LRANGE", key(), pick(INDICES), pick(INDICES)],
      () => ["LINDEX", key(), pick(INDICES)],
      () => ["LSET", key(), pick(INDICES), pick(VALUES)],
      () => ["LINSERT", key(), pick(["BEFORE", "AFTER"]), pick(VALUES), pick(VALUES)],
      () => ["LREM", key(), pick(["0", "1", "-1", "2"]), pick(VALUES)],
      () => ["LTRIM", key(), pick(INDICES), pick(INDICES)],
      () => [
        "LPOS",
        key(),
        pick(VALUES),
        ...pick([[], ["RANK", "-1"], ["RANK", "2"], ["COUNT", "0"], ["COUNT", "1", "MAXLEN", "2"]]),
      ],
      () => ["LMOVE", key(), key(), end(), end()],
      () => ["RPOPLPUSH", key(), key()],
      () => ["TYPE", key()],
      () => ["DEL", key()],
      ...more.map((m) => () => m(draw)),
    ])();
    actions.push({ conn: Math.floor(rnd() * 2), cmd });
  }
  actions.push({ cmd: ["LRANGE", "a", "0", "-1"] }, { cmd: ["LRANGE", "b", "0", "-1"] });
  return { name: `random list sequence, seed ${seed}`, actions };
}

const cases: DiffCase[] = [...scripted];
for (const seed of [11, 12, 13, 14]) cases.push(randomCase(seed));
for (const c of cases) c.actions.unshift({ cmd: ["FLUSHALL"] });

export const family: Family = { name: "lists", since: 18, cases };
