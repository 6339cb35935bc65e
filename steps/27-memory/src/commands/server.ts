// commands/server.ts -- questions about the server: COMMAND, CONFIG, INFO, MEMORY, DBSIZE.
//
// Tools ask these before doing anything: redis-cli's interactive mode
// reads COMMAND DOCS for its hints, redis-benchmark reads CONFIG GET save
// and appendonly, ioredis sends INFO as a ready check. DBSIZE, FLUSHALL
// and INFO's keyspace section ask the keyspace (db.ts).

import { randomBytes } from "node:crypto";
import os from "node:os";
import { aofConfigParams, aofInfo } from "../aof.ts";
import { lower, SYNTAX_ERROR } from "../args.ts";
import { type Command, CommandError, type CommandSpec } from "../command.ts";
import { parseSyntax, replyDocArgs } from "../command-docs.ts";
import type { Value } from "../db.ts";
import { globMatch } from "../glob.ts";
import { parseInt64 } from "../int64.ts";
import { errorReplies } from "../resp.ts";
import { type Client, Server } from "../state.ts";
import { MAX_ID, MIN_ID, type StreamEntry } from "../stream.ts";
import { REDIS_VERSION } from "./connection.ts";

/* ---- COMMAND ---- */

// The command table, handed over by commands.ts once it is built: it
// imports this family, so this family does not import it back.
let commandTable: ReadonlyMap<string, Command> = new Map();

export function setCommandTable(table: ReadonlyMap<string, Command>): void {
  commandTable = table;
}

// ACL categories, in Redis's order. Most follow from the flags (write,
// readonly, admin, fast, blocking) and from the group (a string command is
// @string); the rest a row names in `acl` (FLUSHALL is @keyspace and
// @dangerous). The groups of later steps are here too, so that this table
// is written once.
const ACL_ORDER = [
  "keyspace",
  "read",
  "write",
  "set",
  "sortedset",
  "list",
  "hash",
  "string",
  "bitmap",
  "hyperloglog",
  "geo",
  "stream",
  "pubsub",
  "admin",
  "fast",
  "slow",
  "blocking",
  "dangerous",
  "connection",
  "transaction",
  "scripting",
];
const GROUP_CATEGORY: Record<string, string> = {
  generic: "keyspace",
  string: "string",
  list: "list",
  stream: "stream",
  pubsub: "pubsub",
  connection: "connection",
  transactions: "transaction",
};

function aclCategories(cmd: Command): string[] {
  const flags: string[] = cmd.flags;
  const has = new Set(cmd.acl ?? []);
  const group = GROUP_CATEGORY[cmd.group];
  if (group !== undefined) has.add(group);
  if (flags.includes("write")) has.add("write");
  if (flags.includes("readonly")) has.add("read");
  if (flags.includes("admin")) {
    has.add("admin");
    has.add("dangerous");
  }
  if (flags.includes("pubsub")) has.add("pubsub");
  has.add(flags.includes("fast") ? "fast" : "slow");
  if (flags.includes("blocking")) has.add("blocking");
  return ACL_ORDER.filter((cat) => has.has(cat));
}

// Flags in the order Redis prints them; "sentinel" it does not print.
const FLAG_ORDER = [
  "write",
  "readonly",
  "denyoom",
  "module",
  "admin",
  "pubsub",
  "noscript",
  "blocking",
  "loading",
  "stale",
  "skip_monitor",
  "skip_slowlog",
  "asking",
  "fast",
  "no_auth",
  "may_replicate",
  "no_mandatory_keys",
  "no_async_loading",
  "no_multi",
  "movablekeys",
  "allow_busy",
];

// One command as COMMAND INFO describes it: name, arity, flags, first key,
// last key, key step, ACL categories, tips, key specs, subcommands.
function replyCommandInfo(c: Client, cmd: Command): void {
  const out = c.out;
  out.array(10);
  out.bulk(cmd.fullname);
  out.integer(cmd.arity);
  const flags = FLAG_ORDER.filter((f) => (cmd.flags as string[]).includes(f));
  out.set(flags.length);
  for (const f of flags) out.simple(f);
  const [first, last, step] = cmd.keys ?? [0, 0, 0];
  out.integer(first);
  out.integer(last);
  out.integer(step);
  const categories = aclCategories(cmd);
  out.set(categories.length);
  for (const cat of categories) out.simple(`@${cat}`);
  const tips = cmd.tips ?? [];
  out.set(tips.length);
  for (const tip of tips) out.simple(tip);
  // No key specs (Redis's detailed description of where the keys are):
  // first/last/step above say it for simple commands. Not planned.
  out.set(0);
  const subs = cmd.sub === null ? [] : [...cmd.sub.values()];
  if (subs.length === 0) out.set(0);
  else out.array(subs.length);
  for (const s of subs) replyCommandInfo(c, s);
}

