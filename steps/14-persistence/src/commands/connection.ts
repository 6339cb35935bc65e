// commands/connection.ts -- the commands about the connection itself.
//
// PING, ECHO and QUIT, HELLO (which picks RESP2 or RESP3 for this one
// connection), SELECT, and CLIENT, which names a connection and lists them
// all. Nothing here touches data: these are what a client library sends
// before anything else, so they decide whether it connects at all.

import { arityError, CommandError, type CommandSpec } from "../commands.ts";
import { parseInteger } from "../resp.ts";
import { type Client, closeAfterReply, Server } from "../state.ts";

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

// SELECT index: there is one database, number 0.
function select(c: Client, argv: Buffer[]): void {
  const id = parseInteger(argv[1]!, 0, argv[1]!.length);
  if (id === null || id < -2147483648 || id > 2147483647) {
    throw new CommandError("ERR value is not an integer or out of range");
  }
  if (id !== 0) throw new CommandError("ERR DB index is out of range");
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

// HELLO [protover [AUTH user pass] [SETNAME name]]: switch this connection
// to RESP2 or RESP3 and describe the server. Every option is checked
// before anything changes.
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
  let name: Buffer | null = null;
  let user: Buffer | null = null;
  for (let j = next; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j]!.toString("latin1").toLowerCase();
    if (opt === "auth" && more >= 2) {
      user = argv[j + 1]!;
      j += 2;
    } else if (opt === "setname" && more >= 1) {
      name = argv[j + 1]!;
      j++;
    } else {
      throw new CommandError(`ERR Syntax error in HELLO option '${argv[j]!.toString("latin1")}'`);
    }
  }
  // There are no passwords: the default user takes any, as a Redis with
  // no requirepass does; other users do not exist.
  if (user !== null && user.toString("latin1") !== "default") {
    throw new CommandError("WRONGPASS invalid username-password pair or user is disabled.");
  }
  if (name !== null) setName(c, name);
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

// One line of CLIENT LIST, with the fields Redis prints that mean
// something here (the memory ones are left at 0).
export function clientInfoLine(c: Client, now: number): string {
  const sub = Server.pubsub.channelCount(c);
  const psub = Server.pubsub.patternCount(c);
  // Redis's letters, in its order: P subscribed, x in MULTI, d a watched key changed.
  const flags =
    `${c.pubsub ? "P" : ""}${c.multi !== null ? "x" : ""}${c.watchTouched ? "d" : ""}` || "N";
  return (
    `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=-1 name=${c.name?.toString("latin1") ?? ""}` +
    ` age=${Math.floor((now - c.createdAt) / 1000)} idle=${Math.floor((now - c.lastInteraction) / 1000)}` +
    ` flags=${flags} db=0 sub=${sub} psub=${psub} ssub=0 multi=${c.multi?.length ?? -1}` +
    ` qbuf=${c.parser.buffered} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0` +
    ` omem=${c.out.pending} tot-mem=0 events=r cmd=${c.lastCommand} user=default redir=-1` +
    ` resp=${c.out.proto} lib-name=${c.libName} lib-ver=${c.libVer}\n`
  );
}

function clientList(c: Client, argv: Buffer[]): void {
  if (argv.length !== 2) throw new CommandError("ERR syntax error");
  const now = Date.now();
  let text = "";
  for (const other of Server.clients.values()) text += clientInfoLine(other, now);
  c.out.verbatim(text);
}

// CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2; client libraries send
// it on connect and ignore an error).
function clientSetInfo(c: Client, argv: Buffer[]): void {
  const attr = argv[2]!.toString("latin1").toLowerCase();
  if (attr !== "lib-name" && attr !== "lib-ver") {
    throw new CommandError(`ERR Unrecognized option '${argv[2]!.toString("latin1")}'`);
  }
  checkName(argv[3]!, attr);
  if (attr === "lib-name") c.libName = argv[3]!.toString("latin1");
  else c.libVer = argv[3]!.toString("latin1");
  c.out.ok();
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
        name: "setinfo",
        arity: 4,
        flags: ["noscript", "loading", "stale", "sentinel"],
        handler: clientSetInfo,
        group: G,
        summary: "Sets information specific to the client or connection.",
        since: "7.2.0",
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
];
