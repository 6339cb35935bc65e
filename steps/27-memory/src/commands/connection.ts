// commands/connection.ts -- the commands about the connection itself.
//
// PING, ECHO and QUIT, AUTH and HELLO (which picks RESP2 or RESP3 for this
// one connection), SELECT, CLIENT, which names a connection, lists and
// kills them, and MONITOR, which shows every command as it runs. Nothing
// here touches data: these are what a client library sends before anything
// else, so they decide whether it connects at all.

import { lower, SYNTAX_ERROR } from "../args.ts";
import { arityError, CommandError, type CommandSpec, replyHelp } from "../command.ts";
import { parseInteger } from "../resp.ts";
import { type Client, closeAfterReply, closeAsap, Server } from "../state.ts";

const PONG = Buffer.from("+PONG\r\n");
const PONG_WORD = Buffer.from("pong");
const EMPTY = Buffer.alloc(0);

// What we say we are in HELLO and INFO: the Redis version whose behaviour
// this server copies, so that clients pick the same features.
export const REDIS_VERSION = "7.0.15";

// PING [message]. A RESP2 subscriber cannot receive a plain reply among
// its messages, so it gets the array ["pong", message] instead.
function ping(c: Client, argv: Buffer[]): void {
  if (argv.length > 2) throw arityError("ping");
  if (c.pubsub && c.out.proto === 2) {
    c.out.array(2);
    c.out.bulk(PONG_WORD);
    c.out.bulk(argv[1] ?? EMPTY);
  } else if (argv.length === 1) {
    c.out.raw(PONG);
  } else {
    c.out.bulk(argv[1]!);
  }
}

function echo(c: Client, argv: Buffer[]): void {
  c.out.bulk(argv[1]!);
}

// QUIT: say OK, then close once that reply is out.
function quit(c: Client): void {
  c.out.ok();
  closeAfterReply(c, "QUIT");
}

// SELECT index: from now on this connection's commands use that database.
// How many there are is Server.config.databases: one (Redis's `databases 1`)
// until step 15, which brings Redis's 16.
function select(c: Client, argv: Buffer[]): void {
  const id = parseInteger(argv[1]!, 0, argv[1]!.length);
  if (id === null) throw new CommandError("ERR value is not an integer or out of range");
  if (id < -2147483648 || id > 2147483647) {
    throw new CommandError(
      "ERR value is out of range, value must between -2147483648 and 2147483647",
    );
  }
  if (id < 0 || id >= Server.config.databases)
    throw new CommandError("ERR DB index is out of range");
  c.db = id;
  c.out.ok();
}

// A client name is printable ASCII without spaces, so CLIENT LIST stays
// one parseable line per client.
function checkName(name: Buffer, what: string): void {
  for (const b of name) {
    if (b < 0x21 || b > 0x7e) {
      throw new CommandError(`ERR ${what} cannot contain spaces, newlines or special characters.`);
    }
  }
}

function setName(c: Client, name: Buffer): void {
  checkName(name, "Client names");
  c.name = name.length === 0 ? null : Buffer.from(name);
}

/* ---- Passwords ---- */

const WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";

// There is one user, "default". Without --requirepass it takes any
// password (Redis's "nopass"); with it, only that one. Returns whether
// `c` is now authenticated; a failed try leaves it as it was.
function authenticate(c: Client, user: Buffer, pass: Buffer): boolean {
  if (user.toString("latin1") !== "default") return false;
  const required = Server.config.requirepass;
  if (required !== null && !pass.equals(required)) return false;
  c.authenticated = true;
  return true;
}

// AUTH [username] password.
function auth(c: Client, argv: Buffer[]): void {
  if (argv.length > 3) throw new CommandError(SYNTAX_ERROR);
  if (argv.length === 2 && Server.config.requirepass === null) {
    throw new CommandError(
      "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
    );
  }
  const user = argv.length === 3 ? argv[1]! : Buffer.from("default");
  if (!authenticate(c, user, argv[argv.length - 1]!)) throw new CommandError(WRONGPASS);
  c.out.ok();
}