// One command as COMMAND DOCS describes it, the fields Redis has for it
// in Redis's order: what redis-cli's help and hints print.
function replyCommandDocs(c: Client, cmd: Command): void {
  const out = c.out;
  const subs = cmd.sub === null ? [] : [...cmd.sub.values()];
  const args = cmd.syntax === undefined ? undefined : parseSyntax(cmd.syntax);
  const optional = [
    cmd.complexity,
    cmd.docFlags,
    cmd.deprecatedSince,
    cmd.replacedBy,
    cmd.history,
    args,
    subs.length > 0 ? subs : undefined,
  ];
  out.map(3 + optional.filter((f) => f !== undefined).length);
  out.bulk("summary");
  out.bulk(cmd.summary);
  out.bulk("since");
  out.bulk(cmd.since);
  out.bulk("group");
  out.bulk(cmd.group);
  if (cmd.complexity !== undefined) {
    out.bulk("complexity");
    out.bulk(cmd.complexity);
  }
  if (cmd.docFlags !== undefined) {
    out.bulk("doc_flags");
    out.set(cmd.docFlags.length);
    for (const f of cmd.docFlags) out.simple(f);
  }
  if (cmd.deprecatedSince !== undefined) {
    out.bulk("deprecated_since");
    out.bulk(cmd.deprecatedSince);
  }
  if (cmd.replacedBy !== undefined) {
    out.bulk("replaced_by");
    out.bulk(cmd.replacedBy);
  }
  if (cmd.history !== undefined) {
    out.bulk("history");
    out.set(cmd.history.length); // A set in RESP3, as Redis sends it.
    for (const [version, change] of cmd.history) {
      out.array(2);
      out.bulk(version);
      out.bulk(change);
    }
  }
  if (args !== undefined) {
    out.bulk("arguments");
    replyDocArgs(out, args);
  }
  if (subs.length > 0) {
    out.bulk("subcommands");
    out.map(subs.length);
    for (const s of subs) {
      out.bulk(s.fullname);
      replyCommandDocs(c, s);
    }
  }
}

// "get" or "config|get", any case, as COMMAND INFO and DOCS name them.
// One level of subcommands only, as in Redis: "a|b|c" is nothing.
function lookup(name: Buffer): Command | undefined {
  const parts = lower(name).split("|");
  if (parts.length > 2) return undefined;
  const cmd = commandTable.get(parts[0]!);
  return parts.length === 1 ? cmd : cmd?.sub?.get(parts[1]!);
}

function command(c: Client): void {
  c.out.array(commandTable.size);
  for (const cmd of commandTable.values()) replyCommandInfo(c, cmd);
}

function commandInfo(c: Client, argv: Buffer[]): void {
  if (argv.length === 2) {
    command(c);
    return;
  }
  c.out.array(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const cmd = lookup(argv[j]!);
    if (cmd === undefined) c.out.null();
    else replyCommandInfo(c, cmd);
  }
}

function commandDocs(c: Client, argv: Buffer[]): void {
  const cmds: Command[] = [];
  if (argv.length === 2) cmds.push(...commandTable.values());
  else {
    for (let j = 2; j < argv.length; j++) {
      const cmd = lookup(argv[j]!);
      if (cmd !== undefined) cmds.push(cmd);
    }
  }
  c.out.map(cmds.length);
  for (const cmd of cmds) {
    c.out.bulk(cmd.fullname);
    replyCommandDocs(c, cmd);
  }
}

// Every command and subcommand, each subcommand after its container, as
// COMMAND LIST and INFO commandstats walk them.
function allCommands(): Command[] {
  const all: Command[] = [];
  for (const cmd of commandTable.values()) {
    all.push(cmd);
    if (cmd.sub !== null) all.push(...cmd.sub.values());
  }
  return all;
}

// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern].
// There are no modules, so a module filter keeps nothing.
function commandList(c: Client, argv: Buffer[]): void {
  let keep: (cmd: Command) => boolean = () => true;
  if (argv.length > 2) {
    const by = argv[3]?.toString("latin1").toLowerCase();
    if (argv.length !== 5 || lower(argv[2]!) !== "filterby") {
      throw new CommandError(SYNTAX_ERROR);
    }
    const arg = argv[4]!;
    if (by === "module") keep = () => false;
    else if (by === "aclcat") {
      const cat = lower(arg);
      keep = (cmd) => aclCategories(cmd).includes(cat);
    } else if (by === "pattern") keep = (cmd) => globMatch(arg, Buffer.from(cmd.fullname), true);
    else throw new CommandError(SYNTAX_ERROR);
  }
  const names = allCommands()
    .filter(keep)
    .map((cmd) => cmd.fullname);
  c.out.array(names.length);
  for (const name of names) c.out.bulk(name);
}

