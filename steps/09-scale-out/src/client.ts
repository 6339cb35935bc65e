// client.ts -- smallchat's client: type on a raw terminal, chat over a socket.
//
// This is smallchat-client.c grown up. The idea is the same: put the
// terminal in raw mode, so every key reaches us as it is typed and the line
// being typed is ours to draw; when a message arrives, hide that line, print
// the message, and show the line again. The conversation scrolls up above,
// the half-typed line stays put below. New here: keys are decoded whole
// (arrows, Home, UTF-8 cut between reads) by key-decoder.ts, the line is
// edited like in a shell by line-editor.ts, what peers send is made harmless
// before it reaches the terminal, and whatever happens, the terminal is
// given back the way we found it.
//
// Why not node:readline? It edits lines well, but this step is about how a
// line editor works, and readline hides the one idea that matters here:
// printing a message while the user types means hiding the line and
// showing it again, and readline only does that through private methods.
// Our editor is a pure function that fits in one file and one test file.
//
// When standard input is not a terminal (a pipe, a file), there is nothing
// to edit: the client sends each line it reads and prints each line it
// receives, so it can be scripted.
//
// Since step 06: with a key, chat lines are sealed before they leave and
// opened when they come back (see "Encryption" below), so the server
// relays text it cannot read. Since step 07, what they are sealed with (our
// nick, and now our channel) is what the server confirmed (see "Requests").
//
// Since step 08: channels. Every channel has its own key, so the client
// follows which channel it is talking in (see "Channels" below).

import { readFileSync } from "node:fs";
import type net from "node:net";
import os from "node:os";
import { StringDecoder } from "node:string_decoder";
import { parseEndpoint, TCPConnect } from "@smallchat/shared/chatlib";
import {
  createSecretBox,
  DEFAULT_CONTEXT,
  type MasterKey,
  MessageTooLongError,
  masterKeyFrom,
  newKey,
  newSalt,
  type OpenResult,
  parseKey,
  ReplayGuard,
  type SecretBox,
  SHORT_PASSPHRASE_CHARS,
} from "./encryption.ts";
import { type Key, KeyDecoder } from "./key-decoder.ts";
import { emptyLine, feedKey, hideLine, type LineState, showLine } from "./line-editor.ts";

// How long a lone ESC waits for the rest of an escape sequence. The bytes
// of one key arrive together in practice, even over ssh; vim waits 100 ms.
const ESC_TIMEOUT_MS = 100;

// After stdin ends in piped mode we half-close the socket and wait for the
// server to close its side, so replies to our last lines get printed. A
// server that keeps the connection open gets this long.
const CLOSE_GRACE_MS = 2000;

// At the end of piped input, how long lines that wait for the server's
// answer to a /nick (or /join) may wait before we give up on them.
const ANSWER_TIMEOUT_MS = 10_000;

// An incoming "line" longer than this is printed as it is, without waiting
// for its "\n": a peer must not make us buffer forever.
const MAX_INCOMING_LINE = 64 * 1024;

/* ============================ Terminal handling ===========================
 * Raw mode is the 1960s magic from smallchat-client.c, done by libuv:
 * no echo, no line buffering (ICANON), no Ctrl-C signal (ISIG), no CR to NL
 * on input. Output post-processing stays on, so "\n" still goes to the
 * start of the next row. The mode belongs to the terminal, not to us: if we
 * die in raw mode, the user's shell is left without echo. So every way out
 * goes through quit(), and an 'exit' hook covers the ones we did not think
 * of (Node also resets the terminal at exit, but that is its safety net,
 * not our plan).
 * ======================================================================== */

let rawMode = false;
let inputShown = false; // Is the input line drawn on the screen right now?
let quitting = false;

function enableRawMode(): void {
  process.stdin.setRawMode(true);
  rawMode = true;
}

function restoreTerminal(): void {
  if (!rawMode) return;
  rawMode = false;
  process.stdin.setRawMode(false);
}

// The only way out: blank the input line, give the terminal back, say why
// on stderr (one line, after the terminal is sane again), exit.
function quit(code: number, message?: string): never {
  if (!quitting) {
    quitting = true;
    try {
      if (inputShown) process.stdout.write(hideLine());
    } catch {
      // The terminal is gone (window closed): nothing left to tidy on it.
    }
    restoreTerminal();
    if (message !== undefined) process.stderr.write(`${message}\n`);
  }
  process.exit(code);
}