// HELLO [protover [AUTH user pass] [SETNAME name]]: switch this connection
// to RESP2 or RESP3 and describe the server. The options take effect left
// to right, as Redis reads them: AUTH or SETNAME done before a bad option
// stays done, and the protocol changes only once they all passed.
function hello(c: Client, argv: Buffer[]): void {
  let ver = 0;
  let next = 1;
  if (argv.length >= 2) {
    const v = parseInteger(argv[1]!, 0, argv[1]!.length);
    if (v === null) {
      throw new CommandError("ERR Protocol version is not an integer or out of range");
    }
    if (v < 2 || v > 3) throw new CommandError("NOPROTO unsupported protocol version");
    ver = v;
    next = 2;
  }
  for (let j = next; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = lower(argv[j]!);
    if (opt === "auth" && more >= 2) {
      if (!authenticate(c, argv[j + 1]!, argv[j + 2]!)) throw new CommandError(WRONGPASS);
      j += 2;
    } else if (opt === "setname" && more >= 1) {
      setName(c, argv[j + 1]!);
      j++;
    } else {
      throw new CommandError(`ERR Syntax error in HELLO option '${argv[j]!.toString("latin1")}'`);
    }
  }
  if (!c.authenticated) {
    throw new CommandError(
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    );
  }
  if (ver !== 0) c.out.proto = ver as 2 | 3;
  const out = c.out;
  out.map(7);
  out.bulk("server");
  out.bulk("redis");
  out.bulk("version");
  out.bulk(REDIS_VERSION);
  out.bulk("proto");
  out.integer(out.proto);
  out.bulk("id");
  out.integer(c.id);
  out.bulk("mode");
  out.bulk("standalone");
  out.bulk("role");
  out.bulk("master");
  out.bulk("modules");
  out.array(0);
}

/* ---- CLIENT ---- */

// One line of CLIENT LIST and CLIENT INFO, with the fields Redis 7.0
// prints, in its order (the memory ones are left at 0). The flags are
// Redis's letters: O a MONITOR, P subscribed, N none.
export function clientInfoLine(c: Client, now: number): string {
  const sub = Server.pubsub.channelCount(c);
  const psub = Server.pubsub.patternCount(c);
  // Redis's letters, in its order: O a MONITOR, P subscribed, x in MULTI,
  // d a watched key changed.
  const flags =
    `${c.monitor ? "O" : ""}${c.pubsub ? "P" : ""}${c.multi !== null ? "x" : ""}${c.watchTouched ? "d" : ""}` ||
    "N";
  return (
    `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=-1 name=${c.name?.toString("latin1") ?? ""}` +
    ` age=${Math.floor((now - c.createdAt) / 1000)} idle=${Math.floor((now - c.lastInteraction) / 1000)}` +
    ` flags=${flags} db=${c.db} sub=${sub} psub=${psub} ssub=0 multi=${c.multi?.length ?? -1}` +
    ` qbuf=${c.parser.buffered} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0` +
    ` omem=${c.out.pending} tot-mem=0 events=r cmd=${c.lastCommand} user=default redir=-1` +
    ` resp=${c.out.proto}\n`
  );
}

function clientList(c: Client, argv: Buffer[]): void {
  if (argv.length !== 2) throw new CommandError(SYNTAX_ERROR);
  const now = Date.now();
  let text = "";
  for (const other of Server.clients.values()) text += clientInfoLine(other, now);
  c.out.verbatim(text);
}

// Redis's client types, as CLIENT KILL TYPE names them; a monitor counts
// as a normal client.
function clientType(c: Client): string {
  return c.pubsub ? "pubsub" : "normal";
}

// Close `victim` for CLIENT KILL: at once, or, when it is the caller,
// once the reply to this very command is out.
function kill(c: Client, victim: Client): void {
  if (victim === c) closeAfterReply(c, "killed by CLIENT KILL");
  else closeAsap(victim, `killed by client ${c.id} (CLIENT KILL)`);
}

