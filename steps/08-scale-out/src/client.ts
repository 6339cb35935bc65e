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
// New in this step: with a passphrase, chat lines are sealed before they
// leave and opened when they come back (see "Encryption" below), so the
// server relays text it cannot read.
//
// Step 07 adds channels: every channel has its own key, so the client
// follows which channel it is talking in (see "Channels" below).

import { readFileSync } from "node:fs";
import type net from "node:net";
import os from "node:os";
import { StringDecoder } from "node:string_decoder";
import { parseEndpoint, TCPConnect } from "@smallchat/shared/chatlib";
import {
  createSecretBox,
  DEFAULT_CONTEXT,
  deriveMasterKey,
  type MasterKey,
  MessageTooLongError,
  type SecretBox,
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
 * With a passphrase (env SMALLCHAT_KEY, or the contents of --key-file), the
 * client seals every chat line with encryption.ts before it leaves, and
 * opens every "nick> ~sc1 ..." line that comes back. The server relays the
 * sealed text like any other and never learns what it says. Lines starting
 * with "/" are commands for the server, so they must stay readable; only
 * the text of "/msg <nick> <text>" is sealed. Without a passphrase nothing
 * here does anything: the client is step 05's.
 *
 * A sealed line carries the sender's nick, so a receiver notices when the
 * server put another name in front of it. So we must know our own nick, and
 * the server never tells us the "user:N" it picked: with a key, the client
 * chooses a nick and sends "/nick" as soon as it is connected.
 * ======================================================================== */

// Private texts get their own key (derived from the same passphrase), so the
// server cannot pass a private message off as a public one, or the reverse:
// the other key simply fails to open it.
const PRIVATE_CONTEXT = "/msg";

let boxes: { master: MasterKey; private: SecretBox } | null = null;
// What the server calls us, as far as we know; null while we don't know.
let myNick: string | null = null;
let previousNick: string | null = null;

// Take "--name value" (or "--name=value") out of argv, so parseEndpoint,
// which refuses options it does not know, never sees it.
function takeOption(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i === -1) return undefined;
  const arg = argv[i] ?? "";
  const inline = arg.length > name.length;
  const value = inline ? arg.slice(name.length + 1) : argv[i + 1];
  if (value === undefined) quit(2, `${name} needs a value`);
  argv.splice(i, inline ? 1 : 2);
  return value;
}

