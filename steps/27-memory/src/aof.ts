// aof.ts -- persistence: an append-only file of every write, in Redis 7's own format.
//
// Until now the dataset lived only in memory: a restart, a crash or kill -9
// lost all of it. The cure is the oldest trick of databases, write-ahead
// logging: before we tell a client "done", we write down what its command
// changed, in a file that only ever grows at the end. After a crash we read
// the file from the top and run every command again; the keyspace comes
// back exactly as it was after the last logged command. The log's format
// is the protocol itself (RESP): the loader is the command table we have.
//
// Three questions make the lesson:
//
// - *What* to log. Not what the client sent but what it did: replaying
//   must give the same result later, so everything relative is made
//   absolute (EXPIRE 10 becomes PEXPIREAT <ms>), everything chosen by the
//   server is written down (XADD * becomes XADD <the ID it chose>), a
//   served BLPOP is the LPOP it performed, and reads and writes that
//   changed nothing leave no trace. Redis rewrites the command in its
//   handler (rewriteClientCommandVector); we keep those rewrites in one
//   table below (REWRITES), so the lesson stays in one file.
// - *When* it is on disk. write(2) puts bytes in the kernel's page cache:
//   they survive our process dying (kill -9) but not the machine losing
//   power. fsync(2) waits until the disk has them, and costs milliseconds.
//   appendfsync chooses: "always" fsyncs before any reply of the loop
//   iteration leaves (one fsync for every client served in the iteration:
//   group commit); "everysec" lets a thread of libuv's pool fsync once a
//   second, the loop never waits, at most about a second is at risk; "no"
//   leaves it to the kernel.
// - *How big* it gets. A counter INCRed a million times is a million
//   lines for one number. Rewriting writes the dataset as it is now, one
//   command per key, into a new base file, while the server keeps
//   serving; see "Rewriting" below for how we get a point-in-time view
//   without fork().
//
// The files are Redis 7.0's (aof-use-rdb-preamble no): a directory
// (appenddirname) holding a manifest that names a base file and the
// incremental files logged since, so redis-server can load what we write
// and we can load what it writes.

import fs from "node:fs";
import path from "node:path";
import { log } from "@smallchat/shared/chatlib";
import type { CommandSpec } from "./command.ts";
import { type Db, fromKey, type Key, toKey } from "./db.ts";
import type { List } from "./list.ts";
import { type Client, Server } from "./state.ts";
import { formatId, MAX_ID, MIN_ID, type Stream } from "./stream.ts";

/* ============================ Settings ==================================== */

// The settings, by their Redis names, as given (--appendonly yes) and as
// CONFIG GET shows them: each with its default and the values it takes.
// Only the RESP form of the base file is written: Redis's default RDB
// preamble is a binary format this tutorial does not teach.
const SETTINGS: [name: string, value: string, valid: RegExp][] = [
  ["appendonly", "no", /^(yes|no)$/],
  ["appendfilename", "appendonly.aof", /./],
  ["appenddirname", "appendonlydir", /./],
  ["appendfsync", "everysec", /^(always|everysec|no)$/],
  ["dir", ".", /./],
  ["auto-aof-rewrite-percentage", "100", /^\d+$/], // Growth over the base to rewrite at; 0: never.
  ["auto-aof-rewrite-min-size", String(64 * 1024 * 1024), /^\d+$/],
  ["aof-load-truncated", "yes", /^(yes|no)$/],
  ["aof-use-rdb-preamble", "no", /^no$/],
];
const settings = Object.fromEntries(SETTINGS.map(([name, value]) => [name, value]));

// The command-line flags, for server.ts's parseArgs.
export const aofOptions = Object.fromEntries(
  SETTINGS.map(([name]) => [name, { type: "string" as const }]),
);

export function configureAof(values: Record<string, unknown>): void {
  for (const [name, , valid] of SETTINGS) {
    const v = values[name];
    if (typeof v !== "string") continue;
    if (!valid.test(v)) throw new Error(`invalid --${name}: ${v}`);
    settings[name] = v;
  }
}

// For CONFIG GET (commands/server.ts): dir is shown absolute, as Redis does.
export function aofConfigParams(): [string, string][] {
  return Object.entries(settings).map(([k, v]) => [k, k === "dir" ? path.resolve(v) : v]);
}

export const aofEnabled = (): boolean => settings.appendonly === "yes";

/* ============================ State ======================================= */

interface ManifestFile {
  name: string;
  seq: number;
  type: "b" | "i";
}