// The HELP of a container command: Redis's text, line by line.
function help(c: Client, lines: string[]): void {
  c.out.array(lines.length);
  for (const line of lines) c.out.simple(line);
}

const COMMAND_HELP = [
  "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "(no subcommand)",
  "    Return details about all Redis commands.",
  "COUNT",
  "    Return the total number of commands in this Redis server.",
  "LIST",
  "    Return a list of all commands in this Redis server.",
  "INFO [<command-name> ...]",
  "    Return details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "DOCS [<command-name> ...]",
  "    Return documentation details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "GETKEYS <full-command>",
  "    Return the keys from a full Redis command.",
  "GETKEYSANDFLAGS <full-command>",
  "    Return the keys and the access flags from a full Redis command.",
  "HELP",
  "    Prints this help.",
];

/* ---- CONFIG ---- */

// One row per parameter: its name, how to read its value now and, for
// the few this server can change while running, how to set it. `set`
// returns null once the value is in force, or Redis's reason for refusing
// it. A row without `set` is either immutable in Redis too (databases),
// protected (dir: Redis refuses it unless enable-protected-configs), or
// something this server does not do (timeout: it never closes idle
// clients); those accept only the value they already have.
interface ConfigParam {
  name: string;
  get: () => string;
  set?: (value: string) => string | null;
  // For a row without `set`: Redis's reason to refuse a malformed value,
  // checked before ours (that we cannot change it at all).
  check?: (value: string) => string | null;
  immutable?: true;
  protected?: true;
}

const LONG_MAX = 9223372036854775807n;

// Redis's memory values: "1048576", "1mb" (1024*1024), "1m" (1000*1000),
// "1gb", "1k" ... as a byte count; null if it is not one.
function parseMemory(value: string): bigint | null {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(value);
  if (m === null) return null;
  const unit = (m[2] ?? "b").toLowerCase();
  const mul = {
    b: 1n,
    k: 1000n,
    kb: 1024n,
    m: 1000n ** 2n,
    mb: 1024n ** 2n,
    g: 1000n ** 3n,
    gb: 1024n ** 3n,
  }[unit]!;
  return BigInt(m[1]!) * mul;
}

// A setter for a memory parameter of at least `min` bytes.
function memorySetter(
  min: bigint,
  apply: (bytes: number) => void,
): (value: string) => string | null {
  return (value) => {
    const n = parseMemory(value);
    if (n === null) return "argument must be a memory value";
    if (n < min || n > LONG_MAX) return `argument must be between ${min} and ${LONG_MAX} inclusive`;
    apply(Number(n));
    return null;
  };
}

const MB = 1024n * 1024n;

const MAXMEMORY_POLICIES = [
  "volatile-lru",
  "volatile-lfu",
  "volatile-random",
  "volatile-ttl",
  "allkeys-lru",
  "allkeys-lfu",
  "allkeys-random",
  "noeviction",
];

const CONFIG: ConfigParam[] = [
  { name: "bind", get: () => Server.config.bind },
  { name: "port", get: () => String(Server.config.port) },
  {
    name: "protected-mode",
    get: () => (Server.config.protectedMode ? "yes" : "no"),
    set: (v) => {
      if (!/^(yes|no)$/i.test(v)) return "argument must be 'yes' or 'no'";
      Server.config.protectedMode = v.toLowerCase() === "yes";
      return null;
    },
  },
  {
    // The default user's password. Setting it asks new connections for
    // it; the ones already open stay logged in, as in Redis.
    name: "requirepass",
    get: () => Server.config.requirepass?.toString("latin1") ?? "",
    set: (v) => {
      Server.config.requirepass = v === "" ? null : Buffer.from(v, "latin1");
      return null;
    },
  },
  { name: "databases", get: () => String(Server.config.databases), immutable: true },
  { name: "dir", get: () => process.cwd(), protected: true },
  {
    name: "timeout",
    get: () => "0",
    check: (v) =>
      /^(0|[1-9]\d*)$/.test(v) && Number(v) <= 2147483647
        ? null
        : /^-?\d+$/.test(v)
          ? "argument must be between 0 and 2147483647 inclusive"
          : "argument couldn't be parsed into an integer",
  },
  {
    name: "proto-max-bulk-len",
    get: () => String(Server.config.protoMaxBulkLen),
    set: memorySetter(MB, (n) => {
      Server.config.protoMaxBulkLen = n;
    }),
  },
  {
    name: "client-query-buffer-limit",
    get: () => String(Server.config.queryBufferLimit),
    set: memorySetter(MB, (n) => {
      Server.config.queryBufferLimit = n;
    }),
  },
  {
    name: "client-output-buffer-limit",
    get: () =>
      `normal 0 0 0 slave 268435456 67108864 60 pubsub ${Server.config.pubsubOutputLimit} ${Server.config.pubsubSoftLimit} ${Server.config.pubsubSoftSeconds}`,
  },
  { name: "save", get: () => "" },
  {
    name: "appendonly",
    get: () => "no",
    check: (v) => (/^(yes|no)$/i.test(v) ? null : "argument must be 'yes' or 'no'"),
  },
  {
    name: "maxmemory",
    get: () => "0",
    check: (v) => (parseMemory(v) === null ? "argument must be a memory value" : null),
  },
  {
    name: "maxmemory-policy",
    get: () => "noeviction",
    check: (v) =>
      MAXMEMORY_POLICIES.includes(v.toLowerCase())
        ? null
        : `argument(s) must be one of the following: ${MAXMEMORY_POLICIES.join(", ")}`,
  },
];

