// commands/streams.ts -- the stream commands: XADD, trimming, and reading the log.
//
// stream.ts is the data structure and knows nothing of keys or RESP; this
// file is the part every command family has: parse the arguments in the
// order Redis parses them (so that a command with two mistakes reports the
// same one Redis does), find the key, call the Stream, reply.
//
// One reply shape recurs: an entry is [id, [field, value, ...]], and a
// range is an array of them.

import { intArg, lower, SYNTAX_ERROR } from "../args.ts";
import { CommandError, type CommandSpec } from "../command.ts";
import { keepArg, type ReplyWriter } from "../resp.ts";
import { type Client, Server } from "../state.ts";
import {
  formatId,
  MIN_ID,
  parseRangeEnd,
  parseRangeStart,
  parseStrictId,
  parseXaddId,
  Stream,
  type StreamEntry,
  StreamError,
  type StreamId,
  type TrimSpec,
  type XaddId,
} from "../stream.ts";

// Bytes as the latin1 string the stream module parses IDs from.
function str(b: Buffer): string {
  return b.toString("latin1");
}

// Run a stream.ts call, turning its StreamError into the command error.
function checked<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof StreamError) throw new CommandError(err.reply);
    throw err;
  }
}

const id = (arg: Buffer, parse: (s: string) => StreamId): StreamId =>
  checked(() => parse(str(arg)));

function streamAt(key: Buffer): Stream | undefined {
  return Server.db.get(key, "stream");
}

// A new stream uses the server's clock: one time per command, so every
// "*" ID in a command agrees, and tests can reason about it.
function newStream(): Stream {
  return new Stream({ clock: (): number => Server.commandTime });
}

/* ============================ Replies ============================ */

function replyId(out: ReplyWriter, id: StreamId): void {
  out.bulk(formatId(id));
}

function replyEntry(out: ReplyWriter, e: StreamEntry): void {
  out.array(2);
  replyId(out, e.id);
  out.array(e.fields.length);
  for (const f of e.fields) out.bulk(f);
}

function replyEntries(out: ReplyWriter, entries: readonly StreamEntry[]): void {
  out.array(entries.length);
  for (const e of entries) replyEntry(out, e);
}

/* ============================ XADD and XTRIM ============================ */

interface AddOrTrimArgs {
  trim: TrimSpec | undefined;
  noMkStream: boolean;
  idIndex: number; // Where XADD's ID is (argv.length when missing).
  id: XaddId | null; // XADD's ID, parsed where it was found.
}