const state = {
  manifest: [] as ManifestFile[],
  fd: -1, // The incremental file we append to.
  buffer: [] as Buffer[], // Logged this iteration, written before replies leave.
  lastDb: -1, // The database of the last command logged (-1: none yet).
  currentSize: 0, // aof_current_size: base + incrementals.
  baseSize: 0, // aof_base_size, after the last rewrite or load.
  unsynced: false, // Written since the last fsync.
  fsyncInFlight: false,
  lastFsync: 0,
  rewrites: 0,
  lastRewriteStatus: "ok",
  lastRewriteSeconds: -1,
  loadedKeys: 0,
  loadTruncated: false,
};

const dirPath = (): string => path.join(settings.dir!, settings.appenddirname!);
const filePath = (name: string): string => path.join(dirPath(), name);

/* ============================ What to log =================================
 * call() (commands.ts) brackets every command with beginCommand() and
 * endCommand(). Meanwhile the databases' event hooks tell us whether the
 * command changed anything (a "dirty" write), which keys, and in which
 * database. A command that changed nothing is not logged. One that did is
 * logged through its rewrite, if REWRITES has one, else as it was sent.
 * Commands run by one EXEC, or a lazily expired key's DEL and the command
 * that found it, form one unit: Redis 7.0 wraps a unit of more than one
 * command in MULTI ... EXEC so that loading applies it whole or not at all.
 * ======================================================================== */

type Argv = (Buffer | string)[];
// A command to log, or a key changed, with the database it was in: a unit
// may span several (SELECT inside MULTI, a key expiring in another one).
type InDb<T> = { db: number; it: T };

let depth = 0; // Nested call()s: EXEC runs its queue through call().
let dirty = 0; // Key events that changed data, since the server started.
let touched: InDb<Key>[] = []; // Keys changed in the current unit, in order.
let unit: InDb<Argv>[] = []; // Commands logged in the current unit.
let flushed = false; // The unit flushed (or swapped) a database (see Rewriting).
let swapped = false; // The unit ran a SWAPDB (see Rewriting).
// Blocked clients and the command they wait in: logged when served.
const waiting = new WeakMap<Client, Buffer[]>();

// Every database has its own key events: loadAof() listens to each, once
// createDatabases() (server.ts) has made them, and each event says which.
// With appendonly no nothing listens, so nothing is logged.
function watch(db: Db): void {
  db.onKeyEvent((event, key) => {
    if (Server.loading) return;
    if (event === "expire") {
      // A key whose time came is deleted here and now: the log says so, as
      // Redis propagates a DEL, so replaying never depends on the clock.
      unit.push({ db: db.id, it: ["DEL", fromKey(key!)] });
      touched.push({ db: db.id, it: key! });
      if (depth === 0) commitUnit();
      return;
    }
    dirty++;
    if (key === null) flushed = true;
    else touched.push({ db: db.id, it: key });
  });
}

export type Mark = { dirty: number; touched: number };

export function beginCommand(): Mark {
  depth++;
  return { dirty, touched: touched.length };
}

export function endCommand(c: Client, argv: Buffer[], mark: Mark): void {
  depth--;
  if (Server.loading) return;
  if (c.blocked) waiting.set(c, argv);
  else if (dirty !== mark.dirty) {
    const name = low(argv[0]);
    if (name === "swapdb") swapped = true;
    // EXEC's commands were logged one by one, inside this unit.
    if (name !== "exec") logAs(c, argv, touched.slice(mark.touched));
  }
  if (depth === 0) commitUnit();
}

// Add the command to the unit, through its rewrite if it has one, in the
// client's database: a SELECT goes before it when that is not the last
// one logged (commitUnit), as Redis does.
function logAs(c: Client, argv: Buffer[], keys: InDb<Key>[]): void {
  const cmds = REWRITES[low(argv[0])]?.(argv, keys) ?? [argv];
  for (const it of cmds) unit.push({ db: c.db, it });
}

// A blocked client was served (or timed out: then nothing changed). The
// blocking manager calls this the moment it leaves the queue (state.ts).
Server.afterUnblock = (c: Client): void => {
  const argv = waiting.get(c);
  waiting.delete(c);
  if (argv === undefined || depth > 0) return;
  if (touched.length > 0) logAs(c, argv, touched);
  commitUnit();
};