// The append-only file's settings (aof.ts) are rows too. Where a row of
// that name is above (appendonly, dir), its value now comes from aof.ts
// and its checks stay: a start flag, not something CONFIG SET changes.
for (const [name] of aofConfigParams()) {
  const get = () => aofConfigParams().find(([n]) => n === name)![1];
  const i = CONFIG.findIndex((p) => p.name === name);
  if (i === -1) CONFIG.push({ name, get });
  else CONFIG[i] = { ...CONFIG[i]!, get };
}

// CONFIG GET pattern [pattern ...]: every parameter matching any pattern,
// each once, as a map. Redis lists them in its hash table's order, which
// changes with every start (its hash function has a random seed): clients
// cannot count on any order.
function configGet(c: Client, argv: Buffer[]): void {
  const found: [string, string][] = [];
  for (const param of CONFIG) {
    const b = Buffer.from(param.name);
    for (let j = 2; j < argv.length; j++) {
      if (globMatch(argv[j]!, b, true)) {
        found.push([param.name, param.get()]);
        break;
      }
    }
  }
  c.out.map(found.length);
  for (const [name, value] of found) {
    c.out.bulk(name);
    c.out.bulk(value);
  }
}

// CONFIG SET parameter value [parameter value ...]: all of them or none.
// Every name is checked first, then every value; a value refused leaves
// the parameters set before it as they were.
function configSet(c: Client, argv: Buffer[]): void {
  if (argv.length % 2 !== 0) throw new CommandError(SYNTAX_ERROR);
  const failed = (name: string, why: string) =>
    new CommandError(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}`);
  const changes: [ConfigParam, string][] = [];
  for (let j = 2; j < argv.length; j += 2) {
    const name = argv[j]!.toString("latin1");
    const param = CONFIG.find((p) => p.name === name.toLowerCase());
    if (param === undefined) {
      throw new CommandError(
        `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`,
      );
    }
    if (param.immutable) throw failed(name, "can't set immutable config");
    if (param.protected) throw failed(name, "can't set protected config");
    if (changes.some(([p]) => p === param)) throw failed(name, "duplicate parameter");
    changes.push([param, argv[j + 1]!.toString("latin1")]);
  }
  const before = changes.map(([p]) => p.get());
  for (let i = 0; i < changes.length; i++) {
    const [param, value] = changes[i]!;
    let why: string | null = null;
    if (param.set !== undefined) why = param.set(value);
    else why = param.check?.(value) ?? null;
    if (why === null && param.set === undefined && value.toLowerCase() !== param.get()) {
      why = "this server cannot change it while running";
    }
    if (why !== null) {
      for (let k = 0; k < i; k++) changes[k]![0].set?.(before[k]!);
      throw failed(param.name, why);
    }
  }
  c.out.ok();
}

// CONFIG RESETSTAT: zero what INFO counts (stats, commandstats,
// errorstats), as Redis's resetServerStats() does.
function configResetStat(c: Client): void {
  const s = Server.stats;
  for (const k of Object.keys(s) as (keyof typeof s)[]) s[k] = 0;
  for (const cmd of allCommands()) {
    cmd.calls = 0;
    cmd.usec = 0;
    cmd.rejectedCalls = 0;
    cmd.failedCalls = 0;
  }
  errorReplies.total = 0;
  errorReplies.byCode.clear();
  memoryPeak = 0;
  c.out.ok();
}

const CONFIG_HELP = [
  "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "GET <pattern>",
  "    Return parameters matching the glob-like <pattern> and their values.",
  "SET <directive> <value>",
  "    Set the configuration <directive> to <value>.",
  "RESETSTAT",
  "    Reset statistics reported by the INFO command.",
  "REWRITE",
  "    Rewrite the configuration file.",
  "HELP",
  "    Prints this help.",
];

/* ---- INFO ---- */

type Field = [string, string | number];

// Sizes as Redis's bytesToHuman() prints them: "1015.45K", "6.95M".
function human(n: number): string {
  const units = ["B", "K", "M", "G", "T", "P"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n}B` : `${v.toFixed(2)}${units[i]}`;
}

