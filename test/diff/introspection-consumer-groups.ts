// introspection-consumer-groups.ts -- what tools ask about consumer groups: COMMAND's view
// of the group commands (XREADGROUP's movablekeys), XINFO STREAM FULL with groups, pending
// entries and consumers, XINFO HELP and XGROUP HELP.
//
// The same masks as step 20's introspection-streams.ts: delivery times and
// seen-time (13-digit milliseconds) and radix-tree-nodes.

import type { DiffCase, Family } from "../src/redis-diff.ts";
import { mapFrames, withoutKeySpecs } from "./introspection.ts";
import { cmds, maskTimes } from "./introspection-streams.ts";

const cases: DiffCase[] = [
  {
    name: "COMMAND DOCS of the stream commands",
    actions: cmds(
      ["COMMAND", "DOCS", "xadd", "xtrim", "xread", "xreadgroup", "xpending", "xrange"],
      ["COMMAND", "DOCS", "xclaim", "xautoclaim", "xack", "xdel", "xlen", "xrevrange"],
      ["COMMAND", "DOCS", "xgroup|create", "xgroup|setid", "xinfo|stream", "xinfo|consumers"],
    ),
  },
  {
    name: "COMMAND LIST FILTERBY PATTERN xa* answers only the matches",
    actions: cmds(
      ["COMMAND", "LIST", "FILTERBY", "PATTERN", "xa*"],
      ["COMMAND", "LIST", "FILTERBY", "PATTERN", "XINFO|*"],
    ),
    except: {
      why: "Redis lists commands in its hash table's order, random per start: compared sorted",
      normalize: (t) => mapFrames(t, (v) => (Array.isArray(v) ? [...v].sort() : v)),
    },
  },
  {
    name: "COMMAND INFO: XREAD and XREADGROUP have movablekeys; every stream command",
    actions: cmds(
      ["COMMAND", "INFO", "xread", "xreadgroup", "xadd", "xtrim", "xdel", "xlen", "xrange"],
      ["COMMAND", "INFO", "xrevrange", "xack", "xpending", "xclaim", "xautoclaim"],
      [
        "COMMAND",
        "INFO",
        "xgroup|create",
        "xgroup|setid",
        "xgroup|destroy",
        "xgroup|createconsumer",
      ],
      [
        "COMMAND",
        "INFO",
        "xgroup|delconsumer",
        "xinfo|stream",
        "xinfo|groups",
        "xinfo|consumers",
        "xinfo|help",
      ],
    ),
    except: withoutKeySpecs,
  },
  {
    name: "XINFO STREAM FULL: entries, groups, pending entries, consumers; COUNT",
    actions: cmds(
      ["FLUSHALL"],
      ["XADD", "s", "1-0", "a", "1"],
      ["XADD", "s", "2-0", "b", "2"],
      ["XADD", "s", "3-0", "c", "3"],
      ["XGROUP", "CREATE", "s", "g", "0"],
      ["XGROUP", "CREATE", "s", "a", "$"],
      ["XGROUP", "CREATECONSUMER", "s", "a", "idle"],
      ["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"],
      ["XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "STREAMS", "s", ">"],
      ["XDEL", "s", "2-0"],
      ["XINFO", "STREAM", "s", "FULL"],
      ["XINFO", "STREAM", "s", "full", "COUNT", "1"],
      ["XINFO", "STREAM", "s", "FULL", "COUNT", "0"],
      ["XINFO", "STREAM", "s", "FULL", "COUNT", "-1"],
      ["HELLO", "3"],
      ["XINFO", "STREAM", "s", "FULL", "COUNT", "2"],
      ["HELLO", "2"],
      ["XADD", "empty", "MAXLEN", "0", "1-0", "f", "v"],
      ["XINFO", "STREAM", "empty", "FULL"],
    ),
    except: {
      why: "times and radix-tree-nodes masked; HELLO's connection id is each server's own",
      normalize: (t) => maskTimes(t).map((e) => e.replace(/(\\r\\nid\\r\\n:)\d+/g, "$1<id>")),
    },
  },
  {
    name: "XINFO HELP and XGROUP HELP",
    actions: cmds(
      ["XINFO", "HELP"],
      ["xinfo", "help", "x"],
      ["XGROUP", "HELP"],
      ["xgroup", "help", "x"],
    ),
  },
];

export const family: Family = { name: "introspection-consumer-groups", since: 23, cases };