// The unit is complete: encode it into the buffer that the loop writes
// before it sends any reply (flushAof()).
function commitUnit(): void {
  let cmds = unit;
  const [keys, wasFlush, wasSwap] = [touched, flushed, swapped];
  unit = [];
  touched = [];
  flushed = swapped = false;
  if (cmds.length === 0) return;
  // During a rewrite, a key's first change is logged as its whole new
  // value; a unit that flushed a database keeps its commands and adds
  // those values; a SWAPDB restarts the rewrite (see Rewriting).
  const r = rw;
  if (r !== null && !wasSwap && keys.some((k) => !r.dumped[k.db]!.has(k.it))) {
    const dumps: InDb<Argv>[] = [];
    for (const k of new Map(keys.map((k) => [`${k.db}:${k.it}`, k])).values()) {
      r.dumped[k.db]!.add(k.it);
      dumps.push({ db: k.db, it: ["DEL", fromKey(k.it)] });
      for (const it of serializeKey(k.db, k.it)) dumps.push({ db: k.db, it });
    }
    cmds = wasFlush ? [...cmds, ...dumps] : dumps;
  }
  const out: Buffer[] = [];
  // The first command's database goes before MULTI, then each change.
  const select = (db: number): void => {
    if (db === state.lastDb) return;
    out.push(encode(["SELECT", String(db)]));
    state.lastDb = db;
  };
  select(cmds[0]!.db);
  if (cmds.length > 1) out.push(encode(["MULTI"]));
  for (const cmd of cmds) {
    select(cmd.db);
    out.push(encode(cmd.it));
  }
  if (cmds.length > 1) out.push(encode(["EXEC"]));
  state.buffer.push(...out);
  if (r !== null && wasSwap) {
    log("SWAPDB during the AOF rewrite: starting it again");
    dropRewrite(r);
    startRewrite();
  }
}

// One command in RESP, as Redis writes it: *<argc>, then $<len> <bytes>.
function encode(argv: Argv): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
  for (const a of argv) {
    const b = typeof a === "string" ? Buffer.from(a, "latin1") : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF);
  }
  return Buffer.concat(parts);
}
const CRLF = Buffer.from("\r\n");

/* ============================ Rewrites ====================================
 * What Redis 7.0.15 logs instead of the command sent (checked by reading
 * the files a real redis-server writes). Each gets the argv and the keys
 * the command changed, in order, and returns the commands to log.
 * ======================================================================== */

type Rewrite = (argv: Buffer[], keys: InDb<Key>[]) => Argv[];

const low = (b: Buffer | undefined): string => b?.toString("latin1").toLowerCase() ?? "";
const num = (b: Buffer): number => Number(b.toString("latin1"));
const now = (): number => Server.commandTime;

// An expiry argument as an absolute time in ms (EX 10 -> now + 10000).
function absolute(unit: string, b: Buffer): number {
  const n = num(b);
  if (unit === "ex") return now() + n * 1000;
  if (unit === "px") return now() + n;
  if (unit === "exat") return n * 1000;
  return n; // pxat
}

// SET k v [EX|PX|EXAT|PXAT t] ... -> SET k v PXAT <ms> when it had an expiry.
function setRewrite(argv: Buffer[]): Argv[] {
  const i = argv.findIndex((a, j) => j > 2 && /^(ex|px|exat|pxat)$/.test(low(a)));
  if (i < 0) return [argv];
  return [["SET", argv[1]!, argv[2]!, "PXAT", String(absolute(low(argv[i]), argv[i + 1]!))]];
}

// EXPIRE k t [NX|XX|GT|LT] -> PEXPIREAT k <ms> [flag], or DEL when in the past.
function expireRewrite(unit: string): Rewrite {
  return (argv) => {
    const at = absolute(unit, argv[2]!);
    if (at <= now()) return [["DEL", argv[1]!]];
    return [["PEXPIREAT", argv[1]!, String(at), ...argv.slice(3)]];
  };
}

// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] t] [LIMIT n] *|id f v ... (and
// XTRIM, its options alone): the ID chosen is written down, and an
// approximate trim becomes the exact trim it amounted to, so that
// replaying removes the same entries. Redis rewrites those words in place
// and keeps the rest, LIMIT too (its loader, and ours, ignore it there):
// so the line is Redis's, byte for byte.
function xaddRewrite(argv: Buffer[]): Argv[] {
  const s = Server.db.lookup(argv[1]!)!.value as Stream;
  const out: Argv = [...argv];
  let i = 2;
  for (; i < argv.length; i++) {
    const o = low(argv[i]);
    if (o === "limit") i++;
    else if (o === "maxlen" || o === "minid") {
      const op = low(argv[i + 1]);
      if (op === "~") {
        out[i + 1] = "=";
        out[i + 2] = o === "maxlen" ? String(s.length) : formatId(s.firstId);
      }
      i += op === "~" || op === "=" ? 2 : 1;
    } else if (o !== "nomkstream") break;
  }
  if (low(argv[0]) === "xadd") out[i] = formatId(s.lastId);
  return [out];
}

