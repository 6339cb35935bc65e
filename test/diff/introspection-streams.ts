// introspection-streams.ts -- what tools ask about streams: COMMAND's view of
// the log's commands (XREAD's movablekeys), XINFO STREAM FULL, with Redis's
// own tests for the stream's counters.
//
// Times (13-digit milliseconds) and radix-tree-nodes (a detail of Redis's
// radix tree) are masked on both sides; everything else is byte for byte.
// The group commands' view is step 22's introspection-consumer-groups.ts.

import type { Action, Arg, DiffCase, Family } from "../src/redis-diff.ts";
import { withoutKeySpecs } from "./introspection.ts";

export const cmds = (...list: Arg[][]): Action[] => list.map((cmd) => ({ cmd }));

export function maskTimes(transcript: string[]): string[] {
  return transcript.map((t) =>
    t.replace(/(radix-tree-nodes\\r\\n:)\d+/g, "$1<n>").replace(/(:)\d{13}(\\r\\n)/g, "$1<ms>$2"),
  );
}

const times = {
  why: "delivery and seen times are the clock's; radix-tree-nodes is Redis's rax",
  normalize: maskTimes,
};

const cases: DiffCase[] = [
  {
    name: "COMMAND DOCS of the log's commands",
    actions: cmds(
      ["COMMAND", "DOCS", "xadd", "xtrim", "xread", "xrange", "xdel", "xlen", "xrevrange"],
      ["COMMAND", "DOCS", "xinfo|stream", "xinfo|help"],
    ),
  },
  {
    name: "COMMAND INFO: XREAD has movablekeys; every command of the log",
    actions: cmds(
      ["COMMAND", "INFO", "xread", "xadd", "xtrim", "xdel", "xlen", "xrange", "xrevrange"],
      ["COMMAND", "INFO", "xinfo|stream", "xinfo|help"],
    ),
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

export const family: Family = { name: "introspection-streams", since: 21, cases };
