// databases.ts -- the diff family of Redis's 16 databases: SELECT, SWAPDB, and every keyspace
// command, FLUSHDB and FLUSHALL seeing only the selected database. (Expiry in
// each database is step 17's, in expiry.ts.)
//
// Every case starts and ends with FLUSHALL: both servers live for the
// whole family, and keys left in database 5 would show in a later case.

import type { Action, Arg, DiffCase, Family } from "../src/redis-diff.ts";

const on = (conn: number, ...list: Arg[][]): Action[] => list.map((cmd) => ({ conn, cmd }));
const flushed = (...actions: Action[]): Action[] => [
  { cmd: ["FLUSHALL"] },
  ...actions,
  { cmd: ["FLUSHALL"] },
];

const cases: DiffCase[] = [
  {
    name: "SELECT 0 to 15, and its errors",
    actions: flushed(
      ...on(
        0,
        ["SELECT", "15"],
        ["SELECT", "16"],
        ["SELECT", "-1"],
        ["SELECT", "x"],
        ["SELECT", "2147483648"],
        ["SELECT", "1"],
        ["SELECT"],
        ["SELECT", "0", "1"],
      ),
    ),
  },
  {
    // One key per KEYS answer: with more, their order is each server's own
    // hash order.
    name: "each database has its own keys, DBSIZE and KEYS",
    actions: flushed(
      ...on(
        0,
        ["SET", "a", "zero"],
        ["SET", "shared", "0"],
        ["SELECT", "2"],
        ["GET", "a"],
        ["SET", "a", "two"],
        ["SET", "b", "x"],
        ["DBSIZE"],
        ["KEYS", "a*"],
        ["KEYS", "b*"],
        ["EXISTS", "shared"],
        ["SELECT", "0"],
        ["GET", "a"],
        ["DBSIZE"],
        ["SELECT", "2"],
        ["GET", "a"],
        ["EXISTS", "a", "b", "shared"],
      ),
      ...on(1, ["DBSIZE"], ["GET", "a"], ["SELECT", "2"], ["GET", "a"]),
    ),
  },
  {
    name: "FLUSHDB empties the selected database, FLUSHALL all of them",
    actions: flushed(
      ...on(
        0,
        ["SET", "a", "0"],
        ["SELECT", "3"],
        ["SET", "a", "3"],
        ["FLUSHDB"],
        ["DBSIZE"],
        ["SELECT", "0"],
        ["DBSIZE"],
        ["SELECT", "4"],
        ["SET", "b", "4"],
        ["FLUSHALL"],
        ["DBSIZE"],
        ["SELECT", "0"],
        ["DBSIZE"],
      ),
    ),
  },
  {
    name: "SWAPDB trades the keys; clients keep their numbers",
    actions: flushed(
      ...on(0, ["SET", "a", "zero"], ["SET", "t", "x"]),
      ...on(1, ["SELECT", "1"], ["SET", "a", "one"], ["SET", "only1", "y"]),
      ...on(0, ["SWAPDB", "0", "1"], ["GET", "a"], ["DBSIZE"], ["EXISTS", "only1", "t"]),
      ...on(1, ["GET", "a"], ["GET", "t"], ["DBSIZE"]),
      ...on(
        0,
        ["SWAPDB", "1", "1"],
        ["SWAPDB", "15", "0"],
        ["DBSIZE"],
        ["SELECT", "15"],
        ["GET", "a"],
      ),
    ),
  },
  {
    name: "SWAPDB's errors",
    actions: flushed(
      ...on(
        0,
        ["SWAPDB", "0"],
        ["SWAPDB", "a", "1"],
        ["SWAPDB", "0", "a"],
        ["SWAPDB", "a", "b"],
        ["SWAPDB", "0", "16"],
        ["SWAPDB", "-1", "0"],
        ["SWAPDB", "99999999999", "0"],
        ["SWAPDB", "0", "1", "2"],
      ),
    ),
  },
  {
    name: "MONITOR and CLIENT LIST show the database",
    actions: flushed(...on(2, ["MONITOR"]), ...on(0, ["SELECT", "7"], ["SET", "k", "v"])),
    except: {
      why: "times and ports are each server's own",
      normalize: (t) =>
        t.map((f) => f.replace(/\+\d+\.\d{6} \[(\d+) [0-9.:]+\]/, "+<time> [$1 <addr>]")),
    },
  },
  {
    name: "CONFIG GET databases: 16, as Redis starts with",
    actions: [{ cmd: ["CONFIG", "GET", "databases"] }],
  },
];

export const family: Family = { name: "databases", since: 15, cases };