// XREADGROUP GROUP g c [COUNT n] [BLOCK ms] ... STREAMS ...: replayed, it
// must not block.
function xreadgroupRewrite(argv: Buffer[]): Argv[] {
  const streams = argv.findIndex((a, j) => j > 3 && low(a) === "streams");
  const i = argv.findIndex((a, j) => j > 3 && j < streams && low(a) === "block");
  return i < 0 ? [argv] : [[...argv.slice(0, i), ...argv.slice(i + 2)]];
}

const REWRITES: Record<string, Rewrite> = {
  set: setRewrite,
  getdel: (a) => [["DEL", a[1]!]],
  expire: expireRewrite("ex"),
  pexpire: expireRewrite("px"),
  expireat: expireRewrite("exat"),
  pexpireat: (a) => (num(a[2]!) <= now() ? [["DEL", a[1]!]] : [a]),
  incrbyfloat: (a) => [["SET", a[1]!, Server.db.get(a[1]!, "string")!, "KEEPTTL"]],
  // Blocking pops: the pop they performed, on the key they served from.
  blpop: (_a, keys) => [["LPOP", fromKey(keys[0]!.it)]],
  brpop: (_a, keys) => [["RPOP", fromKey(keys[0]!.it)]],
  blmove: (a) => [["LMOVE", ...a.slice(1, 5)]],
  brpoplpush: (a) => [["RPOPLPUSH", a[1]!, a[2]!]],
  xadd: xaddRewrite,
  xtrim: xaddRewrite,
  xreadgroup: xreadgroupRewrite,
};

/* ============================ Writing to disk ============================= */

// Called by the loop before it sends the replies of this iteration
// (Redis's beforeSleep -> flushAppendOnlyFile): one write for everything
// logged, and with "always" one fsync, so that no reply leaves before its
// command is on disk, and one fsync serves every client of the iteration.
export function flushAof(): void {
  if (state.buffer.length === 0) return;
  const data = Buffer.concat(state.buffer);
  state.buffer = [];
  try {
    writeAll(state.fd, data);
    state.currentSize += data.length;
    if (settings.appendfsync === "always") fs.fsyncSync(state.fd);
    else state.unsynced = true;
    if (settings.appendfsync === "everysec") fsyncInBackground();
  } catch (err) {
    // Redis stops accepting writes when it cannot log them; we are
    // simpler and stop the server: acknowledging what is not logged would
    // be the one thing persistence must never do.
    log(`Error writing to the AOF file: ${(err as Error).message}. Exiting.`);
    process.exit(1);
  }
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off);
}

// everysec: at most one fsync in flight, at most one per second, run by
// a thread of libuv's pool (fs.fsync), so the loop never waits on the disk.
function fsyncInBackground(): void {
  if (!state.unsynced || state.fsyncInFlight || Date.now() - state.lastFsync < 1000) return;
  const fd = state.fd;
  state.unsynced = false;
  state.fsyncInFlight = true;
  fs.fsync(fd, (err) => {
    state.fsyncInFlight = false;
    state.lastFsync = Date.now();
    if (err && fd === state.fd) state.unsynced = true;
  });
}

// From serverCron, ten times a second: the everysec fsync when nothing
// was written lately, and the automatic rewrite.
export function aofCron(): void {
  if (state.fd < 0) return;
  if (settings.appendfsync === "everysec") fsyncInBackground();
  const pct = Number(settings["auto-aof-rewrite-percentage"]);
  const min = Number(settings["auto-aof-rewrite-min-size"]);
  if (rw === null && pct > 0 && state.currentSize > min) {
    const base = Math.max(state.baseSize, 1);
    if (((state.currentSize - base) * 100) / base >= pct) startRewrite();
  }
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, "r");
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

/* ============================ The manifest ================================
 * appendonly.aof.manifest, one line per file, base first:
 *   file appendonly.aof.1.base.aof seq 1 type b
 *   file appendonly.aof.1.incr.aof seq 1 type i
 * It is replaced atomically: written to a temporary file, fsynced, renamed
 * over the old one (rename is atomic), and the directory fsynced.
 * ======================================================================== */

const manifestName = (): string => `${settings.appendfilename}.manifest`;

