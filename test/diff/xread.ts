// xread.ts -- the diff family of step 21, reading the log: XREAD (several streams, "$", COUNT,
// its errors, RESP2 and RESP3), XINFO STREAM after deletes and trims, WRONGTYPE for both, and
// seeded-random sequences that mix them with step 20's log commands.
//
// XREAD BLOCK's timing (who is served, when) is in the step's own
// test/xread.test.ts, on both servers; here BLOCK appears only where it
// answers at once. The masks are step 20's (test/diff/streams.ts).

import type { DiffCase, Family } from "../src/redis-diff.ts";
import { clock, cmds, randomCase, trimming } from "./streams.ts";

const scripted: DiffCase[] = [
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
  {
    name: "XREAD and XINFO STREAM on a string: WRONGTYPE",
    actions: cmds(
      ["XADD", "s", "1-1", "f", "v"],
      ["SET", "str", "x"],
      ["XREAD", "STREAMS", "str", "0"],
      ["XREAD", "STREAMS", "s", "str", "0", "0"],
      ["XREAD", "STREAMS", "s", "str", "$", "$"],
      ["XINFO", "STREAM", "str"],
      ["XINFO", "STREAM", "s"],
    ),
  },
  {
    name: "XINFO STREAM after deletes",
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
    name: "XINFO STREAM after MAXLEN and MINID trims (step 20's trimming case)",
    actions: [...trimming, ...cmds(["XINFO", "STREAM", "s"])],
    except: clock,
  },
];

const cases: DiffCase[] = [...scripted];
for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) cases.push(randomCase(seed));
for (const c of cases) c.actions.unshift({ cmd: ["FLUSHALL"] });

export const family: Family = { name: "xread", since: 21, cases };
