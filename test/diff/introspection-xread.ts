// introspection-xread.ts -- what tools ask about step 21's commands: COMMAND's
// view of XREAD (its movablekeys) and XINFO, XINFO STREAM FULL, and Redis's
// own tests for the stream's counters, which read them through XINFO.
//
// Times and radix-tree-nodes are masked with step 20's maskTimes().

import type { DiffCase, Family } from "../src/redis-diff.ts";
import { withoutKeySpecs } from "./introspection.ts";
import { cmds, maskTimes } from "./introspection-streams.ts";

const times = {
  why: "delivery and seen times are the clock's; radix-tree-nodes is Redis's rax",
  normalize: maskTimes,
};

const cases: DiffCase[] = [
  {
    name: "COMMAND DOCS of XREAD and XINFO",
    actions: cmds(["COMMAND", "DOCS", "xread"], ["COMMAND", "DOCS", "xinfo|stream", "xinfo|help"]),
  },
  {
    name: "COMMAND INFO: XREAD has movablekeys; XINFO's subcommands",
    actions: cmds(["COMMAND", "INFO", "xread"], ["COMMAND", "INFO", "xinfo|stream", "xinfo|help"]),
    except: withoutKeySpecs,
  },
  {
    name: "XINFO STREAM FULL: entries, no groups; COUNT",
    actions: cmds(
      ["FLUSHALL"],
      ["XADD", "s", "1-0", "a", "1"],
      ["XADD", "s", "2-0", "b", "2"],
      ["XADD", "s", "3-0", "c", "3"],
      ["XDEL", "s", "2-0"],
      ["XINFO", "STREAM", "s", "FULL"],
      ["XINFO", "STREAM", "s", "full", "COUNT", "1"],
      ["XINFO", "STREAM", "s", "FULL", "COUNT", "0"],
      ["XINFO", "STREAM", "s", "FULL", "COUNT", "-1"],
      ["HELLO", "3"],
      ["XINFO", "STREAM", "s", "FULL", "COUNT", "2"],
      ["XINFO", "STREAM", "s"],
      ["HELLO", "2"],
      ["XADD", "empty", "MAXLEN", "0", "1-0", "f", "v"],
      ["XINFO", "STREAM", "empty", "FULL"],
    ),
    except: {
      why: "radix-tree-nodes masked; HELLO's connection id is each server's own",
      normalize: (t) => maskTimes(t).map((e) => e.replace(/(\\r\\nid\\r\\n:)\d+/g, "$1<id>")),
    },
  },
  {
    name: "XINFO STREAM FULL: argument errors",
    actions: cmds(
      ["FLUSHALL"],
      ["XINFO", "STREAM", "missing", "FULL", "bogus"],
      ["XADD", "s", "1-0", "a", "1"],
      ["XINFO", "STREAM", "s", "FULL", "COUNT"],
      ["XINFO", "STREAM", "s", "FULL", "COUNT", "abc"],
      ["XINFO", "STREAM", "s", "FULL", "COUNT", "99999999999999999999"],
      ["XINFO", "STREAM", "s", "FULL", "COUNT", "1", "x"],
      ["XINFO", "STREAM", "s", "FULL", "x", "1"],
      ["XINFO", "STREAM", "s", "FULLX"],
      ["XINFO", "STREAM", "s", "COUNT", "1"],
      ["SET", "str", "x"],
      ["XINFO", "STREAM", "str", "FULL"],
      ["XINFO", "BOGUS"],
      ["xinfo", "help", "x"],
    ),
  },
  {
    // Redis's tests/unit/type/stream.tcl, "XADD advances the entries-added
    // counter and sets the recorded-first-entry-id": entries-added 1 and 2,
    // recorded-first-entry-id 1-0 both times.
    name: "Redis's test: XADD advances the entries-added counter and sets the recorded-first-entry-id",
    actions: cmds(
      ["DEL", "x"],
      ["XADD", "x", "1-0", "data", "a"],
      ["XINFO", "STREAM", "x", "FULL"],
      ["XADD", "x", "2-0", "data", "a"],
      ["XINFO", "STREAM", "x", "FULL"],
    ),
    except: times,
  },
  {
    // Redis's "XDEL/TRIM are reflected by recorded first entry": 1-0 after
    // XDEL 2-0, 3-0 after XDEL 1-0, 4-0 after XTRIM MAXLEN = 2.
    name: "Redis's test: XDEL/TRIM are reflected by recorded first entry",
    actions: cmds(
      ["DEL", "x"],
      ["XADD", "x", "1-0", "data", "a"],
      ["XADD", "x", "2-0", "data", "a"],
      ["XADD", "x", "3-0", "data", "a"],
      ["XADD", "x", "4-0", "data", "a"],
      ["XADD", "x", "5-0", "data", "a"],
      ["XINFO", "STREAM", "x", "FULL"],
      ["XDEL", "x", "2-0"],
      ["XINFO", "STREAM", "x", "FULL"],
      ["XDEL", "x", "1-0"],
      ["XINFO", "STREAM", "x", "FULL"],
      ["XTRIM", "x", "MAXLEN", "=", "2"],
      ["XINFO", "STREAM", "x", "FULL"],
    ),
    except: times,
  },
];

export const family: Family = { name: "introspection-xread", since: 21, cases };