// The base or incremental file after the manifest's last of that type.
function nextFile(type: "b" | "i"): ManifestFile {
  const seq = Math.max(0, ...state.manifest.filter((f) => f.type === type).map((f) => f.seq)) + 1;
  const name = `${settings.appendfilename}.${seq}.${type === "b" ? "base" : "incr"}.aof`;
  return { name, seq, type };
}

function writeManifest(files: ManifestFile[]): void {
  const text = files.map((f) => `file ${f.name} seq ${f.seq} type ${f.type}\n`).join("");
  const tmp = filePath(`temp-${manifestName()}`);
  fs.writeFileSync(tmp, text);
  fsyncPath(tmp);
  fs.renameSync(tmp, filePath(manifestName()));
  fsyncPath(dirPath());
  state.manifest = files;
}

function readManifest(): ManifestFile[] | null {
  const file = filePath(manifestName());
  if (!fs.existsSync(file)) return null;
  const files: ManifestFile[] = [];
  for (const line of fs.readFileSync(file, "latin1").split("\n")) {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) continue;
    const m = /^file (\S+) seq (\d+) type ([bhi])$/.exec(t);
    if (m === null) throw new Error(`Invalid AOF manifest file format: ${t}`);
    // Type h (history) is a file a rewrite replaced, left to delete.
    if (m[3] !== "h") files.push({ name: m[1]!, seq: Number(m[2]), type: m[3] as "b" | "i" });
  }
  return files;
}

// From now on, log to `incr`; a new one is added to the manifest.
function openIncr(incr: ManifestFile, why: string): void {
  const old = state.fd;
  // The old file's last writes reach the disk off the loop, then it closes.
  if (old >= 0) fs.fsync(old, () => fs.close(old, () => {}));
  state.fd = fs.openSync(filePath(incr.name), "a");
  state.lastDb = -1; // A new file starts with SELECT.
  if (state.manifest.includes(incr)) return;
  log(`Creating AOF incr file ${incr.name} on ${why}`);
  writeManifest([...state.manifest, incr]);
}

// aof_base_size and aof_current_size: the files the manifest names.
function measure(): void {
  const sizes = state.manifest.map((f) => fs.statSync(filePath(f.name)).size);
  state.baseSize = sizes[0]!;
  state.currentSize = sizes.reduce((a, b) => a + b, 0);
}

/* ============================ Loading =====================================
 * At startup, before the port is open: run every command of the base and
 * the incremental files, in manifest order, through the command table.
 * Redis's rules for damage: the last command of the last file cut short
 * (the machine died in the middle of a write) is cut off and the start
 * goes on (aof-load-truncated yes); anything else that is not a command
 * stops the start, naming the file and the offset.
 * ======================================================================== */

type Executor = (c: Client, argv: Buffer[]) => boolean;

export function loadAof(execute: Executor, client: Client): void {
  for (const db of Server.dbs) watch(db);
  fs.mkdirSync(dirPath(), { recursive: true });
  const files = readManifest();
  if (files === null) {
    // First start: an empty base (and an incremental file, below), as Redis does.
    const base = nextFile("b");
    fs.writeFileSync(filePath(base.name), "");
    log(`Creating AOF base file ${base.name} on server start`);
    state.manifest = [base];
  } else {
    state.manifest = files;
    const start = performance.now();
    Server.loading = true;
    for (const [i, f] of files.entries()) loadFile(f, i === files.length - 1, execute, client);
    Server.loading = false;
    state.loadedKeys = Server.dbs.reduce((n, db) => n + db.size, 0);
    log(
      `DB loaded from append only file: ${((performance.now() - start) / 1000).toFixed(3)} seconds`,
    );
  }
  openIncr(state.manifest.findLast((f) => f.type === "i") ?? nextFile("i"), "server start");
  measure();
}