// Made once per start, as Redis's run_id and replication ID are.
const randomHex = (): string => randomBytes(20).toString("hex");
const RUN_ID = randomHex();
const REPL_ID = randomHex();

// The largest used_memory INFO has seen (Redis samples it in its cron; we
// sample it whenever INFO asks, so a short spike between two INFOs is missed).
let memoryPeak = 0;

// What the JavaScript heap and the buffers outside it hold: Node's view
// of what Redis calls used_memory (what its allocator handed out).
function usedMemory(): number {
  const m = process.memoryUsage();
  const used = m.heapUsed + m.external;
  memoryPeak = Math.max(memoryPeak, used);
  return used;
}

function seconds(usec: number): string {
  return (usec / 1e6).toFixed(6);
}

// One section's lines, by Redis's name for it; null for a name we do not
// have. Only Redis 7.0's field names, and only the fields whose figures
// this server really knows.
function infoFields(name: string): Field[] | null {
  const now = Date.now();
  const uptime = Math.floor((now - Server.startTime) / 1000);
  const s = Server.stats;
  switch (name) {
    case "server":
      return [
        ["redis_version", REDIS_VERSION],
        ["redis_mode", "standalone"],
        ["os", `${os.type()} ${os.release()} ${os.machine()}`],
        ["arch_bits", 64],
        ["multiplexing_api", "epoll"],
        ["process_id", process.pid],
        ["process_supervised", "no"],
        ["run_id", RUN_ID],
        ["tcp_port", Server.config.port],
        ["server_time_usec", Math.round((performance.timeOrigin + performance.now()) * 1000)],
        ["uptime_in_seconds", uptime],
        ["uptime_in_days", Math.floor(uptime / 86400)],
        ["executable", process.argv[1] ?? ""],
        ["config_file", ""],
        ["io_threads_active", 0],
      ];
    case "clients":
      return [
        ["connected_clients", Server.clients.size],
        ["cluster_connections", 0],
        ["blocked_clients", Server.blocking.blockedClients],
        ["tracking_clients", 0],
      ];
    case "memory": {
      const used = usedMemory();
      const rss = process.memoryUsage.rss();
      const total = os.totalmem();
      return [
        ["used_memory", used],
        ["used_memory_human", human(used)],
        ["used_memory_rss", rss],
        ["used_memory_rss_human", human(rss)],
        ["used_memory_peak", memoryPeak],
        ["used_memory_peak_human", human(memoryPeak)],
        ["used_memory_peak_perc", `${((used / memoryPeak) * 100).toFixed(2)}%`],
        ["total_system_memory", total],
        ["total_system_memory_human", human(total)],
        ["maxmemory", 0],
        ["maxmemory_human", "0B"],
        ["maxmemory_policy", "noeviction"],
        ["mem_fragmentation_ratio", (rss / used).toFixed(2)],
        ["mem_allocator", "libc"],
      ];
    }
    case "persistence":
      return aofInfo();
    case "stats":
      return [
        ["total_connections_received", s.connections],
        ["total_commands_processed", s.commands],
        ["total_net_input_bytes", s.netInput],
        ["total_net_output_bytes", s.netOutput],
        ["rejected_connections", 0],
        ["evicted_keys", 0],
        ["pubsub_channels", Server.pubsub.channels.count],
        ["pubsub_patterns", Server.pubsub.patterns.count],
        ["total_error_replies", errorReplies.total],
        ["total_reads_processed", s.reads],
        ["total_writes_processed", s.writes],
      ];
    case "replication":
      return [
        ["role", "master"],
        ["connected_slaves", 0],
        ["master_failover_state", "no-failover"],
        ["master_replid", REPL_ID],
        ["master_replid2", "0".repeat(40)],
        ["master_repl_offset", 0],
        ["second_repl_offset", -1],
        ["repl_backlog_active", 0],
        ["repl_backlog_size", 1048576],
        ["repl_backlog_first_byte_offset", 0],
        ["repl_backlog_histlen", 0],
      ];
    case "cpu": {
      const cpu = process.cpuUsage();
      return [
        ["used_cpu_sys", seconds(cpu.system)],
        ["used_cpu_user", seconds(cpu.user)],
        ["used_cpu_sys_children", seconds(0)],
        ["used_cpu_user_children", seconds(0)],
      ];
    }
    case "modules":
      return [];
    case "commandstats":
      return allCommands()
        .filter((cmd) => cmd.calls > 0 || cmd.rejectedCalls > 0 || cmd.failedCalls > 0)
        .map((cmd) => [
          `cmdstat_${cmd.fullname}`,
          `calls=${cmd.calls},usec=${cmd.usec},usec_per_call=${(cmd.calls === 0 ? 0 : cmd.usec / cmd.calls).toFixed(2)},rejected_calls=${cmd.rejectedCalls},failed_calls=${cmd.failedCalls}`,
        ]);
    case "errorstats":
      return [...errorReplies.byCode].map(([code, n]) => [`errorstat_${code}`, `count=${n}`]);
    case "cluster":
      return [["cluster_enabled", 0]];
    case "keyspace": {
      // One line per database that has keys; an empty one is not listed.
      return Server.dbs
        .filter((db) => db.size > 0)
        .map(
          (db): Field => [
            `db${db.id}`,
            `keys=${db.size},expires=${db.expiringCount},avg_ttl=${db.avgTtl}`,
          ],
        );
    }
    default:
      return null;
  }
}

