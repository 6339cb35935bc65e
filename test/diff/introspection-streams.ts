// introspection-streams.ts -- what tools ask about streams: COMMAND's view of
// the stream commands (XREAD's movablekeys, the x* names), XINFO STREAM FULL
// and XINFO HELP, with Redis's own tests for the stream's counters.
//
// Times (delivery times, seen-time: 13-digit milliseconds) and
// radix-tree-nodes (a detail of Redis's radix tree) are masked on both
// sides; everything else is byte for byte.

import type { Action, Arg, DiffCase, Family } from "../src/redis-diff.ts";
import { mapFrames, withoutKeySpecs } from "./introspection.ts";

const cmds = (...list: Arg[][]): Action[] => list.map((cmd) => ({ cmd }));

function maskTimes(transcript: string[]): string[] {
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
    name: "XINFO STREAM FULL: argument errors; XINFO HELP, XGROUP HELP",
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
      ["XINFO", "HELP"],
      ["xinfo", "help", "x"],
      ["XGROUP", "HELP"],
      ["xgroup", "help", "x"],
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

export const family: Family = { name: "introspection-streams", since: 19, cases };