function loadFile(f: ManifestFile, last: boolean, execute: Executor, c: Client): void {
  const data = fs.readFileSync(filePath(f.name));
  c.db = 0; // Each file starts in database 0 (Redis loads each with a new client).
  let pos = 0;
  let multiAt = -1; // Offset of an open MULTI: torn there if EXEC never comes.
  while (pos < data.length) {
    const r = parseCommand(data, pos);
    if (r === "torn") break;
    if (r === "bad") {
      throw new Error(
        `Bad file format reading the append only file ${f.name} at offset ${pos}: ` +
          `make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>`,
      );
    }
    const name = low(r.argv[0]);
    if (name === "multi") multiAt = pos;
    else if (name === "exec") multiAt = -1;
    if (!execute(c, r.argv)) {
      throw new Error(
        `Unknown command '${r.argv[0]!.toString("latin1")}' reading the append only file ${f.name} at offset ${pos}`,
      );
    }
    c.out.take(); // Nobody reads the replies of a load.
    pos = r.end;
  }
  Server.pendingWrites.delete(c);
  // The file ends in the middle of a command (or of a MULTI): keep what is
  // whole, as Redis does with aof-load-truncated yes.
  const at = multiAt >= 0 ? multiAt : pos;
  if (at === data.length) return;
  if (!last || settings["aof-load-truncated"] === "no") {
    throw new Error(
      `Unexpected end of file reading the append only file ${f.name} at offset ${at}. ` +
        `You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. ` +
        `2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`,
    );
  }
  log(`!!! Warning: short read while loading the AOF file ${f.name}!!!`);
  log(`!!! Truncating the AOF ${f.name} at offset ${at} (${data.length - at} bytes cut) !!!`);
  fs.truncateSync(filePath(f.name), at);
  log("AOF loaded anyway because aof-load-truncated is enabled");
  state.loadTruncated = true;
}

// One "*N\r\n($len\r\n bytes \r\n)*N" command from data at pos: its
// arguments and where it ends, "torn" if the data ends inside it, "bad"
// if it is not a command at all.
function parseCommand(data: Buffer, pos: number): { argv: Buffer[]; end: number } | "torn" | "bad" {
  const line = (p: number, prefix: number): { n: number; next: number } | "torn" | "bad" => {
    if (p >= data.length) return "torn";
    if (data[p] !== prefix) return "bad";
    const eol = data.indexOf("\r\n", p);
    if (eol < 0) return data.length - p > 32 ? "bad" : "torn";
    const n = Number(data.toString("latin1", p + 1, eol));
    return Number.isInteger(n) && n >= 0 ? { n, next: eol + 2 } : "bad";
  };
  const head = line(pos, 0x2a); // '*'
  if (typeof head === "string") return head;
  if (head.n < 1) return "bad";
  const argv: Buffer[] = [];
  let p = head.next;
  for (let i = 0; i < head.n; i++) {
    const bulk = line(p, 0x24); // '$'
    if (typeof bulk === "string") return bulk;
    const end = bulk.next + bulk.n;
    if (end + 2 > data.length) return "torn";
    if (data[end] !== 0x0d || data[end + 1] !== 0x0a) return "bad";
    argv.push(Buffer.from(data.subarray(bulk.next, end))); // A copy: values are kept.
    p = end + 2;
  }
  return { argv, end: p };
}

/* ============================ Rewriting ===================================
 * Redis rewrites in a fork()ed child: the child sees the memory as it was
 * at the fork (the kernel copies a page only when the parent writes to it)
 * and writes it out, while the parent logs new writes. Node has no fork().
 * We get the same point-in-time result another way:
 *
 * 1. At the start, open a new incremental file; from now on every write
 *    is logged there (and the manifest lists it, so a crash during the
 *    rewrite loads old base + old incr + new incr: nothing is lost).
 * 2. Walk the keyspace with SCAN's cursor, database after database, a
 *    slice of a few milliseconds per turn of the event loop, writing each
 *    key as commands into a temporary base file. Clients are served
 *    between slices.
 * 3. A key changed during the walk may be written by the walk before or
 *    after its change: the base alone is not a snapshot. So the first time
 *    a key (a database and a name) changes during the rewrite, the new
 *    incremental file gets its whole new value (DEL key, then the commands
 *    that rebuild it) instead of the command; later changes are logged as
 *    usual. Replayed, that DEL wipes whatever the base said about the key,
 *    and the rebuild plus the later commands give its current value. A key
 *    that never changed is in the base as it was when the walk began.
 * 3b. FLUSHDB and FLUSHALL are logged as they are, followed by the whole
 *    value of every key the unit changed: replayed, the flush wipes what
 *    the base says of that database; a key the walk meets after the flush
 *    was made after it, and is in the new file whole (the walk skips it).
 * 3c. SWAPDB moves every key to another database at once: the base would
 *    have some under the old number, some under the new. So the rewrite
 *    starts again, with one more incremental file, from database 0; until
 *    one finishes, the manifest names the old files and every incremental
 *    file since, each an exact log. The walk so far is wasted; a client
 *    swapping more often than a walk takes keeps it from ending.
 * 4. When the walk is done: fsync the base, rename it into place, write a
 *    manifest naming the new base and the new incremental file, delete
 *    the old files. Renames and the manifest swap are atomic: a crash at
 *    any moment leaves a manifest whose files hold the whole dataset.
 *
 * The price: a big key changed during a rewrite is copied out once (a
 * million-element list LPUSHed costs one long write). Copy-on-write per
 * key, before the change, would log less; it needs a hook in every writer.
 * ======================================================================== */

