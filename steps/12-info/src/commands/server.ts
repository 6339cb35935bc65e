// commands/server.ts -- questions about the server: CONFIG, INFO, DBSIZE.
//
// Tools ask these before doing anything: redis-benchmark reads CONFIG GET
// save and appendonly, ioredis sends INFO as a ready check. The keyspace is empty
// in this step (keys arrive in step 15), so DBSIZE is 0 and FLUSHALL has
// nothing to flush.

import { randomBytes } from "node:crypto";
import os from "node:os";
import { lower, SYNTAX_ERROR } from "../args.ts";
import { type Command, CommandError, type CommandSpec } from "../command.ts";
import { globMatch } from "../glob.ts";
import { errorReplies } from "../resp.ts";
import { type Client, Server } from "../state.ts";
import { REDIS_VERSION } from "./connection.ts";

/* ---- The command table ---- */

// The command table, handed over by commands.ts once it is built: it
// imports this family, so this family does not import it back.
let commandTable: ReadonlyMap<string, Command> = new Map();

export function setCommandTable(table: ReadonlyMap<string, Command>): void {
  commandTable = table;
}

// Every command and subcommand, each subcommand after its container, as
// INFO commandstats walks them.
function allCommands(): Command[] {
  const all: Command[] = [];
  for (const cmd of commandTable.values()) {
    all.push(cmd);
    if (cmd.sub !== null) all.push(...cmd.sub.values());
  }
  return all;
}

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
    get: () => "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
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

// The HELP of a container command: Redis's text, line by line.
function help(c: Client, lines: string[]): void {
  c.out.array(lines.length);
  for (const line of lines) c.out.simple(line);
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

// The persistence section: there is no persistence in this step, so these
// are the figures of a Redis with `save ""` and `appendonly no`. A step
// that adds persistence replaces the lines it makes true.
function persistenceFields(): Field[] {
  return [
    ["loading", 0],
    ["async_loading", 0],
    ["rdb_bgsave_in_progress", 0],
    ["rdb_last_save_time", Math.floor(Server.startTime / 1000)],
    ["rdb_last_bgsave_status", "ok"],
    ["rdb_last_bgsave_time_sec", -1],
    ["rdb_current_bgsave_time_sec", -1],
    ["rdb_saves", 0],
    ["aof_enabled", 0],
    ["aof_rewrite_in_progress", 0],
    ["aof_rewrite_scheduled", 0],
    ["aof_last_rewrite_time_sec", -1],
    ["aof_current_rewrite_time_sec", -1],
    ["aof_last_bgrewrite_status", "ok"],
    ["aof_rewrites", 0],
    ["aof_last_write_status", "ok"],
  ];
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
        ["blocked_clients", 0],
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
      return persistenceFields();
    case "stats":
      return [
        ["total_connections_received", s.connections],
        ["total_commands_processed", s.commands],
        ["total_net_input_bytes", s.netInput],
        ["total_net_output_bytes", s.netOutput],
        ["rejected_connections", 0],
        ["evicted_keys", 0],
        ["pubsub_channels", 0],
        ["pubsub_patterns", 0],
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
    case "keyspace":
      return [];
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

/* ---- The keyspace, empty for now ---- */

// FLUSHALL/FLUSHDB [ASYNC|SYNC]. Naive on purpose: there is no keyspace,
// so there is nothing to flush and DBSIZE is always 0. Step 15 fixes this.
function flush(c: Client, argv: Buffer[]): void {
  if (argv.length > 2) throw new CommandError(SYNTAX_ERROR);
  if (argv.length === 2) {
    const mode = lower(argv[1]!);
    if (mode !== "async" && mode !== "sync") throw new CommandError(SYNTAX_ERROR);
  }
  c.out.ok();
}

export const serverCommands: CommandSpec[] = [
  {
    name: "config",
    arity: -2,
    flags: [],
    subcommands: [
      {
        name: "get",
        arity: -3,
        flags: ["admin", "noscript", "loading", "stale"],
        handler: configGet,
      },
      {
        name: "set",
        arity: -4,
        flags: ["admin", "noscript", "loading", "stale"],
        handler: configSet,
      },
      {
        name: "resetstat",
        arity: 2,
        flags: ["admin", "noscript", "loading", "stale"],
        handler: configResetStat,
      },
      {
        name: "rewrite",
        arity: 2,
        flags: ["admin", "noscript", "loading", "stale"],
        handler: () => {
          throw new CommandError("ERR The server is running without a config file");
        },
      },
      {
        name: "help",
        arity: 2,
        flags: ["loading", "stale"],
        handler: (c) => help(c, CONFIG_HELP),
      },
    ],
  },
  {
    name: "info",
    arity: -1,
    flags: ["loading", "stale", "sentinel"],
    handler: info,
  },
  {
    name: "dbsize",
    arity: 1,
    flags: ["readonly", "fast"],
    handler: (c) => c.out.integer(0),
  },
  {
    name: "flushall",
    arity: -1,
    flags: ["write"],
    handler: flush,
  },
  {
    name: "flushdb",
    arity: -1,
    flags: ["write"],
    handler: flush,
  },
];