// Redis's section names and titles, in its order. "default" is every one
// but commandstats; "all" and "everything" are every one.
const SECTIONS: [string, string][] = [
  ["server", "Server"],
  ["clients", "Clients"],
  ["memory", "Memory"],
  ["persistence", "Persistence"],
  ["stats", "Stats"],
  ["replication", "Replication"],
  ["cpu", "CPU"],
  ["modules", "Modules"],
  ["commandstats", "Commandstats"],
  ["errorstats", "Errorstats"],
  ["cluster", "Cluster"],
  ["keyspace", "Keyspace"],
];

// INFO [section ...]: each named section once, in Redis's order; a name
// it does not know adds nothing.
function info(c: Client, argv: Buffer[]): void {
  const wanted = new Set(argv.slice(1).map((a) => lower(a)));
  const all = wanted.has("all") || wanted.has("everything");
  const defaults = wanted.size === 0 || wanted.has("default");
  const parts: string[] = [];
  for (const [name, title] of SECTIONS) {
    const chosen = all || wanted.has(name) || (defaults && name !== "commandstats");
    if (!chosen) continue;
    const fields = infoFields(name)!;
    parts.push(`# ${title}\r\n${fields.map(([k, v]) => `${k}:${v}\r\n`).join("")}`);
  }
  c.out.verbatim(parts.join("\r\n"));
}

/* ---- MEMORY USAGE ---- */

// What a key costs in this process, estimated, since JavaScript cannot
// weigh an object: the key's slot in the keyspace (Map entry, entry record,
// the key string) and each Buffer's object, plus the bytes themselves.
// redis-cli --memkeys sorts keys by it. Redis's own figure counts its
// allocator's chunks instead, so the two differ.
const ENTRY_BYTES = 120;
const BUFFER_BYTES = 80;

// `samples`: how many elements of a collection to weigh (0: all); the
// rest are taken to weigh as much on average, as Redis does.
function valueBytes(v: Value, samples: number): number {
  switch (v.type) {
    case "string":
      return BUFFER_BYTES + v.value.length;
    case "list": {
      // The ring's slots, then the elements: a sample from the head.
      const list = v.value;
      const some = list.range(0, samples === 0 ? -1 : samples - 1);
      return 8 * list.capacity + averageOf(some, buffersBytes) * list.length;
    }
    case "stream": {
      // The entries (ID, field array, Buffers): a sample from the first;
      // then each group's pending entries and consumers.
      const s = v.value;
      const some = s.range(MIN_ID, MAX_ID, samples);
      const entry = (e: StreamEntry) =>
        64 + 8 * e.fields.length + averageOf(e.fields, buffersBytes) * e.fields.length;
      let bytes = averageOf(some, entry) * s.length;
      for (const g of s.groups()) bytes += 200 + 64 * g.pel.size + 100 * g.consumers().length;
      return bytes;
    }
  }
}

function buffersBytes(b: Buffer): number {
  return BUFFER_BYTES + b.length;
}

// The average of weigh(item) over `items` (0 for none).
function averageOf<T>(items: readonly T[], weigh: (item: T) => number): number {
  if (items.length === 0) return 0;
  let sum = 0;
  for (const item of items) sum += weigh(item);
  return sum / items.length;
}