// A rewrite under way; making one opens its temporary base file.
class RewriteJob {
  db = 0; // The database being walked,
  cursor = 0; // and the SCAN cursor in it.
  dumped = Server.dbs.map(() => new Set<Key>()); // Keys the new incr file holds whole.
  tmp = filePath(`temp-rewriteaof-bg-${process.pid}.aof`);
  fd = fs.openSync(this.tmp, "w");
  base = nextFile("b");
  incr = nextFile("i");
  started = Date.now();
  stallMax = 0; // Longest slice, ms of wall time.
  cpuMax = 0; // The same in CPU time: what is left when the machine is busy.
}

let rw: RewriteJob | null = null;
const SLICE_MS = 5; // Budget of one slice of the walk.
const ITEMS_PER_CMD = 64; // Redis's AOF_REWRITE_ITEMS_PER_CMD.

// BGREWRITEAOF and the automatic rewrite. False if one is running.
function startRewrite(): boolean {
  if (rw !== null) return false;
  fs.mkdirSync(dirPath(), { recursive: true });
  const r = new RewriteJob();
  flushAof(); // What was logged so far belongs to the old file.
  if (aofEnabled()) openIncr(r.incr, "background rewrite");
  rw = r;
  log("Background append only file rewriting started");
  setImmediate(rewriteSlice, r);
  return true;
}

function rewriteSlice(r: RewriteJob): void {
  if (rw !== r) return; // Dropped meanwhile (a SWAPDB restarted the rewrite).
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const chunks: Buffer[] = [];
  try {
    do {
      // Each database that has keys starts with its SELECT, as in Redis.
      const db = Server.dbs[r.db]!;
      if (r.cursor === 0 && db.size > 0) chunks.push(encode(["SELECT", String(r.db)]));
      const [next, keys] = db.scan(r.cursor, 100);
      for (const key of keys) {
        const k = toKey(key);
        if (r.dumped[r.db]!.has(k)) continue; // The new incr file has it whole.
        for (const argv of serializeKey(r.db, k)) chunks.push(encode(argv));
      }
      r.cursor = next;
      if (next === 0) r.db++;
    } while (r.db < Server.dbs.length && performance.now() - t0 < SLICE_MS);
    writeAll(r.fd, Buffer.concat(chunks));
  } catch (err) {
    failRewrite(r, err as Error);
    return;
  }
  r.stallMax = Math.max(r.stallMax, performance.now() - t0);
  const cpu = process.cpuUsage(cpu0);
  r.cpuMax = Math.max(r.cpuMax, (cpu.user + cpu.system) / 1000);
  if (r.db < Server.dbs.length) setImmediate(rewriteSlice, r);
  // A SWAPDB may restart the rewrite while this fsync runs: then it is not ours.
  else fs.fsync(r.fd, (err) => rw === r && (err ? failRewrite(r, err) : finishRewrite(r)));
}

function failRewrite(r: RewriteJob, err: Error): void {
  log(`Background AOF rewrite failed: ${err.message}`);
  dropRewrite(r);
  state.lastRewriteStatus = "err";
}

function dropRewrite(r: RewriteJob): void {
  fs.closeSync(r.fd);
  fs.rmSync(r.tmp, { force: true });
  rw = null;
}

function finishRewrite(r: RewriteJob): void {
  fs.closeSync(r.fd);
  flushAof();
  fs.renameSync(r.tmp, filePath(r.base.name));
  const old = state.manifest;
  writeManifest(aofEnabled() ? [r.base, r.incr] : [r.base]);
  for (const f of old) {
    if (!state.manifest.includes(f)) fs.rmSync(filePath(f.name), { force: true });
  }
  measure();
  state.rewrites++;
  state.lastRewriteStatus = "ok";
  state.lastRewriteSeconds = Math.round((Date.now() - r.started) / 1000);
  rw = null;
  log(
    `Background AOF rewrite finished successfully (longest slice ${r.stallMax.toFixed(1)} ms, ` +
      `${r.cpuMax.toFixed(1)} ms of CPU)`,
  );
}