// Derive the key before connecting: scrypt takes ~100 ms on purpose, and
// we pay it once. The passphrase never comes from a plain argument: every
// user of the machine can read those with `ps`. An empty one is an error,
// not "no encryption": `SMALLCHAT_KEY=$TYPO` must not mean chatting in clear.
function setUpEncryption(keyFile: string | undefined, nickOption: string | undefined): void {
  let passphrase = process.env.SMALLCHAT_KEY;
  if (keyFile !== undefined) {
    try {
      passphrase = readFileSync(keyFile, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      quit(2, `--key-file: ${(err as Error).message}`);
    }
  }
  // --nick is honoured with or without a key: the user asked for it.
  myNick = nickOption ?? null;
  if (passphrase === undefined) return;
  if (passphrase === "") quit(2, "the passphrase is empty (SMALLCHAT_KEY or --key-file)");
  const master = deriveMasterKey(passphrase);
  boxes = { master, private: createSecretBox(master, { context: PRIVATE_CONTEXT }) };
  myNick ??= process.env.SMALLCHAT_NICK || loginName();
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
  if (!line.startsWith("/")) {
    if (currentChannel === null)
      return { error: "[!] not sent: you are in no channel: /join #name" };
    return sealLine(channelBox(currentChannel), line, "");
  }
  const space = line.indexOf(" ");
  const cmd = space === -1 ? line : line.slice(0, space);
  const arg = space === -1 ? "" : line.slice(space + 1);
  if (cmd === "/nick" && space !== -1) {
    // Optimistic: the server says nothing when /nick works, only when it
    // fails, and then showIncoming() puts the old nick back.
    previousNick = myNick;
    myNick = arg;
  } else if (cmd === "/msg") {
    const gap = arg.indexOf(" ");
    const text = gap === -1 ? "" : arg.slice(gap + 1);
    // No text: send it as it is and let the server explain the usage.
    if (text !== "") return sealLine(boxes.private, text, `/msg ${arg.slice(0, gap)} `);
  }
  return { send: line };
}

function sealLine(
  box: SecretBox,
  text: string,
  prefix: string,
): { send: string } | { error: string } {
  if (myNick === null) return { error: "[!] not sent: set a nick first with /nick <nick>" };
  try {
    return { send: prefix + box.seal(myNick, text) };
  } catch (err) {
    if (err instanceof MessageTooLongError) {
      return {
        error: `[!] not sent: too long to encrypt (${err.textBytes} bytes, at most ${err.maxTextBytes})`,
      };
    }
    return { error: `[!] not sent: ${(err as Error).message}` };
  }
}

// A line from the server -> the lines to show (not yet sanitized). Only
// "nick> ..." and "#chan nick> ..." lines are messages: neither a nick nor a
// channel name has spaces, so the first "> " after them ends the nick, and
// "Welcome ... /nick <nick> to ..." is not mistaken for one.
function showIncoming(line: string): string[] {
  if (boxes === null) return [line];
  followChannel(line);
  // "ERR nick ... taken", "ERR invalid nick", "ERR nicks starting with ...":
  // our last /nick failed. Simple on purpose: we assume it was the last one
  // we sent, which is wrong if two /nick are in flight at once.
  if (/^ERR (nick|invalid nick)/.test(line)) {
    myNick = previousNick;
    return myNick === null ? [line, "[!] no nick: use /nick <nick> before chatting"] : [line];
  }
  const message = parseMessage(line);
  if (message === null) return [line];
  const { channel, nick } = message;
  let rest = message.rest;
  const isPrivate = channel === null && rest.startsWith("(private) ");
  if (isPrivate) rest = rest.slice("(private) ".length);

  // Channel lines keep their channel in front, as the server sent them.
  const where = channel === null ? "" : `${channel} `;
  const box = isPrivate ? boxes.private : channelBox(channel ?? DEFAULT_CONTEXT);
  const opened = box.open(rest, nick);
  switch (opened.kind) {
    case "plain":
      return [`${where}[clear] ${nick}> ${message.rest}`];
    case "replay":
      return [`${where}[!] ${nick}> replayed message rejected`];
    case "unauthenticated":
      return [`${where}[!] ${nick}> could not decrypt (different passphrase, or tampered)`];
    case "unknown-version":
      return [
        `${where}[!] ${nick}> encrypted with unknown format ${opened.version} (newer client?)`,
      ];
    case "verified": {
      const shown = `${where}[e2e] ${opened.nick}> ${isPrivate ? "(private) " : ""}${opened.text}`;
      if (!opened.nickMismatch) return [shown];
      // A key holder sealed it as one nick and it reached us as another:
      // the server relabeled it, or a key holder is pretending.
      return [`${where}[!] sealed by ${opened.nick} but relayed as from ${nick}:`, shown];
    }
  }
}

/* ============================ Channels ====================================
 * Each channel gets its own key, derived from the master key with the
 * channel's name (HKDF, cheap: scrypt ran once at startup). A line sealed
 * for #a does not open in #b, so the server cannot move a message from one
 * room to another, and knowing one room's traffic says nothing about
 * another's. #lobby's key is the one step 06 used for everything, so a step
 * 06 client still talks with us in #lobby.
 *
 * We seal with the key of the channel the *server* says we talk in: it
 * answers every /join with "* now talking in #x", and a /part of the
 * current channel with "* left #x" (and a "now talking" line if we still
 * hold a channel). Simple on purpose: a line typed right after /join, before
 * the server's answer comes back, is sealed for the old channel and nobody
 * in the new one can open it.
 * ======================================================================== */

// Boxes kept at once. The server lets us into 10 channels; more boxes only
// come from a server inventing channel names, so the least recently used
// one is dropped (and with it its replay memory: a line of that channel
// could then be replayed once more).
const MAX_CHANNEL_BOXES = 32;

const channelBoxes = new Map<string, SecretBox>();
let currentChannel: string | null = DEFAULT_CONTEXT; // Everyone starts in #lobby.

function channelBox(channel: string): SecretBox {
  if (boxes === null) throw new Error("no passphrase"); // Only called with one.
  let box = channelBoxes.get(channel);
  if (box === undefined) {
    box = createSecretBox(boxes.master, { context: channel });
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

// Follow the server's word on where our plain lines go.
function followChannel(line: string): void {
  const talking = /^\* now talking in (#\S+)$/.exec(line);
  if (talking !== null) currentChannel = talking[1] ?? null;
  else if (line === `* left ${currentChannel}`) currentChannel = null;
}

// "#rust alice> text" or "alice> text" -> its parts; null for anything
// else. The channel form is tried first: a nick may start with "#" too, and
// "#a> b> c" could be either; the server allows both, so we pick one.
function parseMessage(line: string): { channel: string | null; nick: string; rest: string } | null {
  const inChannel = /^(#\S+) (\S+?)> /.exec(line);
  if (inChannel !== null) {
    const [head, channel = "", nick = ""] = inChannel;
    return { channel, nick, rest: line.slice(head.length) };
  }
  const end = line.indexOf("> ");
  const nick = line.slice(0, end);
  if (end <= 0 || /\s/.test(nick)) return null;
  return { channel: null, nick, rest: line.slice(end + 2) };
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
  const printAbove = (lines: string[]) => {
    if (lines.length === 0) return;
    write(hideLine() + lines.map((l) => `${sanitize(l)}\n`).join("") + showLine(line, columns()));
  };

  socket.on("data", (chunk: Buffer) => printAbove(incoming.push(chunk).flatMap(showIncoming)));
  socket.on("error", (err) => {
    lostBecause = describe(err);
  });
  socket.on("close", () => {
    const rest = incoming.end();
    if (rest !== "") printAbove(showIncoming(rest));
    quit(1, `Connection lost: ${lostBecause}`);
  });

  const handleKeys = (list: Key[]) => {
    for (const key of list) {
      const result = feedKey(line, key, columns());
      line = result.state;
      write(result.output);
      if (result.quit !== undefined) quit(0);
      if (result.submit !== undefined) {
        const out = outgoingLine(result.submit);
        if ("error" in out) {
          write(`${out.error}\n${showLine(line, columns())}`);
          continue;
        }
        socket.write(`${out.send}\n`);
        // smallchat shows our own lines too, since the server does not
        // send them back to us.
        write(`you> ${sanitize(result.submit)}\n${showLine(line, columns())}`);
      }
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

  // An empty line says nothing, as at the keyboard: skip it.
  const send = (lines: string[]) => {
    for (const l of lines) {
      if (l === "") continue;
      const out = outgoingLine(l);
      if ("error" in out) process.stderr.write(`${out.error}\n`);
      else socket.write(`${out.send}\n`);
    }
  };

  socket.on("data", (chunk: Buffer) => {
    for (const l of incoming.push(chunk).flatMap(showIncoming)) {
      process.stdout.write(`${sanitize(l)}\n`);
    }
  });
  socket.on("error", (err) => {
    lostBecause = describe(err);
  });
  socket.on("close", () => {
    const rest = incoming.end();
    for (const l of rest === "" ? [] : showIncoming(rest)) process.stdout.write(`${sanitize(l)}\n`);
    // After our own end of input, the server closing is the normal goodbye.
    if (stdinEnded) quit(0);
    quit(1, `Connection lost: ${lostBecause}`);
  });

  process.stdin.on("data", (chunk: Buffer) => send(input.push(chunk)));
  process.stdin.on("end", () => {
    send([input.end()]);
    stdinEnded = true;
    // end() sends what is still queued, then a FIN: the server reads our
    // last line before it sees that we are done.
    socket.end(() => setTimeout(() => quit(0), CLOSE_GRACE_MS));
  });
}

/* ============================ Main ======================================== */

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const keyFile = takeOption(argv, "--key-file");
  const nick = takeOption(argv, "--nick");
  const { host, port } = parseEndpoint(argv, "localhost");
  setUpEncryption(keyFile, nick);
  let socket: net.Socket;
  try {
    socket = await TCPConnect(host, port, 5000);
  } catch (err) {
    quit(1, `Connecting to ${host}:${port}: ${describe(err as Error)}`);
  }
  if (myNick !== null) socket.write(`/nick ${myNick}\n`);
  if (boxes !== null) {
    process.stderr.write(
      `encryption on (nick ${myNick ?? "not set"}): chat lines are sealed before they leave\n`,
    );
  }
  // Both ends must be a terminal to edit: with stdout redirected to a file,
  // our cursor movements would land in the file.
  if (process.stdin.isTTY && process.stdout.isTTY) {
    interactive(socket);
  } else {
    piped(socket);
  }
}

void main();
