// commands/server.ts -- questions about the server: COMMAND, CONFIG GET, INFO, DBSIZE.
//
// Tools ask these before doing anything: redis-cli's interactive mode
// reads COMMAND DOCS for its hints, redis-benchmark reads CONFIG GET save
// and appendonly, ioredis sends INFO as a ready check. DBSIZE, FLUSHALL
// and INFO's keyspace section ask the keyspace (db.ts).

import { type Command, CommandError, type CommandSpec, commandTable } from "../commands.ts";
import { globMatch } from "../glob.ts";
import { type Client, Server } from "../state.ts";
import { REDIS_VERSION } from "./connection.ts";

/* ---- COMMAND ---- */

// ACL categories, in Redis's order (pubsub, admin, fast/slow, dangerous,
// connection), derived from the group and the flags.
function aclCategories(cmd: Command): string[] {
  const admin = cmd.flags.includes("admin");
  return [
    ...(cmd.group === "pubsub" ? ["@pubsub"] : []),
    ...(admin ? ["@admin"] : []),
    cmd.flags.includes("fast") ? "@fast" : "@slow",
    ...(admin ? ["@dangerous"] : []),
    ...(cmd.group === "connection" ? ["@connection"] : []),
  ];
}

// One command as COMMAND INFO describes it: name, arity, flags, first key,
// last key, key step, ACL categories, tips, key specs, subcommands.
function replyCommandInfo(c: Client, cmd: Command): void {
  const out = c.out;
  out.array(10);
  out.bulk(cmd.fullname);
  out.integer(cmd.arity);
  const flags = cmd.flags.filter((f) => f !== "sentinel"); // Redis does not show that one.
  out.set(flags.length);
  for (const f of flags) out.simple(f);
  const [first, last, step] = cmd.keys ?? [0, 0, 0];
  out.integer(first);
  out.integer(last);
  out.integer(step);
  const categories = aclCategories(cmd);
  out.set(categories.length);
  for (const cat of categories) out.simple(cat);
  out.set(0); // Tips.
  out.set(0); // Key specs: none of these commands takes a key. (Redis sends an empty set.)
  const subs = cmd.sub === null ? [] : [...cmd.sub.values()];
  if (subs.length === 0) out.set(0);
  else out.array(subs.length);
  for (const s of subs) replyCommandInfo(c, s);
}

// One command as COMMAND DOCS describes it: enough for redis-cli's help.
function replyCommandDocs(c: Client, cmd: Command): void {
  const out = c.out;
  const subs = cmd.sub === null ? [] : [...cmd.sub.values()];
  out.map(subs.length > 0 ? 4 : 3);
  out.bulk("summary");
  out.bulk(cmd.summary);
  out.bulk("since");
  out.bulk(cmd.since);
  out.bulk("group");
  out.bulk(cmd.group);
  if (subs.length > 0) {
    out.bulk("subcommands");
    out.map(subs.length);
    for (const s of subs) {
      out.bulk(s.fullname);
      replyCommandDocs(c, s);
    }
  }
}