/* ============================ A key as commands ===========================
 * The commands that rebuild one key, as Redis's rewriteAppendOnlyFile
 * writes them: SET for a string, RPUSH of up to 64 elements for a list,
 * XADD per entry then the groups for a stream, PEXPIREAT for an expiry.
 * ======================================================================== */

function serializeKey(dbIndex: number, k: Key): Argv[] {
  const db = Server.dbs[dbIndex]!;
  const key = fromKey(k);
  const v = db.lookup(key);
  if (v === undefined) return [];
  const out: Argv[] = [];
  if (v.type === "string") out.push(["SET", key, v.value as Buffer]);
  else if (v.type === "stream") serializeStream(key, v.value as Stream, out);
  else {
    const items = (v.value as List).toArray();
    for (let i = 0; i < items.length; i += ITEMS_PER_CMD) {
      out.push(["RPUSH", key, ...items.slice(i, i + ITEMS_PER_CMD)]);
    }
  }
  const at = db.expireTime(key);
  if (at >= 0) out.push(["PEXPIREAT", key, String(at)]);
  return out;
}

function serializeStream(key: Buffer, s: Stream, out: Argv[]): void {
  const entries = s.range(MIN_ID, MAX_ID);
  // An empty stream keeps its last ID: Redis's trick, an XADD that trims itself away.
  if (entries.length === 0) out.push(["XADD", key, "MAXLEN", "0", formatId(s.lastId), "x", "y"]);
  for (const e of entries) out.push(["XADD", key, formatId(e.id), ...e.fields]);
  for (const g of s.groups()) {
    const name = Buffer.from(g.name, "latin1");
    const read = String(g.entriesRead);
    out.push(["XGROUP", "CREATE", key, name, formatId(g.lastId), "ENTRIESREAD", read]);
    for (const c of g.consumers()) {
      out.push(["XGROUP", "CREATECONSUMER", key, name, Buffer.from(c.name, "latin1")]);
    }
    for (const [id, p] of g.pel.from()) {
      if (p.consumer === null) continue;
      const who = Buffer.from(p.consumer.name, "latin1");
      const at = ["TIME", String(p.deliveryTime), "RETRYCOUNT", String(p.deliveryCount)];
      out.push(["XCLAIM", key, name, who, "0", formatId(id), ...at, "JUSTID", "FORCE"]);
    }
  }
}

/* ============================ INFO and commands =========================== */

export function aofInfo(): [string, string | number][] {
  const rewriting = rw === null ? -1 : Math.floor((Date.now() - rw.started) / 1000);
  return [
    ["loading", 0],
    ["async_loading", 0],
    ["rdb_changes_since_last_save", dirty],
    ["rdb_bgsave_in_progress", 0],
    ["rdb_last_save_time", Math.floor(Server.startTime / 1000)],
    ["rdb_last_bgsave_status", "ok"],
    ["rdb_last_bgsave_time_sec", -1],
    ["rdb_current_bgsave_time_sec", -1],
    ["rdb_saves", 0],
    ["aof_enabled", aofEnabled() ? 1 : 0],
    ["aof_rewrite_in_progress", rw === null ? 0 : 1],
    ["aof_rewrite_scheduled", 0],
    ["aof_last_rewrite_time_sec", state.lastRewriteSeconds],
    ["aof_current_rewrite_time_sec", rewriting],
    ["aof_last_bgrewrite_status", state.lastRewriteStatus],
    ["aof_rewrites", state.rewrites],
    ["aof_last_write_status", "ok"], // A failed write stops the server.
    // Not in Redis: what the last start loaded, and whether it cut a torn tail.
    ["aof_last_load_keys_loaded", state.loadedKeys],
    ["aof_last_load_truncated", state.loadTruncated ? 1 : 0],
    ...(aofEnabled()
      ? ([
          ["aof_current_size", state.currentSize],
          ["aof_base_size", state.baseSize],
          ["aof_pending_rewrite", 0],
          ["aof_buffer_length", 0],
          ["aof_pending_bio_fsync", state.fsyncInFlight ? 1 : 0],
          ["aof_delayed_fsync", 0],
        ] as [string, number][])
      : []),
  ];
}

function bgrewriteaof(c: Client): void {
  if (startRewrite()) c.out.simple("Background append only file rewriting started");
  else c.out.error("ERR Background append only file rewriting already in progress");
}

export const aofCommands: CommandSpec[] = [
  {
    name: "bgrewriteaof",
    arity: 1,
    flags: ["admin", "noscript"],
    handler: bgrewriteaof,
    group: "server",
    summary: "Asynchronously rewrites the append-only file to disk.",
    since: "1.0.0",
  },
];