// MEMORY USAGE key [SAMPLES count]: the estimate, or nil if no such key.
function memoryUsage(c: Client, argv: Buffer[]): void {
  let samples = 5;
  for (let j = 3; j < argv.length; j++) {
    if (lower(argv[j]!) === "samples" && j + 1 < argv.length) {
      const n = parseInt64(argv[++j]!);
      if (n === null) throw new CommandError("ERR value is not an integer or out of range");
      if (n < 0n) throw new CommandError(SYNTAX_ERROR);
      samples = Number(n);
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  const v = Server.db.lookup(argv[2]!);
  if (v === undefined) {
    c.out.null();
    return;
  }
  c.out.integer(Math.round(ENTRY_BYTES + argv[2]!.length + valueBytes(v, samples)));
}

const MEMORY_HELP = [
  "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DOCTOR",
  "    Return memory problems reports.",
  "MALLOC-STATS",
  "    Return internal statistics report from the memory allocator.",
  "PURGE",
  "    Attempt to purge dirty pages for reclamation by the allocator.",
  "STATS",
  "    Return information about the memory usage of the server.",
  "USAGE <key> [SAMPLES <count>]",
  "    Return memory in bytes used by <key> and its value. Nested values are",
  "    sampled up to <count> times (default: 5, 0 means sample all).",
  "HELP",
  "    Prints this help.",
];

/* ---- The keyspace ---- */

// FLUSHALL/FLUSHDB [ASYNC|SYNC]: drop every key. ASYNC frees the memory in
// a background thread in Redis; here both free it now.
function flush(c: Client, argv: Buffer[]): void {
  if (argv.length > 2) throw new CommandError(SYNTAX_ERROR);
  if (argv.length === 2) {
    const mode = lower(argv[1]!);
    if (mode !== "async" && mode !== "sync") throw new CommandError(SYNTAX_ERROR);
  }
  // FLUSHALL empties every database, FLUSHDB only the caller's.
  if (lower(argv[0]!) === "flushall") {
    for (const db of Server.dbs) db.flush();
  } else {
    Server.db.flush();
  }
  c.out.ok();
}

const G = "server";

export const serverCommands: CommandSpec[] = [
  {
    name: "command",
    arity: -1,
    flags: ["loading", "stale", "sentinel"],
    handler: command,
    group: G,
    acl: ["connection"],
    summary: "Get array of Redis command details",
    since: "2.8.13",
    tips: ["nondeterministic_output_order"],
    complexity: "O(N) where N is the total number of Redis commands",
    subcommands: [
      {
        name: "count",
        arity: 2,
        flags: ["loading", "stale", "sentinel"],
        handler: (c) => c.out.integer(commandTable.size),
        group: G,
        acl: ["connection"],
        summary: "Get total number of Redis commands",
        since: "2.8.13",
        complexity: "O(1)",
      },
      {
        name: "docs",
        arity: -2,
        flags: ["loading", "stale", "sentinel"],
        handler: commandDocs,
        group: G,
        acl: ["connection"],
        summary: "Get array of specific Redis command documentation",
        since: "7.0.0",
        tips: ["nondeterministic_output_order"],
        complexity: "O(N) where N is the number of commands to look up",
        syntax: "[command-name...]",
      },
      {
        name: "info",
        arity: -2,
        flags: ["loading", "stale", "sentinel"],
        handler: commandInfo,
        group: G,
        acl: ["connection"],
        summary: "Get array of specific Redis command details, or all when no argument is given.",
        since: "2.8.13",
        tips: ["nondeterministic_output_order"],
        complexity: "O(N) where N is the number of commands to look up",
        syntax: "[command-name...]",
        history: [["7.0.0", "Allowed to be called with no argument to get info on all commands."]],
      },
      {
        name: "list",
        arity: -2,
        flags: ["loading", "stale", "sentinel"],
        handler: commandList,
        group: G,
        acl: ["connection"],
        summary: "Get an array of Redis command names",
        since: "7.0.0",
        tips: ["nondeterministic_output_order"],
        complexity: "O(N) where N is the total number of Redis commands",
        syntax: "[FILTERBY filterby=(MODULE module-name|ACLCAT category|PATTERN pattern:pattern)]",
      },
      {
        name: "help",
        arity: 2,
        flags: ["loading", "stale"],
        handler: (c) => help(c, COMMAND_HELP),
        group: G,
        acl: ["connection"],
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        complexity: "O(1)",
      },
    ],
  },
  {
    name: "config",
    arity: -2,
    flags: [],
    group: G,
    summary: "A container for server configuration commands",
    since: "2.0.0",
    complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "get",
        arity: -3,
        flags: ["admin", "noscript", "loading", "stale"],
        handler: configGet,
        group: G,
        summary: "Get the values of configuration parameters",
        since: "2.0.0",
        complexity: "O(N) when N is the number of configuration parameters provided",
        syntax: "parameter=(parameter)...",
        history: [["7.0.0", "Added the ability to pass multiple pattern parameters in one call"]],
      },
      {
        name: "set",
        arity: -4,
        flags: ["admin", "noscript", "loading", "stale"],
        handler: configSet,
        group: G,
        summary: "Set configuration parameters to the given values",
        since: "2.0.0",
        tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
        complexity: "O(N) when N is the number of configuration parameters provided",
        syntax: "parameter_value=(parameter value)...",
        history: [["7.0.0", "Added the ability to set multiple parameters in one call."]],
      },
      {
        name: "resetstat",
        arity: 2,
        flags: ["admin", "noscript", "loading", "stale"],
        handler: configResetStat,
        group: G,
        summary: "Reset the stats returned by INFO",
        since: "2.0.0",
        complexity: "O(1)",
      },
      {
        name: "rewrite",
        arity: 2,
        flags: ["admin", "noscript", "loading", "stale"],
        handler: () => {
          throw new CommandError("ERR The server is running without a config file");
        },
        group: G,
        summary: "Rewrite the configuration file with the in memory configuration",
        since: "2.8.0",
        complexity: "O(1)",
      },
      {
        name: "help",
        arity: 2,
        flags: ["loading", "stale"],
        handler: (c) => help(c, CONFIG_HELP),
        group: G,
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        complexity: "O(1)",
      },
    ],
  },
  {
    name: "info",
    arity: -1,
    flags: ["loading", "stale", "sentinel"],
    handler: info,
    group: G,
    acl: ["dangerous"],
    summary: "Get information and statistics about the server",
    since: "1.0.0",
    tips: ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
    complexity: "O(1)",
    syntax: "[section...]",
    history: [["7.0.0", "Added support for taking multiple section arguments."]],
  },
  {
    name: "dbsize",
    arity: 1,
    flags: ["readonly", "fast"],
    handler: (c) => c.out.integer(Server.db.size),
    group: G,
    acl: ["keyspace"],
    summary: "Return the number of keys in the selected database",
    since: "1.0.0",
    tips: ["request_policy:all_shards", "response_policy:agg_sum"],
    complexity: "O(1)",
  },
  {
    name: "flushall",
    arity: -1,
    flags: ["write"],
    handler: flush,
    group: G,
    acl: ["keyspace", "dangerous"],
    summary: "Remove all keys from all databases",
    since: "1.0.0",
    tips: ["request_policy:all_shards", "response_policy:all_succeeded"],
    complexity: "O(N) where N is the total number of keys in all databases",
    syntax: "[async=(ASYNC@4.0.0|SYNC@6.2.0)]",
    history: [
      ["4.0.0", "Added the `ASYNC` flushing mode modifier."],
      ["6.2.0", "Added the `SYNC` flushing mode modifier."],
    ],
  },
  {
    name: "flushdb",
    arity: -1,
    flags: ["write"],
    handler: flush,
    group: G,
    acl: ["keyspace", "dangerous"],
    summary: "Remove all keys from the current database",
    since: "1.0.0",
    tips: ["request_policy:all_shards", "response_policy:all_succeeded"],
    complexity: "O(N) where N is the number of keys in the selected database",
    syntax: "[async=(ASYNC@4.0.0|SYNC@6.2.0)]",
    history: [
      ["4.0.0", "Added the `ASYNC` flushing mode modifier."],
      ["6.2.0", "Added the `SYNC` flushing mode modifier."],
    ],
  },
  {
    name: "memory",
    arity: -2,
    flags: [],
    group: G,
    summary: "A container for memory diagnostics commands",
    since: "4.0.0",
    complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "usage",
        arity: -3,
        flags: ["readonly"],
        handler: memoryUsage,
        keys: [2, 2, 1],
        group: G,
        summary: "Estimate the memory usage of a key",
        since: "4.0.0",
        complexity: "O(N) where N is the number of samples.",
        syntax: "key:key [SAMPLES count:integer]",
      },
      {
        name: "help",
        arity: 2,
        flags: ["loading", "stale"],
        handler: (c) => help(c, MEMORY_HELP),
        group: G,
        summary: "Show helpful text about the different subcommands",
        since: "4.0.0",
        complexity: "O(1)",
      },
    ],
  },
];
