// commands/streams.ts -- the stream commands: XADD, trimming, reading the log, consumer groups.
//
// stream.ts is the data structure and knows nothing of keys or RESP; this
// file is the part every command family has: parse the arguments in the
// order Redis parses them (so that a command with two mistakes reports the
// same one Redis does), find the key, call the Stream, reply.
//
// Three reply shapes recur. An entry is [id, [field, value, ...]]. XREAD
// and XREADGROUP answer per stream: a list of [key, entries] in RESP2, a
// map key -> entries in RESP3. And "nothing to read" is a null array, not
// an empty one: a client tells "timed out" from "read zero entries".
//
// Group and consumer names are bytes like keys: they are kept as latin1
// strings (one character per byte, see db.ts) and turned back into the
// same bytes when replied or put in an error line.

import { blockMillisArg, intArg, lower, SYNTAX_ERROR } from "../args.ts";
import { CommandError, type CommandSpec, replyHelp } from "../command.ts";
import { type Key, toKey } from "../db.ts";
import { parseInt64 } from "../int64.ts";
import { keepArg, type ReplyWriter } from "../resp.ts";
import { blockForKeys, type Client, Server } from "../state.ts";
import {
  type ClaimOptions,
  type ConsumerGroup,
  compareIds,
  formatId,
  type GroupEntry,
  MAX_ID,
  MIN_ID,
  parseGroupId,
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
  streamErrors,
  type TrimSpec,
  type XaddId,
} from "../stream.ts";

// Bytes as the latin1 string the stream module keeps names and IDs in.
function str(b: Buffer): string {
  return b.toString("latin1");
}