// Redis's streamParseAddOrTrimArgsOrReply(): the options of XADD (before
// its ID) and of XTRIM, with its checks in its order.
function parseAddOrTrim(argv: Buffer[], xadd: boolean): AddOrTrimArgs {
  let strategy: "maxlen" | "minid" | null = null;
  let approx = false;
  let maxlen = 0;
  let minid: StreamId = MIN_ID;
  let limit = 0;
  let limitGiven = false;
  let noMkStream = false;
  let xaddId: XaddId | null = null;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const raw = str(argv[i]!);
    const opt = raw.toLowerCase();
    if (xadd && raw === "*") {
      xaddId = parseXaddId(raw);
      break;
    }
    if ((opt === "maxlen" || opt === "minid") && more) {
      approx = false;
      const next = str(argv[i + 1]!);
      if (more >= 2 && next === "~") {
        approx = true;
        i++;
      } else if (more >= 2 && next === "=") {
        i++;
      }
      if (opt === "maxlen") {
        maxlen = intArg(argv[i + 1]!);
        if (maxlen < 0) throw new CommandError("ERR The MAXLEN argument must be >= 0.");
      } else {
        minid = id(argv[i + 1]!, parseStrictId);
      }
      i++;
      strategy = opt;
    } else if (opt === "limit" && more) {
      limit = intArg(argv[i + 1]!);
      if (limit < 0) throw new CommandError("ERR The LIMIT argument must be >= 0.");
      limitGiven = true;
      i++;
    } else if (xadd && opt === "nomkstream") {
      noMkStream = true;
    } else if (xadd) {
      // Not an option, so it must be the ID: checked here, before any
      // check of the options or of the arity, as Redis does (XADD s abc f
      // v g is a bad ID, not a wrong number of arguments).
      xaddId = checked(() => parseXaddId(raw));
      break;
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  if (limit && strategy === null) {
    throw new CommandError(
      "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
    );
  }
  if (!xadd && strategy === null) {
    throw new CommandError("ERR syntax error, XTRIM must be called with a trimming strategy");
  }
  if (!approx && limitGiven) {
    throw new CommandError("ERR syntax error, LIMIT cannot be used without the special ~ option");
  }
  let trim: TrimSpec | undefined;
  const lim = limitGiven ? limit : undefined;
  if (strategy === "maxlen") trim = { strategy, maxlen, approx, limit: lim };
  if (strategy === "minid") trim = { strategy, minid, approx, limit: lim };
  return { trim, noMkStream, idIndex: i, id: xaddId };
}

// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT n]] *|id field value [...]
function xadd(c: Client, argv: Buffer[]): void {
  const args = parseAddOrTrim(argv, true);
  const fieldPos = args.idIndex + 1;
  const nFields = argv.length - fieldPos;
  if (nFields < 2 || nFields % 2 === 1) {
    throw new CommandError("ERR wrong number of arguments for 'xadd' command");
  }
  const spec = args.id!; // Found, or the arity check above failed.
  // 0-0 is refused before the key is looked up: no empty stream is left
  // behind, and NOMKSTREAM on a missing key still gets this error.
  if (spec.kind === "explicit" && spec.id.ms === 0n && spec.id.seq === 0n) {
    throw new CommandError("ERR The ID specified in XADD must be greater than 0-0");
  }
  const key = argv[1]!;
  let s = streamAt(key);
  const created = s === undefined;
  if (s === undefined) {
    if (args.noMkStream) {
      c.out.null();
      return;
    }
    s = newStream();
  }
  const stream = s;
  // Fields are kept (copied unless big): the parser's buffer is reused by the next read.
  const fields = argv.slice(fieldPos).map(keepArg);
  const added = checked(() => stream.add(spec, fields, args.trim));
  if (created) Server.db.set(key, { type: "stream", value: stream });
  else Server.db.modified(key);
  replyId(c.out, added);
}

// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT n]
function xtrim(c: Client, argv: Buffer[]): void {
  const args = parseAddOrTrim(argv, false);
  const s = streamAt(argv[1]!);
  if (s === undefined) {
    c.out.integer(0);
    return;
  }
  const n = s.trim(args.trim!);
  if (n) Server.db.modified(argv[1]!);
  c.out.integer(n);
}

/* ============================ Reading the log ============================ */

function xlen(c: Client, argv: Buffer[]): void {
  c.out.integer(streamAt(argv[1]!)?.length ?? 0);
}

// XRANGE key start end [COUNT n], and XREVRANGE key end start [COUNT n].
function xrangeGeneric(c: Client, argv: Buffer[], rev: boolean): void {
  const start = id(argv[rev ? 3 : 2]!, parseRangeStart);
  const end = id(argv[rev ? 2 : 3]!, parseRangeEnd);
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    if (lower(argv[j]!) === "count" && j + 1 < argv.length) {
      count = Math.max(0, intArg(argv[++j]!));
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  const s = streamAt(argv[1]!);
  if (s === undefined) {
    c.out.array(0);
    return;
  }
  // COUNT 0 is a null array in Redis 7.0, not an empty one.
  if (count === 0) {
    c.out.nullArray();
    return;
  }
  replyEntries(c.out, s.range(start, end, count === -1 ? 0 : count, rev));
}

// XDEL key id [id ...]. Every ID is checked before anything is deleted:
// the command runs whole or not at all. A missing key deletes nothing,
// bad IDs or not.
function xdel(c: Client, argv: Buffer[]): void {
  const s = streamAt(argv[1]!);
  if (s === undefined) {
    c.out.integer(0);
    return;
  }
  const ids = argv.slice(2).map((a) => id(a, parseStrictId));
  const n = s.delete(ids);
  if (n) Server.db.modified(argv[1]!);
  c.out.integer(n);
}

/* ============================ The table ============================ */

const G = "stream";
const ONE_KEY: [number, number, number] = [1, 1, 1];

export const streamCommands: CommandSpec[] = [
  {
    name: "xadd",
    arity: -5,
    flags: ["write", "denyoom", "fast"],
    handler: xadd,
    keys: ONE_KEY,
    group: G,
    summary: "Appends a new entry to a stream",
    since: "5.0.0",
    tips: ["nondeterministic_output"],
    complexity:
      "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
    syntax:
      "key:key [NOMKSTREAM@6.2.0] [trim=(strategy=(MAXLEN|MINID@6.2.0) [operator=(equal==|approximately=~)] threshold [LIMIT count:integer@6.2.0])] id_or_auto=(auto_id=*|id) field_value=(field value)...",
    history: [
      ["6.2.0", "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the `LIMIT` option."],
      ["7.0.0", "Added support for the `<ms>-*` explicit ID form."],
    ],
  },
  {
    name: "xtrim",
    arity: -4,
    flags: ["write"],
    handler: xtrim,
    keys: ONE_KEY,
    group: G,
    summary: "Trims the stream to (approximately if '~' is passed) a certain size",
    since: "5.0.0",
    tips: ["nondeterministic_output"],
    complexity:
      "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
    syntax:
      "key:key trim=(strategy=(MAXLEN|MINID@6.2.0) [operator=(equal==|approximately=~)] threshold [LIMIT count:integer@6.2.0])",
    history: [["6.2.0", "Added the `MINID` trimming strategy and the `LIMIT` option."]],
  },
  {
    name: "xlen",
    arity: 2,
    flags: ["readonly", "fast"],
    handler: xlen,
    keys: ONE_KEY,
    group: G,
    summary: "Return the number of entries in a stream",
    since: "5.0.0",
    complexity: "O(1)",
    syntax: "key:key",
  },
  {
    name: "xrange",
    arity: -4,
    flags: ["readonly"],
    handler: (c, argv) => xrangeGeneric(c, argv, false),
    keys: ONE_KEY,
    group: G,
    summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval",
    since: "5.0.0",
    complexity:
      "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    syntax: "key:key start end [COUNT count:integer]",
    history: [["6.2.0", "Added exclusive ranges."]],
  },
  {
    name: "xrevrange",
    arity: -4,
    flags: ["readonly"],
    handler: (c, argv) => xrangeGeneric(c, argv, true),
    keys: ONE_KEY,
    group: G,
    summary:
      "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
    since: "5.0.0",
    complexity:
      "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    syntax: "key:key end start [COUNT count:integer]",
    history: [["6.2.0", "Added exclusive ranges."]],
  },
  {
    name: "xdel",
    arity: -3,
    flags: ["write", "fast"],
    handler: xdel,
    keys: ONE_KEY,
    group: G,
    summary:
      "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
    since: "5.0.0",
    complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
    syntax: "key:key id...",
  },
];
