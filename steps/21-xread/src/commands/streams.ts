// commands/streams.ts -- the stream commands: XADD, trimming, and reading the log.
//
// stream.ts is the data structure and knows nothing of keys or RESP; this
// file is the part every command family has: parse the arguments in the
// order Redis parses them (so that a command with two mistakes reports the
// same one Redis does), find the key, call the Stream, reply.
//
// Three reply shapes recur. An entry is [id, [field, value, ...]]. XREAD
// answers per stream: a list of [key, entries] in RESP2, a map key ->
// entries in RESP3. And "nothing to read" is a null array, not an empty
// one: a client tells "timed out" from "read zero entries".

import { blockMillisArg, intArg, lower, SYNTAX_ERROR } from "../args.ts";
import { CommandError, type CommandSpec, replyHelp } from "../command.ts";
import { type Key, toKey } from "../db.ts";
import { keepArg, type ReplyWriter } from "../resp.ts";
import { blockForKeys, type Client, Server } from "../state.ts";
import {
  compareIds,
  formatId,
  MAX_ID,
  MIN_ID,
  parseRangeEnd,
  parseRangeStart,
  parseReadId,
  parseStrictId,
  parseXaddId,
  Stream,
  type StreamEntry,
  StreamError,
  type StreamId,
  type StreamInfo,
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

// XREAD's answer: one [key, entries] per stream that had something, as an
// array in RESP2 and a map in RESP3.
export function replyStreams(
  out: ReplyWriter,
  found: { key: Buffer; entries: readonly StreamEntry[] }[],
): void {
  if (out.proto === 3) out.map(found.length);
  else out.array(found.length);
  for (const f of found) {
    if (out.proto === 2) out.array(2);
    out.bulk(f.key);
    replyEntries(out, f.entries);
  }
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

/* ============================ XREAD ============================ */

// A parsed XREAD, ready to be tried now or, with BLOCK, later.
export interface ReadRequest {
  count: number; // 0: no limit.
  block: number; // -1: no BLOCK; 0: forever; else ms.
  keys: Buffer[];
  after: StreamId[]; // Per key: read after this ID.
}

// Redis's xreadCommand() parsing, in its order: options, then per stream
// WRONGTYPE and the ID ("$" is resolved now, so a blocked XREAD $ waits
// for entries added after it blocked). GROUP and NOACK belong to
// XREADGROUP; XREAD answers them with Redis's own words.
function parseRead(argv: Buffer[]): ReadRequest {
  const req: ReadRequest = { count: 0, block: -1, keys: [], after: [] };
  let streamsArg = 0;
  let n = 0;
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = lower(argv[i]!);
    if (opt === "block" && more) {
      i++;
      req.block = blockMillisArg(argv[i]!);
    } else if (opt === "count" && more) {
      req.count = Math.max(0, intArg(argv[++i]!));
    } else if (opt === "streams" && more) {
      streamsArg = i + 1;
      const rest = argv.length - streamsArg;
      if (rest % 2 !== 0) {
        throw new CommandError(
          "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
        );
      }
      n = rest / 2;
      break;
    } else if (opt === "group" && more >= 2) {
      throw new CommandError(
        "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
      );
    } else if (opt === "noack") {
      throw new CommandError(
        "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
      );
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  if (streamsArg === 0) throw new CommandError(SYNTAX_ERROR);
  for (let k = 0; k < n; k++) {
    const key = argv[streamsArg + k]!;
    const s = streamAt(key);
    const rid = checked(() => parseReadId(str(argv[streamsArg + n + k]!)));
    req.keys.push(key);
    req.after.push(rid.kind === "last" ? (s?.lastId ?? MIN_ID) : rid.id);
  }
  return req;
}

// Try to answer a read now: the streams that have entries after the
// reader's ID, in the order given. Empty when nothing is there (the caller
// blocks or replies a null array).
export function tryRead(req: ReadRequest): { key: Buffer; entries: readonly StreamEntry[] }[] {
  const found: { key: Buffer; entries: readonly StreamEntry[] }[] = [];
  for (let k = 0; k < req.keys.length; k++) {
    const key = req.keys[k]!;
    const s = streamAt(key);
    if (s === undefined) continue;
    const after = req.after[k]!;
    const top = s.lastEntryId();
    if (top === undefined || top.ms < after.ms || (top.ms === after.ms && top.seq <= after.seq)) {
      continue;
    }
    found.push({ key, entries: s.readAfter(after, req.count) });
  }
  return found;
}

function xread(c: Client, argv: Buffer[]): void {
  const req = parseRead(argv);
  const found = tryRead(req);
  if (found.length > 0) {
    replyStreams(c.out, found);
    return;
  }
  if (req.block === -1) {
    c.out.nullArray();
    return;
  }
  blockRead(c, req);
}

/* ============================ Blocking reads ============================
 * XREAD BLOCK parks the client in step 19's blocking manager (blocking.ts),
 * like BLPOP: every write to one of its keys offers the key to it after
 * the command, and serveBlocked() decides. Reading consumes nothing, so
 * every reader waiting on a key is served by the same XADD.
 * ======================================================================== */

// Redis's XREAD_BLOCKED_DEFAULT_COUNT: a blocked read without COUNT gets
// at most this many entries, so a reader blocked with an old ID is not
// sent the whole stream in one reply.
const BLOCKED_DEFAULT_COUNT = 1000;

function blockRead(c: Client, req: ReadRequest): void {
  const deadline = req.block === 0 ? 0 : Server.commandTime + req.block;
  const count = req.count || BLOCKED_DEFAULT_COUNT;
  blockForKeys(
    c,
    req.keys,
    deadline,
    (key) => serveBlocked(c, req, key, count),
    () => c.out.nullArray(),
  );
}

// A key the client waits on was written to (or deleted): answer it and
// return true, or return false to keep waiting. As in Redis 7.0, XREAD is
// served as soon as the stream's last generated ID passes the one it
// waits after (even if that entry was trimmed away at once: it gets an
// empty list), and ignores a deleted key.
function serveBlocked(c: Client, req: ReadRequest, key: Key, count: number): boolean {
  const k = req.keys.findIndex((b) => toKey(b) === key);
  const name = req.keys[k]!;
  const v = Server.db.lookup(name);
  const s = v?.type === "stream" ? v.value : undefined;
  const after = req.after[k]!;
  if (s === undefined || compareIds(s.lastId, after) <= 0) return false;
  replyStreams(c.out, [{ key: name, entries: s.readAfter(after, count) }]);
  return true;
}

/* ============================ XINFO ============================ */

function infoStream(key: Buffer): Stream {
  const s = streamAt(key);
  if (s === undefined) throw new CommandError("ERR no such key");
  return s;
}

// XINFO STREAM key [FULL [COUNT count]]. radix-tree-nodes is Redis's
// count of rax nodes; we report our node count there (see README).
function xinfoStream(c: Client, argv: Buffer[]): void {
  const s = infoStream(argv[2]!);
  if (argv.length === 3) {
    xinfoStreamBasic(c, s);
    return;
  }
  const syntax = new CommandError(
    "ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.",
  );
  if (lower(argv[3]!) !== "full") throw syntax;
  let count = 10; // Redis's default, so that FULL of a huge stream stays bounded.
  if (argv.length === 6) {
    if (lower(argv[4]!) !== "count") throw syntax;
    count = Math.max(0, intArg(argv[5]!)); // 0 (or less): everything.
  } else if (argv.length !== 4) {
    throw syntax;
  }
  xinfoStreamFull(c, s, count);
}

// The fields both forms start with.
function replyStreamHead(out: ReplyWriter, i: StreamInfo): void {
  out.bulk("length");
  out.integer(i.length);
  out.bulk("radix-tree-keys");
  out.integer(i.radixTreeKeys);
  out.bulk("radix-tree-nodes");
  out.integer(i.radixTreeKeys + 1);
  out.bulk("last-generated-id");
  replyId(out, i.lastGeneratedId);
  out.bulk("max-deleted-entry-id");
  replyId(out, i.maxDeletedEntryId);
  out.bulk("entries-added");
  out.integer(i.entriesAdded);
  out.bulk("recorded-first-entry-id");
  replyId(out, i.recordedFirstEntryId);
}

function xinfoStreamBasic(c: Client, s: Stream): void {
  const i = s.info();
  const out = c.out;
  out.map(10);
  replyStreamHead(out, i);
  out.bulk("groups");
  out.integer(0); // Consumer groups hang off a stream from step 22 on.
  out.bulk("first-entry");
  if (i.firstEntry) replyEntry(out, i.firstEntry);
  else out.null();
  out.bulk("last-entry");
  if (i.lastEntry) replyEntry(out, i.lastEntry);
  else out.null();
}

// FULL: the entries, cut at `count`, and the groups (none yet).
function xinfoStreamFull(c: Client, s: Stream, count: number): void {
  const out = c.out;
  out.map(9);
  replyStreamHead(out, s.info());
  out.bulk("entries");
  const entries = s.range(MIN_ID, MAX_ID, count);
  out.array(entries.length);
  for (const e of entries) replyEntry(out, e);
  out.bulk("groups");
  out.array(0);
}

// Redis's text, line by line, between replyHelp()'s first and last lines:
// the STREAM part of it (GROUPS and CONSUMERS come with the groups).
const XINFO_HELP = ["STREAM <key> [FULL [COUNT <count>]", "    Show information about the stream."];

/* ============================ The table ============================ */

const G = "stream";
const ONE_KEY: [number, number, number] = [1, 1, 1];
// XINFO STREAM key: the key comes after the subcommand.
const SUBCOMMAND_KEY: [number, number, number] = [2, 2, 1];

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
  {
    name: "xread",
    arity: -4,
    flags: ["readonly", "blocking", "movablekeys"],
    handler: xread,
    keys: [0, 0, 0],
    group: G,
    summary:
      "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
    since: "5.0.0",
    complexity:
      "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
    syntax: "[COUNT count:integer] [BLOCK milliseconds:integer] STREAMS streams=(key:key... id...)",
  },
  {
    name: "xinfo",
    arity: -2,
    flags: [],
    group: G,
    summary: "A container for stream introspection commands",
    since: "5.0.0",
    complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "stream",
        arity: -3,
        flags: ["readonly"],
        handler: xinfoStream,
        keys: SUBCOMMAND_KEY,
        group: G,
        summary: "Get information about a stream",
        since: "5.0.0",
        complexity: "O(1)",
        syntax: "key:key [FULL full=([COUNT count:integer])]",
        history: [
          ["6.0.0", "Added the `FULL` modifier."],
          [
            "7.0.0",
            "Added the `max-deleted-entry-id`, `entries-added`, `recorded-first-entry-id`, `entries-read` and `lag` fields",
          ],
        ],
      },
      {
        name: "help",
        arity: 2,
        flags: ["loading", "stale"],
        handler: (c, argv) => replyHelp(c, argv, XINFO_HELP),
        group: G,
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        complexity: "O(1)",
      },
    ],
  },
];