function lookup(name: Buffer): Command | undefined {
  const [base, sub] = name.toString("latin1").toLowerCase().split("|");
  const cmd = commandTable.get(base!);
  return sub === undefined ? cmd : cmd?.sub?.get(sub);
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

/* ---- CONFIG GET ---- */

// The parameters CONFIG GET knows, with their values now. Read-only.
function configParams(): [string, string][] {
  const cfg = Server.config;
  return [
    ["bind", cfg.bind],
    ["port", String(cfg.port)],
    ["protected-mode", cfg.protectedMode ? "yes" : "no"],
    ["requirepass", cfg.requirepass?.toString("latin1") ?? ""],
    ["databases", String(cfg.databases)],
    ["proto-max-bulk-len", String(cfg.protoMaxBulkLen)],
    ["client-query-buffer-limit", String(cfg.queryBufferLimit)],
    [
      "client-output-buffer-limit",
      `normal 0 0 0 slave 268435456 67108864 60 pubsub ${cfg.pubsubOutputLimit} ${cfg.pubsubSoftLimit} ${cfg.pubsubSoftSeconds}`,
    ],
    ["save", ""],
    ["appendonly", "no"],
    ["maxmemory", "0"],
  ];
}

// CONFIG GET pattern [pattern ...]: every parameter matching any pattern,
// each once, as a map.
function configGet(c: Client, argv: Buffer[]): void {
  const found: [string, string][] = [];
  for (const [name, value] of configParams()) {
    const b = Buffer.from(name);
    for (let j = 2; j < argv.length; j++) {
      if (globMatch(argv[j]!, b, true)) {
        found.push([name, value]);
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

/* ---- INFO ---- */

function infoSection(name: string): string | null {
  const now = Date.now();
  const uptime = Math.floor((now - Server.startTime) / 1000);
  const s = Server.stats;
  let fields: [string, string | number][];
  switch (name) {
    case "server":
      fields = [
        ["redis_version", REDIS_VERSION],
        ["redis_mode", "standalone"],
        ["os", `${process.platform} ${process.arch}`],
        ["arch_bits", 64],
        ["multiplexing_api", "epoll"],
        ["process_id", process.pid],
        ["tcp_port", Server.config.port],
        ["uptime_in_seconds", uptime],
        ["uptime_in_days", Math.floor(uptime / 86400)],
        ["executable", process.argv[1] ?? ""],
      ];
      break;
    case "clients":
      fields = [
        ["connected_clients", Server.clients.size],
        ["blocked_clients", 0],
        ["pubsub_clients", [...Server.clients.values()].filter((c) => c.pubsub).length],
      ];
      break;
    case "stats":
      fields = [
        ["total_connections_received", s.connections],
        ["total_commands_processed", s.commands],
        ["total_net_input_bytes", s.netInput],
        ["total_net_output_bytes", s.netOutput],
        ["rejected_calls", s.rejectedCalls],
        ["pubsub_channels", Server.pubsub.channels.count],
        ["pubsub_patterns", Server.pubsub.patterns.count],
        ["client_output_buffer_limit_disconnections", s.pubsubDropped],
        ["total_reads_processed", s.reads],
        ["total_writes_processed", s.writes],
      ];
      break;
    case "keyspace": {
      // One line per database that has keys; an empty one is not listed.
      fields = Server.dbs
        .filter((db) => db.size > 0)
        .map((db) => [
          `db${db.id}`,
          `keys=${db.size},expires=${db.expiringCount},avg_ttl=${db.avgTtl}`,
        ]);
      break;
    }
    default:
      return null;
  }
  const title = name[0]!.toUpperCase() + name.slice(1);
  return `# ${title}\r\n${fields.map(([k, v]) => `${k}:${v}\r\n`).join("")}`;
}

const ALL_SECTIONS = ["server", "clients", "stats", "keyspace"];

// INFO [section ...]: "default", "all" and "everything" mean every section.
function info(c: Client, argv: Buffer[]): void {
  let wanted = argv.slice(1).map((a) => a.toString("latin1").toLowerCase());
  if (
    wanted.length === 0 ||
    wanted.some((w) => w === "default" || w === "all" || w === "everything")
  ) {
    wanted = ALL_SECTIONS;
  }
  const parts: string[] = [];
  for (const name of ALL_SECTIONS) {
    if (!wanted.includes(name)) continue;
    const text = infoSection(name);
    if (text !== null) parts.push(text);
  }
  c.out.verbatim(parts.join("\r\n"));
}

/* ---- The keyspace ---- */

// FLUSHALL/FLUSHDB [ASYNC|SYNC]: drop every key. ASYNC frees the memory in
// a background thread in Redis; here both free it now.
function flush(c: Client, argv: Buffer[]): void {
  if (argv.length > 2) throw new CommandError("ERR syntax error");
  if (argv.length === 2) {
    const mode = argv[1]!.toString("latin1").toLowerCase();
    if (mode !== "async" && mode !== "sync") throw new CommandError("ERR syntax error");
  }
  // FLUSHALL empties every database, FLUSHDB only the caller's.
  if (argv[0]!.toString("latin1").toLowerCase() === "flushall") {
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
    summary: "Returns detailed information about all commands.",
    since: "2.8.13",
    subcommands: [
      {
        name: "count",
        arity: 2,
        flags: ["loading", "stale", "sentinel"],
        handler: (c) => c.out.integer(commandTable.size),
        group: G,
        summary: "Returns a count of commands.",
        since: "2.8.13",
      },
      {
        name: "docs",
        arity: -2,
        flags: ["loading", "stale", "sentinel"],
        handler: commandDocs,
        group: G,
        summary: "Returns documentary information about one, multiple or all commands.",
        since: "7.0.0",
      },
      {
        name: "info",
        arity: -2,
        flags: ["loading", "stale", "sentinel"],
        handler: commandInfo,
        group: G,
        summary: "Returns information about one, multiple or all commands.",
        since: "2.8.13",
      },
      {
        name: "list",
        arity: -2,
        flags: ["loading", "stale", "sentinel"],
        handler: (c) => {
          c.out.array(commandTable.size);
          for (const name of commandTable.keys()) c.out.bulk(name);
        },
        group: G,
        summary: "Returns a list of command names.",
        since: "7.0.0",
      },
    ],
  },
  {
    name: "config",
    arity: -2,
    flags: [],
    group: G,
    summary: "A container for server configuration commands.",
    since: "2.0.0",
    subcommands: [
      {
        name: "get",
        arity: -3,
        flags: ["admin", "noscript", "loading", "stale"],
        handler: configGet,
        group: G,
        summary: "Returns the effective values of configuration parameters.",
        since: "2.0.0",
      },
    ],
  },
  {
    name: "info",
    arity: -1,
    flags: ["loading", "stale", "sentinel"],
    handler: info,
    group: G,
    summary: "Returns information and statistics about the server.",
    since: "1.0.0",
  },
  {
    name: "dbsize",
    arity: 1,
    flags: ["readonly", "fast"],
    handler: (c) => c.out.integer(Server.db.size),
    group: G,
    summary: "Returns the number of keys in the database.",
    since: "1.0.0",
  },
  {
    name: "flushall",
    arity: -1,
    flags: ["write"],
    handler: flush,
    group: G,
    summary: "Removes all keys from all databases.",
    since: "1.0.0",
  },
  {
    name: "flushdb",
    arity: -1,
    flags: ["write"],
    handler: flush,
    group: G,
    summary: "Remove all keys from the current database.",
    since: "1.0.0",
  },
];