process.on("exit", restoreTerminal);
process.on("uncaughtException", (err) => quit(1, `client error: ${err.stack ?? err.message}`));
for (const signal of ["SIGTERM", "SIGHUP", "SIGINT"] as const) {
  process.on(signal, () => quit(1));
}

/* ============================ Incoming text ===============================
 * The server sends lines. A read may hold half a line or several, and a
 * UTF-8 character may be cut between two reads: a StringDecoder keeps the
 * cut bytes for the next read, and the text after the last "\n" waits too.
 *
 * Whatever a peer typed ends up on our terminal, so it must not be able to
 * drive it: ESC [ 2 J clears the screen, other sequences retitle the window
 * or move the cursor over our input line. Every control byte is shown in
 * caret notation (ESC is ^[), the way `cat -v` does, and the 8-bit C1
 * controls become U+FFFD. The server filters too, but we do not have to
 * trust the server.
 * ======================================================================== */

class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private partial = "";

  // Bytes in, complete lines out (without "\n" or "\r\n").
  push(chunk: Buffer): string[] {
    const parts = (this.partial + this.decoder.write(chunk)).split("\n");
    this.partial = parts.pop() ?? "";
    if (this.partial.length > MAX_INCOMING_LINE) {
      parts.push(this.partial);
      this.partial = "";
    }
    return parts.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  }

  // The stream ended: whatever is left, possibly "".
  end(): string {
    const rest = this.partial + this.decoder.end();
    this.partial = "";
    return rest;
  }
}

function sanitize(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (code === 0x09) return " "; // A tab only moves right; a space says the same.
    if (code >= 0x80) return "\ufffd";
    return `^${String.fromCharCode(code ^ 0x40)}`; // 0x1b is ^[, 0x7f is ^?.
  });
}

function describe(err: Error & { code?: string }): string {
  switch (err.code) {
    case "ECONNREFUSED":
      return "connection refused (is the server running?)";
    case "ENOTFOUND":
      return "unknown host";
    case "ECONNRESET":
      return "connection reset by the server";
    default:
      return err.message;
  }
}

/* ============================ Encryption ==================================
 * With a key (env SMALLCHAT_KEY, or the contents of --key-file), the client
 * seals every chat line with encryption.ts before it leaves, and opens
 * every "nick> ~sc1 ..." line that comes back. The server relays the sealed
 * text like any other and never learns what it says. Lines starting with
 * "/" are commands for the server, so they must stay readable; only the
 * text of "/msg <nick> <text>" is sealed, and a command we do not know is
 * refused here rather than sent in clear ("//text" says a line that starts
 * with "/"). Without a key nothing here does anything: the client is step
 * 05's, except that a --nick is confirmed (see "Requests").
 *
 * The server (or anyone on the wire: there is no TLS) can send us any text
 * it likes, so "[e2e]" must be a look it cannot produce: every line that
 * did not open under our key is shown after a tag of its own ("[server]",
 * "[clear]", "[!]"), and on a terminal "[e2e]" is drawn bold and green,
 * which incoming text cannot do: sanitize() turns its ESC into "^[".
 * ======================================================================== */

// Private texts get their own key (derived from the same master key), so
// the server cannot pass a private message off as a public one, or the
// reverse: the other key simply fails to open it.
const PRIVATE_CONTEXT = "/msg";

// What we send to the server as it is. Anything else that starts with "/"
// would be user text in clear.
const SERVER_COMMANDS = new Set(["/nick", "/msg", "/who", "/join", "/part", "/list", "/names"]);

const USAGE =
  "usage: client.ts [--nick NICK] [--key-file FILE] [--host HOST] [--port PORT] [HOST [PORT]]\n" +
  "       client.ts --new-key | --new-salt\n" +
  "       (the key comes from --key-file or the SMALLCHAT_KEY environment variable)";

// SGR bold green, then back to normal: only we write escapes to the screen.
const E2E_STYLE = "\x1b[1;32m";
const STYLE_RESET = "\x1b[0m";

let boxes: { master: MasterKey; private: SecretBox; replays: ReplayGuard } | null = null;
// What the server calls us, as it confirmed; null while we don't know.
let myNick: string | null = null;

