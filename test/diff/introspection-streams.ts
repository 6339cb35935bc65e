// introspection-streams.ts -- what tools ask about streams: COMMAND's view of
// the log's commands (step 20). XREAD, XINFO STREAM [FULL] and Redis's own
// tests for the stream's counters are step 21's introspection-xread.ts.
//
// Times (13-digit milliseconds) and radix-tree-nodes (a detail of Redis's
// radix tree) are masked on both sides by maskTimes() below, which the
// later families use; everything else is byte for byte. The group
// commands' view is step 22's introspection-consumer-groups.ts.

import type { Action, Arg, DiffCase, Family } from "../src/redis-diff.ts";
import { withoutKeySpecs } from "./introspection.ts";

export const cmds = (...list: Arg[][]): Action[] => list.map((cmd) => ({ cmd }));

export function maskTimes(transcript: string[]): string[] {
  return transcript.map((t) =>
    t.replace(/(radix-tree-nodes\\r\\n:)\d+/g, "$1<n>").replace(/(:)\d{13}(\\r\\n)/g, "$1<ms>$2"),
  );
}

const cases: DiffCase[] = [
  {
    name: "COMMAND DOCS of the log's commands",
    actions: cmds(["COMMAND", "DOCS", "xadd", "xtrim", "xrange", "xdel", "xlen", "xrevrange"]),
  },
  {
    name: "COMMAND INFO: every command of the log",
    actions: cmds(["COMMAND", "INFO", "xadd", "xtrim", "xdel", "xlen", "xrange", "xrevrange"]),
    except: withoutKeySpecs,
  },
];

export const family: Family = { name: "introspection-streams", since: 20, cases };