// A name inside an error line: C's %s stops at the first NUL byte.
function shown(b: Buffer): string {
  const nul = b.indexOf(0);
  return str(nul === -1 ? b : b.subarray(0, nul));
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
// "*" ID and idle time in a command agrees, and tests can reason about it.
function newStream(): Stream {
  return new Stream({ clock: (): number => Server.commandTime });
}

/* ============================ Replies ============================ */

// Step 26: value() writes the ID's ASCII straight into the reply slab;
// bulk() of a string would make a Buffer of it first, one per XADD.
function replyId(out: ReplyWriter, id: StreamId): void {
  out.value(formatId(id));
}

function replyEntry(out: ReplyWriter, e: StreamEntry | GroupEntry): void {
  out.array(2);
  replyId(out, e.id);
  if (e.fields === null) {
    // Pending, but deleted from the stream since: Redis sends the ID and
    // a null in place of the fields.
    out.nullArray();
    return;
  }
  out.array(e.fields.length);
  for (const f of e.fields) out.bulk(f);
}

function replyEntries(out: ReplyWriter, entries: readonly (StreamEntry | GroupEntry)[]): void {
  out.array(entries.length);
  for (const e of entries) replyEntry(out, e);
}

// XREAD's and XREADGROUP's answer: one [key, entries] per stream that had
// something, as an array in RESP2 and a map in RESP3.
export function replyStreams(
  out: ReplyWriter,
  found: { key: Buffer; entries: readonly (StreamEntry | GroupEntry)[] }[],
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
  // Redis logs an approximate trim as the exact one it amounted to and
  // keeps the LIMIT (MAXLEN = 1 LIMIT 5), and obeys that from its AOF:
  // so do we while loading one (step 25), with the LIMIT left out.
  if (!approx && limitGiven && !Server.loading) {
    throw new CommandError("ERR syntax error, LIMIT cannot be used without the special ~ option");
  }
  let trim: TrimSpec | undefined;
  const lim = limitGiven && approx ? limit : undefined;
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

/* ============================ XREAD and XREADGROUP ============================ */

// A parsed XREAD/XREADGROUP, ready to be tried now or, with BLOCK, later.
export interface ReadRequest {
  count: number; // 0: no limit.
  block: number; // -1: no BLOCK; 0: forever; else ms.
  noAck: boolean;
  group: Buffer | null;
  consumer: Buffer | null;
  keys: Buffer[];
  // Per key: read after this ID, or "new" (XREADGROUP's ">").
  after: (StreamId | "new")[];
}

// Redis's xreadCommand() parsing, in its order: options, then per stream
// WRONGTYPE, the group, and the ID ("$" is resolved now, so a blocked
// XREAD $ waits for entries added after it blocked). GROUP and NOACK are
// XREADGROUP's; XREAD answers them with Redis's own words.
function parseRead(argv: Buffer[], group: boolean): ReadRequest {
  const req: ReadRequest = {
    count: 0,
    block: -1,
    noAck: false,
    group: null,
    consumer: null,
    keys: [],
    after: [],
  };
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
        // The same text for XREADGROUP, "XREAD" and "$" included.
        throw new CommandError(
          "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
        );
      }
      n = rest / 2;
      break;
    } else if (opt === "group" && more >= 2) {
      if (!group) {
        throw new CommandError(
          "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
        );
      }
      req.group = argv[i + 1]!;
      req.consumer = argv[i + 2]!;
      i += 2;
    } else if (opt === "noack") {
      if (!group) {
        throw new CommandError(
          "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
        );
      }
      req.noAck = true;
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  if (streamsArg === 0) throw new CommandError(SYNTAX_ERROR);
  if (group && req.group === null)
    throw new CommandError("ERR Missing GROUP option for XREADGROUP");
  for (let k = 0; k < n; k++) {
    const key = argv[streamsArg + k]!;
    const s = streamAt(key);
    if (req.group !== null && (s === undefined || s.group(str(req.group)) === undefined)) {
      throw new CommandError(streamErrors.noGroupXreadgroup(shown(key), shown(req.group)));
    }
    const rid = checked(() => parseReadId(str(argv[streamsArg + n + k]!), group));
    req.keys.push(key);
    if (rid.kind === "last") req.after.push(s?.lastId ?? MIN_ID);
    else if (rid.kind === "new") req.after.push("new");
    else req.after.push(rid.id);
  }
  return req;
}

// Try to answer a read now: the streams that have something for it, in
// the order given. Empty when nothing is there (the caller blocks or
// replies a null array). An XREADGROUP with a history ID always counts as
// served, even with no entries: a consumer's history is an answer.
export function tryRead(req: ReadRequest): {
  key: Buffer;
  entries: readonly (StreamEntry | GroupEntry)[];
}[] {
  const found: { key: Buffer; entries: readonly (StreamEntry | GroupEntry)[] }[] = [];
  for (let k = 0; k < req.keys.length; k++) {
    const key = req.keys[k]!;
    const s = streamAt(key);
    if (s === undefined) continue;
    const after = req.after[k]!;
    if (req.group === null) {
      if (after === "new") continue;
      const top = s.lastEntryId();
      if (top === undefined || top.ms < after.ms || (top.ms === after.ms && top.seq <= after.seq)) {
        continue;
      }
      found.push({ key, entries: s.readAfter(after, req.count) });
      continue;
    }
    const g = s.group(str(req.group)) as ConsumerGroup;
    const consumer = str(req.consumer!);
    if (after === "new") {
      const entries = g.readNew(consumer, req.count, req.noAck);
      if (entries !== null) found.push({ key, entries });
    } else {
      found.push({ key, entries: g.readHistory(consumer, after, req.count) });
    }
  }
  return found;
}

function xreadGeneric(c: Client, argv: Buffer[], group: boolean): void {
  const req = parseRead(argv, group);
  const found = tryRead(req);
  if (found.length > 0) {
    if (group) for (const f of found) Server.db.modified(f.key);
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
 * XREAD BLOCK and XREADGROUP BLOCK park the client in step 19's blocking
 * manager (blocking.ts), like BLPOP: every write to one of its keys
 * offers the key to it after the command, and serveBlocked() decides.
 * Reading consumes nothing, so every XREAD reader waiting on a key is
 * served by the same XADD; XREADGROUP ">" readers each take what is left
 * for their group, so one new entry goes to one consumer.
 * ======================================================================== */

// Redis's XREAD_BLOCKED_DEFAULT_COUNT: a blocked read without COUNT gets
// at most this many entries, so a reader blocked with an old ID is not
// sent the whole stream in one reply.
const BLOCKED_DEFAULT_COUNT = 1000;

// Blocked XREADGROUP clients and their keys: FLUSHALL fires no per-key
// event, yet Redis unblocks them with an error. Entries of clients that
// left without being served (a disconnect) are swept now and then.
const blockedGroupReaders = new Map<Client, Buffer[]>();
let sweepAt = 64;

function blockRead(c: Client, req: ReadRequest): void {
  const deadline = req.block === 0 ? 0 : Server.commandTime + req.block;
  const count = req.count || BLOCKED_DEFAULT_COUNT;
  if (req.group !== null) {
    if (blockedGroupReaders.size >= sweepAt) {
      for (const other of blockedGroupReaders.keys()) {
        if (!Server.blocking.isBlocked(other)) blockedGroupReaders.delete(other);
      }
      sweepAt = Math.max(64, 2 * blockedGroupReaders.size);
    }
    blockedGroupReaders.set(c, req.keys);
  }
  blockForKeys(
    c,
    req.keys,
    deadline,
    (key) => {
      const served = serveBlocked(c, req, key, count);
      if (served) blockedGroupReaders.delete(c);
      return served;
    },
    () => {
      blockedGroupReaders.delete(c);
      c.out.nullArray();
    },
  );
}

Server.db.onKeyEvent((event) => {
  if (event !== "flush") return;
  for (const [c, keys] of blockedGroupReaders) {
    if (!Server.blocking.isBlocked(c)) blockedGroupReaders.delete(c);
    else for (const k of keys) Server.blocking.signalKeyAsReady(toKey(k));
  }
});

// A key the client waits on was written to (or deleted): answer it and
// return true, or return false to keep waiting. As in Redis 7.0, a plain
// XREAD is served as soon as the stream's last generated ID passes the one
// it waits after (even if that entry was trimmed away at once: it gets an
// empty list), and ignores a deleted key; an XREADGROUP whose key is gone
// or whose group was destroyed gets an error.
function serveBlocked(c: Client, req: ReadRequest, key: Key, count: number): boolean {
  const k = req.keys.findIndex((b) => toKey(b) === key);
  const name = req.keys[k]!;
  const v = Server.db.lookup(name);
  const s = v?.type === "stream" ? v.value : undefined;
  if (req.group === null) {
    const after = req.after[k] as StreamId;
    if (s === undefined || compareIds(s.lastId, after) <= 0) return false;
    replyStreams(c.out, [{ key: name, entries: s.readAfter(after, count) }]);
    return true;
  }
  if (s === undefined) {
    c.out.error("UNBLOCKED the stream key no longer exists");
    return true;
  }
  const g = s.group(str(req.group));
  if (g === undefined) {
    c.out.error("NOGROUP the consumer group this client was blocked on no longer exists");
    return true;
  }
  if (compareIds(s.lastId, g.lastId) <= 0) return false;
  const consumer = str(req.consumer!);
  const entries = g.readNew(consumer, count, req.noAck);
  if (entries === null) g.createConsumer(consumer);
  replyStreams(c.out, [{ key: name, entries: entries ?? [] }]);
  return true;
}

/* ============================ XGROUP ============================ */

// What every XGROUP subcommand but HELP checks first: the key's type, the
// key's existence (unless CREATE ... MKSTREAM), and for some, the group.
function xgroupTarget(
  argv: Buffer[],
  mkstream: boolean,
  needGroup: boolean,
): { s: Stream | undefined; g: ConsumerGroup | undefined } {
  const s = streamAt(argv[2]!);
  if (!mkstream) {
    if (s === undefined) throw new CommandError(`ERR ${streamErrors.xgroupNoKey.slice(4)}`);
    const g = s.group(str(argv[3]!));
    if (g === undefined && needGroup) {
      throw new CommandError(streamErrors.noGroupXgroup(shown(argv[2]!), shown(argv[3]!)));
    }
    return { s, g };
  }
  return { s, g: s?.group(str(argv[3]!)) };
}

function entriesReadArg(b: Buffer): number {
  const n = intArg(b);
  if (n < 0 && n !== -1) throw new CommandError("ERR value for ENTRIESREAD must be positive or -1");
  return n;
}

function subcommandSyntaxError(argv: Buffer[]): CommandError {
  return new CommandError(
    `ERR unknown subcommand or wrong number of arguments for '${shown(argv[1]!)}'. Try XGROUP HELP.`,
  );
}

// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]
function xgroupCreate(c: Client, argv: Buffer[]): void {
  let mkstream = false;
  let entriesRead = -1;
  for (let i = 5; i < argv.length; ) {
    const opt = lower(argv[i]!);
    if (opt === "mkstream") {
      mkstream = true;
      i++;
    } else if (opt === "entriesread" && i + 1 < argv.length) {
      entriesRead = entriesReadArg(argv[i + 1]!);
      i += 2;
    } else {
      throw subcommandSyntaxError(argv);
    }
  }
  const { s } = xgroupTarget(argv, mkstream, false);
  if (argv.length > 8) throw subcommandSyntaxError(argv);
  const start = checked(() => parseGroupId(str(argv[4]!), "create"));
  const key = argv[2]!;
  let stream = s;
  if (stream === undefined) {
    stream = newStream();
    Server.db.set(key, { type: "stream", value: stream });
  }
  const target = stream;
  checked(() =>
    target.createGroup(str(argv[3]!), start === "$" ? target.lastId : start, entriesRead),
  );
  Server.db.modified(key);
  c.out.ok();
}

// XGROUP SETID key group id|$ [ENTRIESREAD n]
function xgroupSetid(c: Client, argv: Buffer[]): void {
  let entriesRead = -1;
  if (argv.length === 7 && lower(argv[5]!) === "entriesread") {
    entriesRead = entriesReadArg(argv[6]!);
  } else if (argv.length !== 5) {
    throw subcommandSyntaxError(argv);
  }
  const { g } = xgroupTarget(argv, false, true);
  const to = checked(() => parseGroupId(str(argv[4]!), "setid"));
  g!.setId(to, entriesRead);
  Server.db.modified(argv[2]!);
  c.out.ok();
}

function xgroupDestroy(c: Client, argv: Buffer[]): void {
  const { s } = xgroupTarget(argv, false, false);
  const gone = s!.destroyGroup(str(argv[3]!));
  if (gone) Server.db.modified(argv[2]!);
  c.out.integer(gone ? 1 : 0);
}

function xgroupCreateConsumer(c: Client, argv: Buffer[]): void {
  const { g } = xgroupTarget(argv, false, true);
  const made = g!.createConsumer(str(argv[4]!));
  if (made) Server.db.modified(argv[2]!);
  c.out.integer(made ? 1 : 0);
}

function xgroupDelConsumer(c: Client, argv: Buffer[]): void {
  const { g } = xgroupTarget(argv, false, true);
  const pending = g!.deleteConsumer(str(argv[4]!));
  Server.db.modified(argv[2]!);
  c.out.integer(pending);
}

/* ============================ XACK and XPENDING ============================ */

// XACK key group id [id ...]: a missing key or group acknowledges
// nothing (0, not an error, bad IDs or not); then every ID is checked
// before any is acknowledged.
function xack(c: Client, argv: Buffer[]): void {
  const g = streamAt(argv[1]!)?.group(str(argv[2]!));
  if (g === undefined) {
    c.out.integer(0);
    return;
  }
  const n = g.ack(argv.slice(3).map((a) => id(a, parseStrictId)));
  if (n) Server.db.modified(argv[1]!);
  c.out.integer(n);
}

function groupOrNoGroup(key: Buffer, group: Buffer): ConsumerGroup {
  const g = streamAt(key)?.group(str(group));
  if (g === undefined) throw new CommandError(streamErrors.noGroup(shown(key), shown(group)));
  return g;
}

// XPENDING key group [[IDLE ms] start end count [consumer]]. The range is
// parsed before the group is looked up, as Redis does.
function xpending(c: Client, argv: Buffer[]): void {
  const n = argv.length;
  if (n !== 3 && (n < 6 || n > 9)) throw new CommandError(SYNTAX_ERROR);
  let minIdle = 0;
  let start = MIN_ID;
  let end = MIN_ID;
  let count = 0;
  let consumer: string | undefined;
  if (n >= 6) {
    let at = 3;
    if (lower(argv[3]!) === "idle") {
      minIdle = intArg(argv[4]!);
      if (n < 8) throw new CommandError(SYNTAX_ERROR);
      at += 2;
    }
    count = Math.max(0, intArg(argv[at + 2]!));
    start = id(argv[at]!, parseRangeStart);
    end = id(argv[at + 1]!, parseRangeEnd);
    if (at + 3 < n) consumer = str(argv[at + 3]!);
  }
  const g = groupOrNoGroup(argv[1]!, argv[2]!);
  const out = c.out;
  if (n === 3) {
    const p = g.pendingSummary();
    out.array(4);
    out.integer(p.count);
    if (p.count === 0) {
      out.null();
      out.null();
      out.nullArray();
      return;
    }
    replyId(out, p.min!);
    replyId(out, p.max!);
    out.array(p.consumers.length);
    for (const pc of p.consumers) {
      out.array(2);
      out.bulk(Buffer.from(pc.name, "latin1"));
      out.bulk(String(pc.count));
    }
    return;
  }
  const list = g.pendingRange({ start, end, count, minIdle, consumer });
  out.array(list.length);
  for (const p of list) {
    out.array(4);
    replyId(out, p.id);
    out.bulk(Buffer.from(p.consumer, "latin1"));
    out.integer(p.idle);
    out.integer(p.deliveries);
  }
}

/* ============================ XCLAIM and XAUTOCLAIM ============================ */

// XCLAIM key group consumer min-idle id [id ...] [IDLE ms] [TIME ms]
// [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id]. The IDs end where an
// argument stops parsing as one; what follows must be options.
function xclaim(c: Client, argv: Buffer[]): void {
  const g = groupOrNoGroup(argv[1]!, argv[2]!);
  const minIdle = Math.max(0, intArg(argv[4]!, "ERR Invalid min-idle-time argument for XCLAIM"));
  const ids: StreamId[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    try {
      ids.push(parseStrictId(str(argv[j]!)));
    } catch {
      break;
    }
  }
  const opts: ClaimOptions = {};
  for (; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = lower(argv[j]!);
    if (opt === "force") opts.force = true;
    else if (opt === "justid") opts.justId = true;
    else if (opt === "idle" && more) {
      opts.idle = intArg(argv[++j]!, "ERR Invalid IDLE option argument for XCLAIM");
      opts.time = undefined;
    } else if (opt === "time" && more) {
      opts.time = intArg(argv[++j]!, "ERR Invalid TIME option argument for XCLAIM");
      opts.idle = undefined;
    } else if (opt === "retrycount" && more) {
      opts.retryCount = intArg(argv[++j]!, "ERR Invalid RETRYCOUNT option argument for XCLAIM");
    } else if (opt === "lastid" && more) {
      opts.lastId = id(argv[++j]!, parseStrictId);
    } else {
      throw new CommandError(`ERR Unrecognized XCLAIM option '${shown(argv[j]!)}'`);
    }
  }
  const claimed = g.claim(str(argv[3]!), minIdle, ids, opts);
  Server.db.modified(argv[1]!);
  c.out.array(claimed.length);
  for (const e of claimed) {
    if (opts.justId) replyId(c.out, e.id);
    else replyEntry(c.out, e);
  }
}

// XAUTOCLAIM key group consumer min-idle start [COUNT n] [JUSTID]
function xautoclaim(c: Client, argv: Buffer[]): void {
  const minIdle = Math.max(
    0,
    intArg(argv[4]!, "ERR Invalid min-idle-time argument for XAUTOCLAIM"),
  );
  const start = id(argv[5]!, parseRangeStart);
  let count = 100;
  let justId = false;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = lower(argv[j]!);
    if (opt === "count" && more) {
      const n = parseInt64(argv[j + 1]!);
      if (n === null || n < 1n || n > 576460752303423487n) {
        throw new CommandError("ERR COUNT must be > 0");
      }
      count = Number(n);
      j++;
    } else if (opt === "justid") {
      justId = true;
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  const g = groupOrNoGroup(argv[1]!, argv[2]!);
  const r = g.autoclaim(str(argv[3]!), minIdle, start, count, justId);
  Server.db.modified(argv[1]!);
  const out = c.out;
  out.array(3);
  replyId(out, r.next);
  out.array(r.claimed.length);
  for (const e of r.claimed) {
    if (justId) replyId(out, e.id);
    else replyEntry(out, e);
  }
  out.array(r.deleted.length);
  for (const d of r.deleted) replyId(out, d);
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
  out.integer(i.groups);
  out.bulk("first-entry");
  if (i.firstEntry) replyEntry(out, i.firstEntry);
  else out.null();
  out.bulk("last-entry");
  if (i.lastEntry) replyEntry(out, i.lastEntry);
  else out.null();
}

// The first `count` items of an iteration (all of them when count is 0).
function firstOf<T>(items: Iterable<T>, count: number): T[] {
  const out: T[] = [];
  for (const item of items) {
    if (count > 0 && out.length >= count) break;
    out.push(item);
  }
  return out;
}

// FULL: the entries, and every group with its pending entries and its
// consumers with theirs; each list cut at `count`.
function xinfoStreamFull(c: Client, s: Stream, count: number): void {
  const out = c.out;
  out.map(9);
  replyStreamHead(out, s.info());
  out.bulk("entries");
  const entries = s.range(MIN_ID, MAX_ID, count);
  out.array(entries.length);
  for (const e of entries) replyEntry(out, e);
  out.bulk("groups");
  const groups = s.groups();
  out.array(groups.length);
  for (const g of groups) {
    const i = g.info();
    out.map(7);
    out.bulk("name");
    out.bulk(Buffer.from(i.name, "latin1"));
    out.bulk("last-delivered-id");
    replyId(out, i.lastDeliveredId);
    out.bulk("entries-read");
    if (i.entriesRead === null) out.null();
    else out.integer(i.entriesRead);
    out.bulk("lag");
    if (i.lag === null) out.null();
    else out.integer(i.lag);
    out.bulk("pel-count");
    out.integer(g.pel.size);
    out.bulk("pending");
    const pending = firstOf(g.pel.from(), count);
    out.array(pending.length);
    for (const [id, p] of pending) {
      out.array(4);
      replyId(out, id);
      out.bulk(Buffer.from(p.consumer?.name ?? "", "latin1"));
      out.integer(p.deliveryTime);
      out.integer(p.deliveryCount);
    }
    out.bulk("consumers");
    const consumers = g.consumers();
    out.array(consumers.length);
    for (const con of consumers) {
      out.map(4);
      out.bulk("name");
      out.bulk(Buffer.from(con.name, "latin1"));
      out.bulk("seen-time");
      out.integer(con.seenTime);
      out.bulk("pel-count");
      out.integer(con.pel.size);
      out.bulk("pending");
      const mine = firstOf(con.pel.from(), count);
      out.array(mine.length);
      for (const [id, p] of mine) {
        out.array(3);
        replyId(out, id);
        out.integer(p.deliveryTime);
        out.integer(p.deliveryCount);
      }
    }
  }
}

function xinfoGroups(c: Client, argv: Buffer[]): void {
  const s = infoStream(argv[2]!);
  const groups = s.groups();
  const out = c.out;
  out.array(groups.length);
  for (const g of groups) {
    const i = g.info();
    out.map(6);
    out.bulk("name");
    out.bulk(Buffer.from(i.name, "latin1"));
    out.bulk("consumers");
    out.integer(i.consumers);
    out.bulk("pending");
    out.integer(i.pending);
    out.bulk("last-delivered-id");
    replyId(out, i.lastDeliveredId);
    out.bulk("entries-read");
    if (i.entriesRead === null) out.null();
    else out.integer(i.entriesRead);
    out.bulk("lag");
    if (i.lag === null) out.null();
    else out.integer(i.lag);
  }
}

function xinfoConsumers(c: Client, argv: Buffer[]): void {
  const s = infoStream(argv[2]!);
  const g = s.group(str(argv[3]!));
  if (g === undefined) {
    throw new CommandError(streamErrors.noGroupXgroup(shown(argv[2]!), shown(argv[3]!)));
  }
  const consumers = g.consumers();
  const out = c.out;
  out.array(consumers.length);
  for (const con of consumers) {
    out.map(3);
    out.bulk("name");
    out.bulk(Buffer.from(con.name, "latin1"));
    out.bulk("pending");
    out.integer(con.pending);
    out.bulk("idle");
    out.integer(Math.max(0, Server.commandTime - con.seenTime));
  }
}

// Redis's text, line by line, between replyHelp()'s first and last lines.
const XINFO_HELP = [
  "CONSUMERS <key> <groupname>",
  "    Show consumers of <groupname>.",
  "GROUPS <key>",
  "    Show the stream consumer groups.",
  "STREAM <key> [FULL [COUNT <count>]",
  "    Show information about the stream.",
];

const XGROUP_HELP = [
  "CREATE <key> <groupname> <id|$> [option]",
  "    Create a new consumer group. Options are:",
  "    * MKSTREAM",
  "      Create the empty stream if it does not exist.",
  "    * ENTRIESREAD entries_read",
  "      Set the group's entries_read counter (internal use).",
  "CREATECONSUMER <key> <groupname> <consumer>",
  "    Create a new consumer in the specified group.",
  "DELCONSUMER <key> <groupname> <consumer>",
  "    Remove the specified consumer.",
  "DESTROY <key> <groupname>",
  "    Remove the specified group.",
  "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
  "    Set the current group ID and entries_read counter.",
];

/* ============================ The table ============================ */

const G = "stream";
const ONE_KEY: [number, number, number] = [1, 1, 1];
// XINFO STREAM key, XGROUP CREATE key: the key comes after the subcommand.
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
    handler: (c, argv) => xreadGeneric(c, argv, false),
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
    name: "xreadgroup",
    arity: -7,
    flags: ["write", "blocking", "movablekeys"],
    handler: (c, argv) => xreadGeneric(c, argv, true),
    keys: [0, 0, 0],
    group: G,
    summary:
      "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
    since: "5.0.0",
    complexity:
      "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
    syntax:
      "GROUP group_consumer=(group consumer) [COUNT count:integer] [BLOCK milliseconds:integer] [NOACK] STREAMS streams=(key:key... id...)",
  },
  {
    name: "xgroup",
    arity: -2,
    flags: [],
    group: G,
    summary: "A container for consumer groups commands",
    since: "5.0.0",
    complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "create",
        arity: -5,
        flags: ["write", "denyoom"],
        handler: xgroupCreate,
        keys: SUBCOMMAND_KEY,
        group: G,
        summary: "Create a consumer group.",
        since: "5.0.0",
        complexity: "O(1)",
        syntax: "key:key groupname id=(id|new_id=$) [MKSTREAM] [ENTRIESREAD entries_read:integer]",
        history: [["7.0.0", "Added the `entries_read` named argument."]],
      },
      {
        name: "setid",
        arity: -5,
        flags: ["write"],
        handler: xgroupSetid,
        keys: SUBCOMMAND_KEY,
        group: G,
        summary: "Set a consumer group to an arbitrary last delivered ID value.",
        since: "5.0.0",
        complexity: "O(1)",
        syntax: "key:key groupname id=(id|new_id=$) [ENTRIESREAD entries_read:integer]",
        history: [["7.0.0", "Added the optional `entries_read` argument."]],
      },
      {
        name: "destroy",
        arity: 4,
        flags: ["write"],
        handler: xgroupDestroy,
        keys: SUBCOMMAND_KEY,
        group: G,
        summary: "Destroy a consumer group.",
        since: "5.0.0",
        complexity:
          "O(N) where N is the number of entries in the group's pending entries list (PEL).",
        syntax: "key:key groupname",
      },
      {
        name: "createconsumer",
        arity: 5,
        flags: ["write", "denyoom"],
        handler: xgroupCreateConsumer,
        keys: SUBCOMMAND_KEY,
        group: G,
        summary: "Create a consumer in a consumer group.",
        since: "6.2.0",
        complexity: "O(1)",
        syntax: "key:key groupname consumername",
      },
      {
        name: "delconsumer",
        arity: 5,
        flags: ["write"],
        handler: xgroupDelConsumer,
        keys: SUBCOMMAND_KEY,
        group: G,
        summary: "Delete a consumer from a consumer group.",
        since: "5.0.0",
        complexity: "O(1)",
        syntax: "key:key groupname consumername",
      },
      {
        name: "help",
        arity: 2,
        flags: ["loading", "stale"],
        handler: (c, argv) => replyHelp(c, argv, XGROUP_HELP),
        group: G,
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        complexity: "O(1)",
      },
    ],
  },
  {
    name: "xack",
    arity: -4,
    flags: ["write", "fast"],
    handler: xack,
    keys: ONE_KEY,
    group: G,
    summary:
      "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
    since: "5.0.0",
    complexity: "O(1) for each message ID processed.",
    syntax: "key:key group id...",
  },
  {
    name: "xpending",
    arity: -3,
    flags: ["readonly"],
    handler: xpending,
    keys: ONE_KEY,
    group: G,
    summary:
      "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
    since: "5.0.0",
    tips: ["nondeterministic_output"],
    complexity:
      "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
    syntax:
      "key:key group [filters=([IDLE min-idle-time:integer@6.2.0] start end count:integer [consumer])]",
    history: [["6.2.0", "Added the `IDLE` option and exclusive range intervals."]],
  },
  {
    name: "xclaim",
    arity: -6,
    flags: ["write", "fast"],
    handler: xclaim,
    keys: ONE_KEY,
    group: G,
    summary:
      "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
    since: "5.0.0",
    tips: ["nondeterministic_output"],
    complexity: "O(log N) with N being the number of messages in the PEL of the consumer group.",
    syntax:
      "key:key group consumer min-idle-time id... [IDLE ms:integer] [TIME unix-time-milliseconds:unix-time] [RETRYCOUNT count:integer] [FORCE] [JUSTID] [LASTID id]",
  },
  {
    name: "xautoclaim",
    arity: -6,
    flags: ["write", "fast"],
    handler: xautoclaim,
    keys: ONE_KEY,
    group: G,
    summary:
      "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
    since: "6.2.0",
    tips: ["nondeterministic_output"],
    complexity: "O(1) if COUNT is small.",
    syntax: "key:key group consumer min-idle-time start [COUNT count:integer] [JUSTID]",
    history: [
      [
        "7.0.0",
        "Added an element to the reply array, containing deleted entries the command cleared from the PEL",
      ],
    ],
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
        name: "groups",
        arity: 3,
        flags: ["readonly"],
        handler: xinfoGroups,
        keys: SUBCOMMAND_KEY,
        group: G,
        summary: "List the consumer groups of a stream",
        since: "5.0.0",
        complexity: "O(1)",
        syntax: "key:key",
        history: [["7.0.0", "Added the `entries-read` and `lag` fields"]],
      },
      {
        name: "consumers",
        arity: 4,
        flags: ["readonly"],
        handler: xinfoConsumers,
        keys: SUBCOMMAND_KEY,
        group: G,
        summary: "List the consumers in a consumer group",
        since: "5.0.0",
        tips: ["nondeterministic_output"],
        complexity: "O(1)",
        syntax: "key:key groupname",
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