// Take "--name value" (or "--name=value") out of argv, so parseEndpoint,
// which refuses options it does not know, never sees it.
function takeOption(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i === -1) return undefined;
  const arg = argv[i] ?? "";
  const inline = arg.length > name.length;
  const value = inline ? arg.slice(name.length + 1) : argv[i + 1];
  if (value === undefined) quit(2, `${name} needs a value\n${USAGE}`);
  argv.splice(i, inline ? 1 : 2);
  return value;
}

function takeFlag(argv: string[], name: string): boolean {
  const i = argv.indexOf(name);
  if (i !== -1) argv.splice(i, 1);
  return i !== -1;
}

// Derive the key before connecting: scrypt takes ~1 s on purpose, and we
// pay it once. The key never comes from a plain argument: every user of the
// machine can read those with `ps`. An empty one is an error, not "no
// encryption": `SMALLCHAT_KEY=$TYPO` must not mean chatting in clear.
function setUpEncryption(keyFile: string | undefined): void {
  let text = process.env.SMALLCHAT_KEY;
  if (keyFile !== undefined) {
    try {
      text = readFileSync(keyFile, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      quit(2, `--key-file: ${(err as Error).message}`);
    }
  }
  if (text === undefined) return;
  if (text === "") quit(2, "the key is empty (SMALLCHAT_KEY or --key-file)");
  let master: MasterKey;
  try {
    const key = parseKey(text);
    if (key.kind === "passphrase" && [...key.passphrase].length < SHORT_PASSPHRASE_CHARS) {
      process.stderr.write(
        `[!] the passphrase is short (under ${SHORT_PASSPHRASE_CHARS} characters): whoever ` +
          "records one sealed line can try guesses offline. Prefer a key from --new-key.\n",
      );
    }
    master = masterKeyFrom(text);
  } catch (err) {
    quit(2, `${(err as Error).message}`);
  }
  const replays = new ReplayGuard();
  boxes = {
    master,
    private: createSecretBox(master, { context: PRIVATE_CONTEXT, replays }),
    replays,
  };
}

function loginName(): string | null {
  try {
    return os.userInfo().username;
  } catch {
    return null; // A container user with no passwd entry: the user must /nick.
  }
}

// A line the user typed -> the line to send, or an error to show locally
// (and nothing sent). A message too long to seal is refused, never cut: a
// cut line would not open at all.
function outgoingLine(line: string): { send: string } | { error: string } {
  if (boxes === null) return { send: line };
  if (line.startsWith("//") || !line.startsWith("/")) {
    if (currentChannel === null) {
      return { error: "[!] not sent: you are in no channel: /join #name" };
    }
    return sealLine(channelBox(currentChannel), line.startsWith("//") ? line.slice(1) : line);
  }
  const space = line.indexOf(" ");
  const cmd = space === -1 ? line : line.slice(0, space);
  const arg = space === -1 ? "" : line.slice(space + 1);
  if (!SERVER_COMMANDS.has(cmd)) {
    return {
      error: `[!] not sent: ${cmd} is not a command, and a keyed client sends nothing in clear (//${line.slice(1)} says it sealed)`,
    };
  }
  if (cmd === "/msg") {
    const gap = arg.indexOf(" ");
    const to = arg.slice(0, gap);
    const text = gap === -1 ? "" : arg.slice(gap + 1);
    // No text: send it as it is and let the server explain the usage.
    if (text !== "") return sealLine(boxes.private, text, to, `/msg ${to} `);
  }
  return { send: line };
}

// Seal `text` for the channel (to = "") or for one nick, to go on the wire
// after `prefix`: the server's line limit counts the prefix too.
function sealLine(
  box: SecretBox,
  text: string,
  to = "",
  prefix = "",
): { send: string } | { error: string } {
  if (myNick === null) return { error: "[!] not sent: set a nick first with /nick <nick>" };
  try {
    return { send: prefix + box.seal(myNick, text, { to, prefix }) };
  } catch (err) {
    if (err instanceof MessageTooLongError) {
      return {
        error: `[!] not sent: too long to encrypt (${err.textBytes} bytes, at most ${err.maxTextBytes})`,
      };
    }
    return { error: `[!] not sent: ${(err as Error).message}` };
  }
}

// What to show for one line from the server: plain text, or a verified
// message whose "[e2e]" tag only we can draw.
type Shown = string | { verified: string; where: string };

// A line from the server -> the lines to show (not yet sanitized). Only
// "nick> ..." and "#chan nick> ..." lines are messages: neither a nick nor
// a channel name has spaces, so the first "> " after them ends the nick,
// and "Welcome ... /nick <nick> to ..." is not mistaken for one.
function showIncoming(line: string): Shown[] {
  if (boxes === null) return [line];
  const message = parseMessage(line);
  if (message === null) return [`[server] ${line}`];
  const { channel, nick } = message;
  let rest = message.rest;
  const isPrivate = channel === null && rest.startsWith("(private) ");
  if (isPrivate) rest = rest.slice("(private) ".length);

  // Channel lines keep their channel in front, as the server sent them.
  const where = channel === null ? "" : `${channel} `;
  const opened = isPrivate
    ? boxes.private.open(rest, nick, myNick ?? "")
    : channelBox(channel ?? DEFAULT_CONTEXT).open(rest, nick);
  return describeOpened(opened, where, nick, message.rest, isPrivate);
}

function describeOpened(
  opened: OpenResult,
  where: string,
  nick: string,
  rest: string,
  isPrivate: boolean,
): Shown[] {
  switch (opened.kind) {
    case "plain":
      return [`${where}[clear] ${nick}> ${rest}`];
    case "replay":
      return [`${where}[!] ${nick}> replayed message rejected`];
    case "stale":
      return [
        `${where}[!] ${nick}> stale message rejected (sealed ${Math.round(opened.ageMs / 1000)} s ago)`,
      ];
    case "old-session":
      return [`${where}[!] ${nick}> message from an earlier run of ${opened.nick} rejected`];
    case "misdelivered":
      return [`${where}[!] ${nick}> a private message for ${opened.to} reached us: not shown`];
    case "unauthenticated":
      return [`${where}[!] ${nick}> could not decrypt (different key, or tampered)`];
    case "unknown-version":
      return [
        `${where}[!] ${nick}> encrypted with unknown format ${opened.version} (newer client?)`,
      ];
    case "verified": {
      const shown: Shown[] = [];
      const lines = opened.missing === 1 ? "line" : "lines";
      const verb = opened.missing === 1 ? "is" : "are";
      if (opened.missing > 0) {
        shown.push(`${where}[!] ${opened.missing} ${lines} from ${opened.nick} ${verb} missing`);
      }
      if (opened.late) shown.push(`${where}[!] a late line from ${opened.nick}, out of order:`);
      // A key holder sealed it as one nick and it reached us as another:
      // the server relabeled it, or a key holder is pretending.
      if (opened.nickMismatch) {
        shown.push(`${where}[!] sealed by ${opened.nick} but relayed as from ${nick}:`);
      }
      const text = `${opened.nick}> ${isPrivate ? "(private) " : ""}${opened.text}`;
      shown.push({ verified: text, where });
      return shown;
    }
  }
}

// "#rust alice> text" or "alice> text" -> its parts; null for anything
// else. A nick cannot start with "#" (the server refuses it), so a line
// that starts with "#" is always a channel's.
function parseMessage(line: string): { channel: string | null; nick: string; rest: string } | null {
  const inChannel = /^(#\S+) (\S+?)> /.exec(line);
  if (inChannel !== null) {
    const [head, channel = "", nick = ""] = inChannel;
    return { channel, nick, rest: line.slice(head.length) };
  }
  const end = line.indexOf("> ");
  const nick = line.slice(0, end);
  if (end <= 0 || /\s/.test(nick) || nick.startsWith("#")) return null;
  return { channel: null, nick, rest: line.slice(end + 2) };
}

/* ============================ Channels ====================================
 * Each channel gets its own key, derived from the master key with the
 * channel's name (HKDF, cheap: scrypt ran once at startup). A line sealed
 * for #a does not open in #b, so the server cannot move a message from one
 * room to another, and knowing one room's traffic says nothing about
 * another's. #lobby's key is the one step 07 used for everything, so a step
 * 07 client still talks with us in #lobby.
 *
 * We seal with the key of the channel we talk in, and that changes only
 * when the server confirms a /join or /part the user asked for (see
 * "Requests"). A "* now talking in #x" nobody asked for changes nothing:
 * otherwise the server could make us seal a #secret line for #public.
 * ======================================================================== */

// Boxes kept at once. They hold a key and our own counters, nothing a
// receiver needs (the replay memory is shared, in boxes.replays), so a
// server that makes up channel names only costs us a key derivation.
const MAX_CHANNEL_BOXES = 32;

const channelBoxes = new Map<string, SecretBox>();
let currentChannel: string | null = DEFAULT_CONTEXT; // Everyone starts in #lobby.

function channelBox(channel: string): SecretBox {
  if (boxes === null) throw new Error("no key"); // Only called with one.
  let box = channelBoxes.get(channel);
  if (box === undefined) {
    box = createSecretBox(boxes.master, { context: channel, replays: boxes.replays });
  }
  // Delete and re-insert: Map order then puts the least recently used first.
  channelBoxes.delete(channel);
  channelBoxes.set(channel, box);
  if (channelBoxes.size > MAX_CHANNEL_BOXES) {
    const oldest = channelBoxes.keys().next().value;
    if (oldest !== undefined) channelBoxes.delete(oldest);
  }
  return box;
}

// A shown line as text for the screen: sanitized, and "[e2e]" styled when
// the screen is a terminal.
function render(item: Shown, styled: boolean): string {
  if (typeof item === "string") return sanitize(item);
  const tag = styled ? `${E2E_STYLE}[e2e]${STYLE_RESET}` : "[e2e]";
  return `${sanitize(item.where)}${tag} ${sanitize(item.verified)}`;
}

/* ============================ Requests ====================================
 * Some of what we seal depends on the server's word: the nick sealed into
 * every line must be the one the server puts in front of it, and the
 * channel whose key we use must be the one the server relays the line
 * to. So that state
 * changes only when the server confirms a request the user made, and what
 * the user types meanwhile waits, then goes out sealed with the confirmed
 * state. Nothing is dropped, nothing is sealed for a state we only hope for.
 *
 * The server says nothing when /nick works, only when it fails. So every
 * request is followed by a /who: the server answers lines in order, so its
 * "Users:" reply comes after any "ERR" or "* now talking in" the
 * request earned, and ends the wait. Our /who replies are not shown; the user's own /who still are.
 *
 * The nick picked at start (--nick, else SMALLCHAT_NICK, else the login
 * name) may be taken: then we try "nick_", "nick2", ... as IRC clients do.
 * ======================================================================== */

type Request =
  | { kind: "nick"; nick: string; base: string | null; attempt: number; err: string | null }
  | { kind: "join"; channel: string; confirmed: boolean }
  | { kind: "part"; channel: string | null; left: boolean; talking: string | null };

const MAX_NICK_ATTEMPTS = 9;

let pending: Request | null = null;
const held: string[] = []; // Lines typed while a request is pending, in order.
const whoReplies: Array<Request | null> = []; // One per /who sent: ours, or the user's (null).
let wire: (line: string) => void = () => {};
let tell: (lines: Shown[]) => void = () => {};
let sent: (typed: string) => void = () => {};
let idle: Array<() => void> = [];

function startRequest(request: Request, line: string): void {
  pending = request;
  wire(line);
  wire("/who");
  whoReplies.push(request);
}

// A line the user finished typing (or piped in).
function submit(line: string): void {
  if (pending !== null || held.length > 0) {
    held.push(line);
    return;
  }
  dispatch(line);
}

function dispatch(line: string): void {
  if (boxes !== null || startNick !== null) {
    const nick = /^\/nick (.*)$/.exec(line);
    if (nick !== null) {
      startRequest({ kind: "nick", nick: nick[1] ?? "", base: null, attempt: 0, err: null }, line);
      sent(line);
      return;
    }
  }
  if (boxes !== null) {
    const join = /^\/join (.*)$/.exec(line);
    const part = /^\/part(?: (.*))?$/.exec(line);
    if (join !== null) {
      startRequest({ kind: "join", channel: join[1] ?? "", confirmed: false }, line);
      sent(line);
      return;
    }
    if (part !== null) {
      const channel = part[1] ?? currentChannel;
      startRequest({ kind: "part", channel, left: false, talking: null }, line);
      sent(line);
      return;
    }
  }
  const out = outgoingLine(line);
  if ("error" in out) {
    tell([out.error]);
    return;
  }
  if (out.send === "/who") whoReplies.push(null);
  wire(out.send);
  sent(line);
}

// Watch the server's lines while a request waits for its answer. True when
// the line was ours only (a /who reply) and should not be shown.
function watchReply(line: string): boolean {
  if (pending?.kind === "nick" && /^ERR (nick |invalid nick|nicks )/.test(line)) {
    pending.err = line;
  }
  const talking = /^\* now talking in (#\S+)$/.exec(line)?.[1];
  if (pending?.kind === "join" && talking === pending.channel) pending.confirmed = true;
  if (pending?.kind === "part" && line === `* left ${pending.channel}`) pending.left = true;
  if (pending?.kind === "part" && talking !== undefined) pending.talking = talking;
  if (!line.startsWith("Users: ") || whoReplies.length === 0) return false;
  const request = whoReplies.shift() ?? null;
  if (request === null) return false;
  finish(request);
  return true;
}

function finish(request: Request): void {
  pending = null;
  if (request.kind === "join") {
    if (request.confirmed) currentChannel = request.channel;
  } else if (request.kind === "part") {
    // Leaving the channel we talk in puts us in the one the server names,
    // or in none.
    if (request.talking !== null) currentChannel = request.talking;
    else if (request.left && request.channel === currentChannel) currentChannel = null;
  } else if (request.err === null) {
    myNick = request.nick;
    tell([`* you are now known as ${request.nick}`]);
  } else if (request.base !== null && /already taken/.test(request.err)) {
    const attempt = request.attempt + 1;
    if (attempt <= MAX_NICK_ATTEMPTS) {
      const nick = attempt === 1 ? `${request.base}_` : `${request.base}${attempt}`;
      tell([`* nick ${request.nick} is taken: trying ${nick}`]);
      startRequest({ ...request, nick, attempt, err: null }, `/nick ${nick}`);
      return;
    }
  }
  if (request.kind === "nick" && request.err !== null) {
    tell([
      myNick === null
        ? "[!] no nick: use /nick <nick> before chatting"
        : `* you are still ${myNick}`,
    ]);
  }
  while (pending === null && held.length > 0) dispatch(held.shift() ?? "");
  if (pending === null) {
    const waiting = idle;
    idle = [];
    for (const fn of waiting) fn();
  }
}

// Run `fn` once nothing waits for the server: no request, no held line.
function whenIdle(fn: () => void): void {
  if (pending === null && held.length === 0) fn();
  else idle.push(fn);
}

// A line from the server -> what to show: our requests' answers are
// watched first, and the welcome's "Use /nick" goes when we set the nick.
function receive(line: string): Shown[] {
  if (watchReply(line)) return [];
  if (startNick !== null && line.startsWith("Welcome")) {
    line = line.replace(/ Use \/nick .*$/, "");
  }
  return showIncoming(line);
}

let startNick: string | null = null;

// Set the nick chosen at start, once connected.
function startUp(nickOption: string | undefined): void {
  startNick = nickOption ?? null;
  if (boxes !== null) startNick ??= process.env.SMALLCHAT_NICK || loginName();
  if (startNick === null) return;
  const request: Request = {
    kind: "nick",
    nick: startNick,
    base: startNick,
    attempt: 0,
    err: null,
  };
  startRequest(request, `/nick ${startNick}`);
}

/* ============================ Interactive mode ============================
 * Two sources of events, like the select() loop of smallchat-client.c:
 * the socket (a message: hide, print, show) and the keyboard (a key: let
 * the editor redraw; a finished line: echo it as "you> ...", send it).
 * ======================================================================== */

function interactive(socket: net.Socket): void {
  let line: LineState = emptyLine();
  const keys = new KeyDecoder();
  const incoming = new LineSplitter();
  const columns = () => process.stdout.columns || 80;
  const write = (s: string) => process.stdout.write(s);
  let escTimer: NodeJS.Timeout | undefined;
  let lostBecause = "the server closed the connection";

  enableRawMode();
  write(showLine(line, columns()));
  inputShown = true;

  // Print complete lines where the input line was, then draw it again,
  // text and cursor exactly as they were. One write, so the terminal never
  // shows the in-between state.
  const printAbove = (lines: Shown[]) => {
    if (lines.length === 0) return;
    write(
      hideLine() + lines.map((l) => `${render(l, true)}\n`).join("") + showLine(line, columns()),
    );
  };
  tell = printAbove;
  // smallchat shows our own lines too, since the server does not send them
  // back to us; a line that waited for the server shows when it goes.
  sent = (typed) => printAbove([`you> ${typed}`]);

  // One line at a time: receive() may print notes of its own, and they
  // must come after the lines before them.
  socket.on("data", (chunk: Buffer) => {
    for (const l of incoming.push(chunk)) printAbove(receive(l));
  });
  socket.on("error", (err) => {
    lostBecause = describe(err);
  });
  socket.on("close", () => {
    const rest = incoming.end();
    if (rest !== "") printAbove(receive(rest));
    quit(1, `Connection lost: ${lostBecause}`);
  });

  const handleKeys = (list: Key[]) => {
    for (const key of list) {
      const result = feedKey(line, key, columns());
      line = result.state;
      write(result.output);
      if (result.quit !== undefined) quit(0);
      if (result.submit !== undefined) submit(result.submit);
    }
  };

  process.stdin.on("data", (chunk: Buffer) => {
    clearTimeout(escTimer);
    handleKeys(keys.feed(chunk));
    if (keys.waiting) escTimer = setTimeout(() => handleKeys(keys.flush()), ESC_TIMEOUT_MS);
  });
  process.stdin.on("end", () => quit(0)); // The terminal itself went away.

  // A narrower terminal may have wrapped our row: draw it for the new width.
  process.stdout.on("resize", () => write(hideLine() + showLine(line, columns())));
}

/* ============================ Piped mode ================================== */

function piped(socket: net.Socket): void {
  const incoming = new LineSplitter();
  const input = new LineSplitter();
  let stdinEnded = false;
  let lostBecause = "the server closed the connection";

  const print = (lines: Shown[]) => {
    for (const l of lines) process.stdout.write(`${render(l, false)}\n`);
  };
  tell = (lines) => {
    for (const l of lines) {
      // Refusals go to stderr, as errors do; notes about the nick are part
      // of the conversation, in order with it.
      const local = typeof l === "string" && /^\[!\] (not sent|no nick)/.test(l);
      (local ? process.stderr : process.stdout).write(`${render(l, false)}\n`);
    }
  };

  // An empty line says nothing, as at the keyboard: skip it.
  const send = (lines: string[]) => {
    for (const l of lines) if (l !== "") submit(l);
  };

  socket.on("data", (chunk: Buffer) => {
    for (const l of incoming.push(chunk)) print(receive(l));
  });
  socket.on("error", (err) => {
    lostBecause = describe(err);
  });
  socket.on("close", () => {
    const rest = incoming.end();
    if (rest !== "") print(receive(rest));
    // After our own end of input, the server closing is the normal goodbye.
    if (stdinEnded) quit(0);
    quit(1, `Connection lost: ${lostBecause}`);
  });

  process.stdin.on("data", (chunk: Buffer) => send(input.push(chunk)));
  process.stdin.on("end", () => {
    send([input.end()]);
    // Lines still waiting for the server's answer go out first; a server
    // that never answers does not keep us here for ever.
    const silent = setTimeout(
      () => quit(1, `[!] no answer from the server: ${held.length} line(s) not sent`),
      ANSWER_TIMEOUT_MS,
    );
    whenIdle(() => {
      clearTimeout(silent);
      stdinEnded = true;
      // end() sends what is still queued, then a FIN: the server reads our
      // last line before it sees that we are done.
      socket.end(() => setTimeout(() => quit(0), CLOSE_GRACE_MS));
    });
  });
}

/* ============================ Main ======================================== */

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // A new key (or salt) for a group: print it and stop. Stdout, so that
  // `client.ts --new-key > group.key` makes a key file.
  for (const [flag, make] of [
    ["--new-key", newKey],
    ["--new-salt", newSalt],
  ] as const) {
    if (takeFlag(argv, flag)) {
      process.stdout.write(`${make()}\n`);
      process.exit(0);
    }
  }
  const keyFile = takeOption(argv, "--key-file");
  const nick = takeOption(argv, "--nick");
  const { host, port } = parseEndpoint(argv, "localhost", USAGE);
  setUpEncryption(keyFile);
  let socket: net.Socket;
  try {
    socket = await TCPConnect(host, port, 5000);
  } catch (err) {
    quit(1, `Connecting to ${host}:${port}: ${describe(err as Error)}`);
  }
  wire = (line) => socket.write(`${line}\n`);
  if (boxes !== null) {
    process.stderr.write("encryption on: chat lines are sealed before they leave\n");
  }
  // Both ends must be a terminal to edit: with stdout redirected to a file,
  // our cursor movements would land in the file.
  if (process.stdin.isTTY && process.stdout.isTTY) {
    interactive(socket);
  } else {
    piped(socket);
  }
  startUp(nick);
}

void main();