// CLIENT KILL ip:port (the old form: +OK or an error), or CLIENT KILL
// <filter> <value> ... (ID, ADDR, LADDR, TYPE, USER, SKIPME), which
// answers how many clients it closed. Every filter must match; the caller
// is spared unless SKIPME no.
function clientKill(c: Client, argv: Buffer[]): void {
  if (argv.length === 3) {
    const addr = argv[2]!.toString("latin1");
    for (const other of Server.clients.values()) {
      if (other.addr === addr) {
        kill(c, other);
        c.out.ok();
        return;
      }
    }
    throw new CommandError("ERR No such client");
  }
  let id: number | null = null;
  let addr: string | null = null;
  let laddr: string | null = null;
  let type: string | null = null;
  let skipMe = true;
  for (let j = 2; j < argv.length; j += 2) {
    const opt = lower(argv[j]!);
    const value = argv[j + 1];
    if (value === undefined) throw new CommandError(SYNTAX_ERROR);
    const text = value.toString("latin1");
    if (opt === "id") {
      const n = parseInteger(value, 0, value.length);
      if (n === null || n < 1) throw new CommandError("ERR client-id should be greater than 0");
      id = n;
    } else if (opt === "type") {
      type = text.toLowerCase() === "slave" ? "replica" : text.toLowerCase();
      if (!["normal", "master", "replica", "pubsub"].includes(type)) {
        throw new CommandError(`ERR Unknown client type '${text}'`);
      }
    } else if (opt === "addr") {
      addr = text;
    } else if (opt === "laddr") {
      laddr = text;
    } else if (opt === "user") {
      if (text !== "default") throw new CommandError(`ERR No such user '${text}'`);
    } else if (opt === "skipme") {
      const yn = text.toLowerCase();
      if (yn !== "yes" && yn !== "no") throw new CommandError(SYNTAX_ERROR);
      skipMe = yn === "yes";
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  let killed = 0;
  for (const other of Server.clients.values()) {
    if (id !== null && other.id !== id) continue;
    if (addr !== null && other.addr !== addr) continue;
    if (laddr !== null && other.laddr !== laddr) continue;
    if (type !== null && clientType(other) !== type) continue;
    if (skipMe && other === c) continue;
    kill(c, other);
    killed++;
  }
  c.out.integer(killed);
}

const CLIENT_HELP = [
  "CACHING (YES|NO)",
  "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
  "GETREDIR",
  "    Return the client ID we are redirecting to when tracking is enabled.",
  "GETNAME",
  "    Return the name of the current connection.",
  "ID",
  "    Return the ID of the current connection.",
  "INFO",
  "    Return information about the current client connection.",
  "KILL <ip:port>",
  "    Kill connection made from <ip:port>.",
  "KILL <option> <value> [<option> <value> [...]]",
  "    Kill connections. Options are:",
  "    * ADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made from the specified address",
  "    * LADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made to specified local address",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Kill connections by type.",
  "    * USER <username>",
  "      Kill connections authenticated by <username>.",
  "    * SKIPME (YES|NO)",
  "      Skip killing current connection (default: yes).",
  "LIST [options ...]",
  "    Return information about client connections. Options:",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Return clients of specified type.",
  "UNPAUSE",
  "    Stop the current client pause, resuming traffic.",
  "PAUSE <timeout> [WRITE|ALL]",
  "    Suspend all, or just write, clients for <timeout> milliseconds.",
  "REPLY (ON|OFF|SKIP)",
  "    Control the replies sent to the current connection.",
  "SETNAME <name>",
  "    Assign the name <name> to the current connection.",
  "UNBLOCK <clientid> [TIMEOUT|ERROR]",
  "    Unblock the specified blocked client.",
  "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
  "         [OPTIN] [OPTOUT] [NOLOOP]",
  "    Control server assisted client side caching.",
  "TRACKINGINFO",
  "    Report tracking status for the current connection.",
  "NO-EVICT (ON|OFF)",
  "    Protect current client connection from eviction.",
];

/* ---- MONITOR, TIME, SHUTDOWN ---- */

// MONITOR: from now on this connection receives a line for every command
// any client runs (commands.ts feeds them after each call).
function monitor(c: Client): void {
  if (c.monitor) return; // Already one: Redis says nothing.
  c.monitor = true;
  Server.monitors.add(c);
  c.out.ok();
}

// TIME: seconds and microseconds since the epoch, as two bulk strings.
function time(c: Client): void {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  c.out.array(2);
  c.out.bulk(String(Math.floor(us / 1e6)));
  c.out.bulk(String(us % 1e6));
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. There is nothing to save
// in this step, so SAVE and NOSAVE both just stop. The loop does the
// stopping once this iteration is over; the caller gets no reply.
function shutdown(c: Client, argv: Buffer[]): void {
  const opts = new Set<string>();
  for (const a of argv.slice(1)) {
    const opt = lower(a);
    if (!["nosave", "save", "now", "force", "abort"].includes(opt)) {
      throw new CommandError(SYNTAX_ERROR);
    }
    opts.add(opt);
  }
  if ((opts.has("abort") && opts.size > 1) || (opts.has("save") && opts.has("nosave"))) {
    throw new CommandError(SYNTAX_ERROR);
  }
  if (opts.has("abort")) throw new CommandError("ERR No shutdown in progress.");
  Server.shutdownAsap = `SHUTDOWN by client ${c.id}`;
}

const G = "connection";

export const connectionCommands: CommandSpec[] = [
  {
    name: "ping",
    arity: -1,
    flags: ["fast", "sentinel"],
    handler: ping,
    pubsubContext: true,
    group: G,
    summary: "Ping the server",
    since: "1.0.0",
    tips: ["request_policy:all_shards", "response_policy:all_succeeded"],
    complexity: "O(1)",
    syntax: "[message]",
  },
  {
    name: "echo",
    arity: 2,
    flags: ["loading", "stale", "fast"],
    handler: echo,
    group: G,
    summary: "Echo the given string",
    since: "1.0.0",
    complexity: "O(1)",
    syntax: "message",
  },
  {
    name: "quit",
    arity: -1,
    flags: ["allow_busy", "no_auth", "fast", "noscript", "loading", "stale"],
    handler: quit,
    pubsubContext: true,
    group: G,
    summary: "Close the connection",
    since: "1.0.0",
    complexity: "O(1)",
  },
  {
    name: "hello",
    arity: -1,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "sentinel", "allow_busy"],
    handler: hello,
    group: G,
    summary: "Handshake with Redis",
    since: "6.0.0",
    complexity: "O(1)",
    syntax:
      "[arguments=(protover:integer [AUTH username_password=(username password)] [SETNAME clientname])]",
    history: [
      [
        "6.2.0",
        "`protover` made optional; when called without arguments the command reports the current connection's context.",
      ],
    ],
  },
  {
    name: "auth",
    arity: -2,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "sentinel", "allow_busy"],
    handler: auth,
    group: G,
    summary: "Authenticates the connection.",
    since: "1.0.0",
  },
  {
    name: "select",
    arity: 2,
    flags: ["loading", "stale", "fast"],
    handler: select,
    group: G,
    summary: "Change the selected database for the current connection",
    since: "1.0.0",
    complexity: "O(1)",
    syntax: "index:integer",
  },
  {
    name: "client",
    arity: -2,
    flags: ["sentinel"],
    group: G,
    summary: "A container for client connection commands",
    since: "2.4.0",
    complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "id",
        arity: 2,
        flags: ["noscript", "loading", "stale", "sentinel"],
        handler: (c) => c.out.integer(c.id),
        group: G,
        summary: "Returns the client ID for the current connection",
        since: "5.0.0",
        complexity: "O(1)",
      },
      {
        name: "getname",
        arity: 2,
        flags: ["noscript", "loading", "stale", "sentinel"],
        handler: (c) => (c.name === null ? c.out.null() : c.out.bulk(c.name)),
        group: G,
        summary: "Get the current connection name",
        since: "2.6.9",
        complexity: "O(1)",
      },
      {
        name: "setname",
        arity: 3,
        flags: ["noscript", "loading", "stale", "sentinel"],
        handler: (c, argv) => {
          setName(c, argv[2]!);
          c.out.ok();
        },
        group: G,
        summary: "Set the current connection name",
        since: "2.6.9",
        complexity: "O(1)",
        syntax: "connection-name",
      },
      {
        name: "info",
        arity: 2,
        flags: ["noscript", "loading", "stale", "sentinel"],
        handler: (c) => c.out.verbatim(clientInfoLine(c, Date.now())),
        group: G,
        summary: "Returns information about the connection.",
        since: "6.2.0",
      },
      {
        name: "kill",
        arity: -3,
        flags: ["admin", "noscript", "loading", "stale", "sentinel"],
        handler: clientKill,
        group: G,
        summary: "Terminates open connections.",
        since: "2.4.0",
      },
      {
        name: "help",
        arity: 2,
        flags: ["loading", "stale", "sentinel"],
        handler: (c, argv) => replyHelp(c, argv, CLIENT_HELP),
        group: G,
        summary: "Returns helpful text about the different subcommands.",
        since: "5.0.0",
      },
      {
        name: "list",
        arity: -2,
        flags: ["admin", "noscript", "loading", "stale", "sentinel"],
        handler: clientList,
        group: G,
        summary: "Get the list of client connections",
        since: "2.4.0",
        tips: ["nondeterministic_output"],
        complexity: "O(N) where N is the number of client connections",
        syntax:
          "[TYPE normal_master_replica_pubsub=(NORMAL|MASTER|REPLICA|PUBSUB)@5.0.0] [ID id=(client-id:integer...)@6.2.0]",
        history: [
          ["2.8.12", "Added unique client `id` field."],
          ["5.0.0", "Added optional `TYPE` filter."],
          ["6.0.0", "Added `user` field."],
          [
            "6.2.0",
            "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter.",
          ],
          ["7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."],
          ["7.0.3", "Added `ssub` field."],
        ],
      },
    ],
  },
  // MONITOR, TIME and SHUTDOWN are Redis's "server" group, but they are
  // about this process and its connections, so they live here.
  {
    name: "monitor",
    arity: 1,
    flags: ["admin", "noscript", "loading", "stale"],
    handler: monitor,
    group: "server",
    summary: "Listens for all requests received by the server in real-time.",
    since: "1.0.0",
  },
  {
    name: "time",
    arity: 1,
    flags: ["loading", "stale", "fast"],
    handler: time,
    group: "server",
    summary: "Returns the server time.",
    since: "2.6.0",
  },
  {
    name: "shutdown",
    arity: -1,
    flags: ["admin", "noscript", "loading", "stale", "no_multi", "sentinel", "allow_busy"],
    handler: shutdown,
    group: "server",
    summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.",
    since: "1.0.0",
  },
];
