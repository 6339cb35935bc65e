// server.ts -- read what clients write, send it to all the other clients.
//
// This began as smallchat-server.c told in TypeScript, shortcuts included
// (step 01). A chat server is three things: accept connections, read what a
// client writes, and fan it out (send it to everybody else). Step 01 left
// out everything that makes a real server real (buffering, limits, fast
// lookups, an explicit event loop); each step since puts one thing back and
// says so below, and what is still missing is marked where it lives, with
// the step that fixes it.
//
// Step 02 stops hoping. TCP is a byte stream: a read returns whatever bytes
// have arrived, which may be half a line or three lines. Each client now has
// an input buffer where lines are reassembled, and an output buffer where
// replies wait while the client is slow to read, both with a size limit.
// The end of the stream is read right too: text after the last newline is a
// last line, a client that stopped sending still receives, and one that
// vanished without a word is noticed (TCP keepalive). And input is
// distrusted: control characters are neutralised, commands get their usage.
//
// Step 03 gives the chat a memory worth the name. Clients live in a Map by
// id and in a second Map by nick, so connecting, leaving and finding a user
// cost the same with ten clients or ten thousand. With the nick index come
// unique nicks, private messages (/msg) and the list of who is here (/who).
//
// Step 05 takes the loop back from Node. Until now every socket event ran
// its own callback and every message was one write() per recipient. Now a
// Poller (poller.ts) turns readiness into batches of events and one loop
// reads like the C servers: wait for ready sockets, serve each, run the
// timers that are due, then flush every client's pending output once, many
// messages in one write(), as Redis does before it sleeps. The timers give
// the server a pulse: a tick every second, which drops idle clients when
// --idle-timeout is given.
//
// Step 08 turns one room into many. A client talks in channels: /join
// #rust, /part, /list, /names. Everyone starts in #lobby, the old single
// room, kept exactly as it was so that nc users (and every earlier test)
// see no difference. The membership lives in two maps (channels.ts):
// channel -> members, so a line costs O(members of its channel) instead of
// O(all clients), and member -> channels, so a disconnect leaves every
// channel without scanning them all. Redis pub/sub keeps the same pair.

import type net from "node:net";
import {
  createTCPServer,
  listeningPort,
  log,
  onShutdown,
  parseEndpoint,
} from "@smallchat/shared/chatlib";
import { type Channel, Channels } from "./channels.ts";
import { type PollEvent, Poller } from "./poller.ts";

/* ============================ Data structures ============================
 * The minimal stuff we can afford to have. A client is its socket plus a
 * nick and its buffers; the chat is two dictionaries of clients, and the
 * channels they are in.
 * ======================================================================== */

// The longest line we accept, in bytes, without its newline. Without a
// limit a client that never sends "\n" makes us buffer forever.
const MAX_LINE_BYTES = 4096;

// How many bytes may wait in a client's output buffer (ours plus Node's)
// before we give up on that client. Redis calls this the client output
// buffer limit. A client that stops reading must not make us grow forever,
// and dropping its messages silently would be worse than dropping it.
const MAX_OUTPUT_BYTES = 1024 * 1024;

// Nicks are names other users type after /msg: short, and free of spaces
// and control bytes.
const MAX_NICK_BYTES = 32;

// A client whose pending output reaches this size is written at once,
// mid-iteration. Coalescing is for many small replies; a big backlog gains
// nothing by waiting, and must not count against the output limit of a
// client that reads just fine.
const FLUSH_NOW_BYTES = 64 * 1024;

// How often the loop wakes up when nothing happens: smallchat's select()
// timeout of one second, Redis's serverCron.
const TICK_MS = 1000;

// Where every client starts: the one room of steps 01-06. Its lines carry
// no channel prefix and it has no join/part/quit notices, so a plain nc
// session reads exactly as before. It exists even when empty.
const LOBBY = "#lobby";

// A channel name is "#" plus 1 to 31 bytes: no spaces, no commas, no
// control bytes (a name is printed in front of every line said there).
const MAX_CHANNEL_NAME_BYTES = 32;

// Channels cost memory that somebody else's typing created: one client may
// be in this many at once (#lobby included), and the server holds at most
// this many (#lobby included), however many clients ask.
const MAX_CHANNELS_PER_CLIENT = 10;
const MAX_CHANNELS = 1000;

// A peer that vanishes (cable pulled, laptop closed, NAT entry expired) sends
// no goodbye: without help, its socket stays open for ever and so does its
// nick. TCP keepalive asks the kernel to probe a connection after this long
// without traffic; a peer that does not answer the probes (Node sends 10, 1 s
// apart, on Linux) is reported as an error and freed like any other. A minute
// costs one tiny packet per idle client per minute, and keeps NAT boxes from
// forgetting a quiet connection.
const KEEPALIVE_MS = 60 * 1000;

// A client that ends its input may have closed only its sending side or the
// whole connection: TCP does not say which. We write to it once and look
// again on a tick at least a second later: a peer that closed answers our
// bytes with a reset, which the next write reports. A second is many
// network round trips.
const HALF_CLOSE_CHECK_MS = 1000;

// A connected client. `id` stands in for the file descriptor that identifies
// a client in the C version: it is also where the default nick comes from.
interface Client {
  id: number;
  socket: net.Socket;
  nick: string;
  inbuf: Buffer; // Bytes received after the last "\n": a line in progress.
  discarding: boolean; // Inside an overlong line: drop bytes up to the next "\n".
  inputEnded: boolean; // It sent its end of input (a FIN): it only listens now.
  outbuf: Buffer[]; // Replies waiting for the end of the iteration (or for 'drain').
  outbytes: number; // Their total size.
  inputEndedAt: number; // When it ended its input (ms, monotonic clock).
  lastInput: number; // When we last read bytes from it (ms, monotonic clock).
  current: Channel<Client> | null; // Where its plain lines go; null: nowhere yet.
  gone: boolean; // Freed: ignore any late event.
}

// The global state of the chat. Two dictionaries over the same clients:
// by id (who is this socket?) and by nick (who is "alice"?). Keeping them in
// sync is the price of O(1) lookups both ways: every change of membership
// or of nick touches both, and only createClient, freeClient and setNick
// do that. Next to them, what the loop needs: the poller, the clients with
// output waiting for the end of the iteration (Redis's
// clients_pending_write), the timers, and two counters that show what
// coalescing saves. And the channels: two more maps over the same clients
// (channel -> members, client -> channels), guarded the same way, by
// channels.ts alone.
interface ChatState {
  server: net.Server | null;
  clients: Map<number, Client>;
  byNick: Map<string, Client>;
  channels: Channels<Client>;
  nextId: number;
  poller: Poller<Client> | null;
  pendingWrites: Set<Client>;
  halfClosed: Set<Client>; // Ended their input, not yet checked: see endOfInput().
  timers: Timer[];
  idleTimeoutMs: number; // 0: clients may stay silent forever.
  running: boolean;
  stats: { messages: number; writes: number }; // Replies queued, socket.write() calls.
}

// A timer of the loop, like Redis's time events: run `proc` at `when`,
// then every `everyMs`.
interface Timer {
  when: number;
  everyMs: number;
  proc: () => void;
}

const Chat: ChatState = {
  server: null,
  clients: new Map(),
  byNick: new Map(),
  channels: new Channels<Client>({
    maxChannels: MAX_CHANNELS,
    maxPerMember: MAX_CHANNELS_PER_CLIENT,
    permanent: [LOBBY],
  }),
  nextId: 1,
  poller: null,
  pendingWrites: new Set(),
  halfClosed: new Set(),
  timers: [],
  idleTimeoutMs: 0,
  running: true,
  stats: { messages: 0, writes: 0 },
};

/* ====================== Small chat core implementation ===================
 * Here the idea is very simple: we accept new connections, read what
 * clients write us and fan-out (that is, send-to-all) the message to
 * everybody in the sender's channel with the exception of the sender.
 * ======================================================================== */

// Create a new client for a just accepted socket. Called on every new
// connection; as a side effect the client joins both dictionaries, and
// #lobby, silently.
function createClient(socket: net.Socket): Client {
  const id = Chat.nextId++;
  const c: Client = {
    id,
    socket,
    nick: `user:${id}`,
    inbuf: Buffer.alloc(0),
    discarding: false,
    inputEnded: false,
    outbuf: [],
    outbytes: 0,
    inputEndedAt: 0,
    lastInput: performance.now(),
    current: null,
    gone: false,
  };
  Chat.clients.set(id, c);
  Chat.byNick.set(c.nick, c);
  // A new client is in no channel, and #lobby always exists: this join
  // cannot hit a limit.
  const lobby = Chat.channels.join(c, LOBBY);
  if (lobby.ok) c.current = lobby.channel;
  return c;
}

// Free a client: close its socket and forget it. Safe to call twice (a
// socket can report an error and then a close). With `lastWords`, the
// client is told why: they go out after any pending output, and end() (not
// destroy()) lets the kernel deliver them before the connection closes.
// A socket that still needs draining would never take them: destroy it.
function freeClient(c: Client, reason: string, lastWords?: string): void {
  if (c.gone) return;
  c.gone = true;
  Chat.clients.delete(c.id);
  Chat.byNick.delete(c.nick);
  // Leave every channel and tell who is left there: O(channels of c x
  // their members), however many clients the server has.
  for (const ch of Chat.channels.partAll(c)) sendNotice(ch, c, "quit");
  Chat.pendingWrites.delete(c);
  Chat.halfClosed.delete(c);
  Chat.poller?.remove(c.socket);
  if (lastWords === undefined || c.socket.writableNeedDrain) {
    c.socket.destroy();
  } else {
    const socket = c.socket;
    socket.end(Buffer.concat([...c.outbuf, Buffer.from(lastWords)]), () => socket.destroy());
    Chat.stats.writes++;
  }
  log(`Disconnected client id=${c.id}, nick=${c.nick}: ${reason}`);
}

/* ============================ Output buffers =============================
 * socket.write() never blocks: when the kernel's socket buffer is full,
 * Node keeps the data in memory and write() returns false, meaning "please
 * stop until 'drain'". We honour that: while a socket needs draining, new
 * replies wait in the client's own output buffer, whose size we can see and
 * limit. On 'drain' the whole buffer goes out in one write.
 *
 * A reply is never written on the spot any more. It joins the client's
 * output buffer, the client joins Chat.pendingWrites, and at the end of the
 * loop iteration each pending client gets one write with everything queued
 * for it: fifty messages relayed in one iteration cost one system call and
 * (usually) one TCP packet per reader, not fifty.
 * ======================================================================== */

// Queue `s` for client `c`; the loop writes it before it sleeps again.
// Side effect: a client over its output limit is disconnected.
function sendToClient(c: Client, s: string | Buffer): void {
  if (c.gone) return;
  const data = typeof s === "string" ? Buffer.from(s) : s;
  c.outbuf.push(data);
  c.outbytes += data.length;
  Chat.stats.messages++;
  if (c.outbytes >= FLUSH_NOW_BYTES && !c.socket.writableNeedDrain) {
    flushClient(c);
    return;
  }
  Chat.pendingWrites.add(c);
  // Node may still hold the last chunk it accepted: count it too.
  if (c.outbytes + c.socket.writableLength > MAX_OUTPUT_BYTES) {
    freeClient(c, `output buffer over ${MAX_OUTPUT_BYTES} bytes (client not reading)`);
  }
}

// Send everything queued for `c` in one write. Called for each pending
// client at the end of an iteration, and early for a big backlog.
function flushClient(c: Client): void {
  Chat.pendingWrites.delete(c);
  if (c.gone || c.outbytes === 0) return;
  const data = c.outbuf.length === 1 ? c.outbuf[0]! : Buffer.concat(c.outbuf, c.outbytes);
  c.outbuf = [];
  c.outbytes = 0;
  c.socket.write(data);
  Chat.stats.writes++;
}

// Redis's handleClientsWithPendingWrites(), run once per iteration before
// the loop sleeps. A socket that still needs draining is skipped: its
// 'drain' comes back as a writable event, which puts it here again.
function handleClientsWithPendingWrites(): void {
  for (const c of Chat.pendingWrites) {
    if (c.socket.writableNeedDrain) {
      Chat.pendingWrites.delete(c);
      continue;
    }
    flushClient(c);
  }
  flushConsole();
}

// The server's console is one more reader of every line, and the slowest:
// process.stdout.write() to a file, a pipe or a terminal is a blocking
// write(2). One per relayed line was most of the system calls the server
// made (the README has the numbers), so the echo waits for the end of the
// iteration too, and goes out in one write like everybody else's output.
let consoleOut: string[] = [];

function printToConsole(s: string): void {
  consoleOut.push(s);
}

function flushConsole(): void {
  if (consoleOut.length === 0) return;
  process.stdout.write(consoleOut.join(""));
  consoleOut = [];
}

// Send `s` to every member of `channel` except `excluded` (pass null to
// send to everybody there). O(members of the channel): the clients
// elsewhere are never even looked at.
function sendMsgToChannelBut(channel: Channel<Client>, excluded: Client | null, s: string): void {
  const data = Buffer.from(s); // Encode once, not once per recipient.
  // A Set may lose members while we iterate (a slow client dropped by
  // sendToClient leaves its channels): JavaScript's Set iterators are fine
  // with that.
  for (const c of channel.members) {
    if (c === excluded) continue;
    sendToClient(c, data);
  }
}

/* ============================ Input buffers ==============================
 * A read returns whatever bytes arrived: half a line, or several.
 * We append them to the client's input buffer and cut out every complete
 * line; what follows the last "\n" waits for the next read.
 * ======================================================================== */

// A strict decoder: invalid UTF-8 throws instead of turning into U+FFFD, so
// we can tell the sender instead of relaying mojibake.
const utf8 = new TextDecoder("utf-8", { fatal: true });

// Handle bytes read from a client: split them into lines and process each.
function readFromClient(c: Client, chunk: Buffer): void {
  let buf = c.inbuf.length === 0 ? chunk : Buffer.concat([c.inbuf, chunk]);
  let start = 0;
  while (!c.gone) {
    const nl = buf.indexOf(10, start); // 10 is "\n".
    if (nl === -1) break;
    let end = nl;
    if (end > start && buf[end - 1] === 13) end--; // Accept "\r\n" too (telnet sends it).
    if (c.discarding) {
      c.discarding = false; // The overlong line ends here: the next one is fine.
    } else if (end - start > MAX_LINE_BYTES) {
      rejectLongLine(c);
    } else {
      processLine(c, buf.subarray(start, end));
    }
    start = nl + 1;
  }
  buf = buf.subarray(start);
  // No "\n" in sight and already more than a line's worth (+1 for a "\r"
  // that may precede the "\n"): this line is too long. Say so once, drop
  // what we have and skip the rest of it, whatever its size.
  if (c.discarding) {
    buf = buf.subarray(buf.length);
  } else if (buf.length > MAX_LINE_BYTES + 1) {
    rejectLongLine(c);
    c.discarding = true;
    buf = buf.subarray(buf.length);
  }
  // Copy, so a small leftover does not pin Node's whole 64 KiB read chunk.
  c.inbuf = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
}

// Called when the poller reports `c` readable: take every chunk Node holds
// until read() returns null, the twin of calling read(2) on a non-blocking
// socket until EAGAIN. Stopping early would be a bug, not a saving: Node
// reports 'readable' again only after a read() came back empty.
function readAllFromClient(c: Client): void {
  while (!c.gone) {
    const chunk = c.socket.read() as Buffer | null;
    if (chunk === null) break;
    c.lastInput = performance.now();
    readFromClient(c, chunk);
  }
}

// Called when the client ends its input: its last bytes, if they did not end
// with a newline, are still a line (`printf 'hi' | nc -N host port` says
// "hi"). The connection stays open (allowHalfOpen): a client with nothing
// more to say may still want to listen. We tell it so, and that very line
// tells us, a moment later, whether anybody was there to read it.
function endOfInput(c: Client): void {
  if (c.gone || c.inputEnded) return;
  c.inputEnded = true;
  // The kernel reports a reset (the peer aborted) as an end of input too.
  // Aborted means its half line was never meant to be sent: an empty write,
  // which fails at once on a reset connection, tells the two apart.
  if (peerHasGone(c)) {
    freeClient(c, "connection reset by peer");
    return;
  }
  if (c.inbuf.length > 0 && !c.discarding) {
    const last = c.inbuf;
    c.inbuf = Buffer.alloc(0);
    const end = last[last.length - 1] === 13 ? last.length - 1 : last.length;
    processLine(c, last.subarray(0, end));
  }
  if (c.gone) return;
  log(`Client id=${c.id} ended its input: still receiving`);
  sendToClient(c, "* end of your input: you still receive messages until you close\n");
  c.inputEndedAt = performance.now();
  Chat.halfClosed.add(c); // serverCron looks again.
}

// An empty write costs no packet, but fails on the spot if the connection
// was reset (by an abort, or because a peer that had closed answered our
// bytes with a reset).
function peerHasGone(c: Client): boolean {
  c.socket.write(Buffer.alloc(0));
  return c.socket.errored !== null;
}

function rejectLongLine(c: Client): void {
  log(`Client id=${c.id} sent a line over ${MAX_LINE_BYTES} bytes: discarded`);
  sendToClient(c, `ERR line too long (max ${MAX_LINE_BYTES} bytes): discarded\n`);
}

// Control characters (ESC above all) in a message would let one user move
// the cursor, clear the screen or retitle the window of everybody else. That
// means C0 (U+0000-U+001F), DEL, and C1 (U+0080-U+009F): U+009B is a
// one-character ESC [, which many terminals obey. Tabs are harmless;
// everything else becomes U+FFFD, the replacement character.
function sanitize(text: string): string {
  return text.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, "\ufffd");
}

// Commands that need an argument, and what to tell whoever forgets it.
const USAGE = new Map([
  ["/nick", "/nick <nick>"],
  ["/msg", "/msg <nick> <text>"],
  ["/join", "/join #channel"],
]);

// Handle one complete line from a client (without its newline).
function processLine(c: Client, bytes: Buffer): void {
  let line: string;
  try {
    line = utf8.decode(bytes);
  } catch {
    log(`Client id=${c.id} sent invalid UTF-8: line discarded`);
    sendToClient(c, "ERR invalid UTF-8: line discarded\n");
    return;
  }
  line = sanitize(line);
  // A line of nothing but spaces says nothing either: relay nothing.
  if (line.trim().length === 0) return;
  // If the message starts with "/", it is a command. Command names are
  // case-insensitive, as in IRC: /NICK is /nick.
  if (line.startsWith("/")) {
    const space = line.indexOf(" ");
    const cmd = (space === -1 ? line : line.slice(0, space)).toLowerCase();
    const rest = space === -1 ? "" : line.slice(space + 1);
    const arg = rest.trim().length === 0 ? null : rest;
    const usage = USAGE.get(cmd);
    if (arg === null && usage !== undefined) {
      sendToClient(c, `ERR usage: ${usage}\n`);
    } else if (cmd === "/nick" && arg !== null) {
      setNick(c, arg);
    } else if (cmd === "/msg" && arg !== null) {
      privateMessage(c, arg);
    } else if (cmd === "/who") {
      // Simple on purpose: one line with every nick, however many. A real
      // server would page it.
      sendToClient(c, `Users: ${[...Chat.byNick.keys()].join(" ")}\n`);
    } else if (cmd === "/join" && arg !== null) {
      joinChannel(c, arg);
    } else if (cmd === "/part") {
      partChannel(c, arg);
    } else if (cmd === "/list") {
      listChannels(c);
    } else if (cmd === "/names") {
      sendNames(c, arg);
    } else {
      sendToClient(c, "Unsupported command\n");
    }
    return;
  }
  const channel = c.current;
  if (channel === null) {
    sendToClient(c, NO_CHANNEL_ERR);
    return;
  }
  // Create the message to send the channel (and show on the server console)
  // in the form "nick> some message", or "#rust nick> some message" outside
  // #lobby: a client in several channels must know where a line was said.
  const msg = `${channel.name === LOBBY ? "" : `${channel.name} `}${c.nick}> ${line}\n`;
  printToConsole(msg);
  sendMsgToChannelBut(channel, c, msg);
}

/* ============================ Nicks =======================================
 * With a nick index, "is this nick taken?" and "where is alice?" are one
 * Map lookup each, instead of a scan of every client.
 * ======================================================================== */

// The first character of `name` that prints nothing or changes how what
// follows is drawn, as "U+200B"; null if there is none. That is C0 and C1
// controls, format characters (zero-width space U+200B and joiners, the bidi
// overrides U+202A-U+202E and isolates U+2066-U+2069, the BOM), separators
// other than the space, private-use and unassigned code points. In a name
// they let "root\u200b" pass for "root", or U+202E draw it backwards: a name
// must look like what it is.
function invisibleChar(name: string): string | null {
  const m = /(?! )[\p{C}\p{Z}]/u.exec(name);
  if (m === null) return null;
  return `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

// Handle /nick: validate, check it is free, then move the client in the
// nick index. On any error the old nick stays.
function setNick(c: Client, nick: string): void {
  if (nick.length === 0 || Buffer.byteLength(nick) > MAX_NICK_BYTES || /[\s\ufffd]/.test(nick)) {
    sendToClient(c, `ERR invalid nick: 1 to ${MAX_NICK_BYTES} bytes, no spaces\n`);
    return;
  }
  const hidden = invisibleChar(nick);
  if (hidden !== null) {
    sendToClient(c, `ERR invalid nick: ${hidden} is an invisible, control or bidi character\n`);
    return;
  }
  if (nick === c.nick) return;
  // "user:<id>" is what new clients are called: taking one could collide
  // with a client that has not connected yet.
  if (nick.startsWith("user:")) {
    sendToClient(c, "ERR nicks starting with user: are reserved\n");
    return;
  }
  // "#rust alice> hi" is a line said in #rust: a nick "#rust" would make
  // "#rust> hi" from the lobby read the same way to a client.
  if (nick.startsWith("#")) {
    sendToClient(c, "ERR nicks cannot start with #: channels do\n");
    return;
  }
  if (Chat.byNick.has(nick)) {
    sendToClient(c, `ERR nick ${nick} is already taken\n`);
    return;
  }
  log(`Client id=${c.id} ${c.nick} is now known as ${nick}`);
  Chat.byNick.delete(c.nick);
  c.nick = nick;
  Chat.byNick.set(nick, c);
}

// Handle /msg <nick> <text>: send to one client, found by nick.
function privateMessage(c: Client, arg: string): void {
  const space = arg.indexOf(" ");
  const nick = space === -1 ? arg : arg.slice(0, space);
  const text = space === -1 ? "" : arg.slice(space + 1);
  const target = Chat.byNick.get(nick);
  if (text.trim().length === 0) {
    sendToClient(c, "ERR usage: /msg <nick> <text>\n");
  } else if (target === undefined) {
    sendToClient(c, `ERR no such nick: ${nick}\n`);
  } else {
    sendToClient(target, `${c.nick}> (private) ${text}\n`);
  }
}

/* ============================ Channels ====================================
 * Membership lives in Chat.channels (channels.ts); what is here is the
 * chat around it: validating names, the replies and notices, and which
 * channel is current, that is where a client's plain lines go.
 * ======================================================================== */

const NO_CHANNEL_ERR = "ERR you are in no channel: /join #name first\n";

function validChannelName(name: string): boolean {
  const bytes = Buffer.byteLength(name);
  return (
    name.startsWith("#") &&
    bytes >= 2 &&
    bytes <= MAX_CHANNEL_NAME_BYTES &&
    // U+FFFD is what sanitize() made of a control byte.
    !/[\s,\x00-\x1f\x7f\ufffd]/.test(name) &&
    invisibleChar(name) === null
  );
}

// The error for a name validChannelName() refused. An invisible character
// is named, not echoed: echoed, it would do to the error what it did to
// the name.
function invalidChannelName(name: string): string {
  const hidden = invisibleChar(name);
  return hidden === null
    ? `ERR invalid channel name: ${shown(name)}\n`
    : `ERR invalid channel name: ${hidden} is an invisible, control or bidi character\n`;
}

// A name as the user typed it, cut short: an error must not echo back a
// whole 4 KiB line.
function shown(name: string): string {
  const chars = [...name]; // By code point, never half a character.
  if (chars.length <= MAX_CHANNEL_NAME_BYTES) return name;
  return `${chars.slice(0, MAX_CHANNEL_NAME_BYTES).join("")}...`;
}

// Tell the other members of `channel` that `c` joined, left or quit.
// Not in #lobby: it stays as quiet as the single room always was.
function sendNotice(channel: Channel<Client>, c: Client, what: "joined" | "left" | "quit"): void {
  if (channel.name === LOBBY) return;
  sendMsgToChannelBut(channel, c, `${channel.name} * ${c.nick} ${what}\n`);
}

// Handle /join #name: join it (creating it on first join) unless already
// in it, and in every case make it the current channel.
function joinChannel(c: Client, name: string): void {
  if (!validChannelName(name)) {
    sendToClient(c, invalidChannelName(name));
    return;
  }
  const res = Chat.channels.join(c, name);
  if (!res.ok) {
    sendToClient(
      c,
      res.limit === "member"
        ? `ERR too many channels: you are in ${MAX_CHANNELS_PER_CLIENT}, the limit\n`
        : `ERR too many channels on this server (max ${MAX_CHANNELS})\n`,
    );
    return;
  }
  if (res.joined) {
    log(`Client id=${c.id} ${c.nick} joined ${name}`);
    sendNotice(res.channel, c, "joined");
  }
  c.current = res.channel;
  sendToClient(c, `* now talking in ${name}\n`);
}

// Handle /part [#name] (default: the current channel). Leaving the current
// channel makes the most recently joined channel still held current, if
// any, and says so.
function partChannel(c: Client, arg: string | null): void {
  const name = arg ?? c.current?.name;
  if (name === undefined) {
    sendToClient(c, NO_CHANNEL_ERR);
    return;
  }
  if (!validChannelName(name)) {
    sendToClient(c, invalidChannelName(name));
    return;
  }
  const channel = Chat.channels.part(c, name);
  if (channel === null) {
    sendToClient(c, `ERR you are not in ${name}\n`);
    return;
  }
  log(`Client id=${c.id} ${c.nick} left ${name}`);
  sendNotice(channel, c, "left");
  sendToClient(c, `* left ${name}\n`);
  if (c.current !== channel) return;
  // The client's channels come in join order: the last is the newest.
  // At most MAX_CHANNELS_PER_CLIENT of them, so the walk is short.
  c.current = null;
  for (const ch of Chat.channels.channelsOf(c)) c.current = ch;
  if (c.current !== null) sendToClient(c, `* now talking in ${c.current.name}\n`);
}

// Handle /list: every channel with its number of members, by name.
// Simple on purpose, like /who: one unpaged line.
function listChannels(c: Client): void {
  const all = Chat.channels.list().map((ch) => `${ch.name}(${ch.members.size})`);
  sendToClient(c, `Channels: ${all.join(" ")}\n`);
}

// Handle /names [#name] (default: the current channel): who is in it, in
// join order. Any channel may be asked about, not only one's own.
function sendNames(c: Client, arg: string | null): void {
  const name = arg ?? c.current?.name;
  if (name === undefined) {
    sendToClient(c, NO_CHANNEL_ERR);
    return;
  }
  const channel = Chat.channels.get(name);
  if (channel === undefined) {
    sendToClient(c, `ERR no such channel: ${shown(name)}\n`);
    return;
  }
  const nicks = [...channel.members].map((m) => m.nick);
  sendToClient(c, `Names ${channel.name}: ${nicks.join(" ")}\n`);
}

/* ============================ Timers =====================================
 * The loop sleeps until a socket is ready *or* the next timer is due, so
 * the server can act when nobody talks: smallchat passes select() a
 * one-second timeout for this, Redis keeps a list of time events and sleeps
 * until the nearest one. Timers run inside the loop, between the events
 * and the flush, never from a callback of their own.
 * ======================================================================== */

function addTimer(everyMs: number, proc: () => void): void {
  Chat.timers.push({ when: performance.now() + everyMs, everyMs, proc });
}

// How long the loop may sleep: until the nearest timer.
function msUntilNextTimer(): number {
  let next = Number.POSITIVE_INFINITY;
  for (const t of Chat.timers) next = Math.min(next, t.when);
  return Math.max(0, next - performance.now());
}

// Run every timer that is due, and schedule its next run.
function runTimers(): void {
  const now = performance.now();
  for (const t of Chat.timers) {
    if (t.when > now) continue;
    t.proc();
    t.when = now + t.everyMs;
  }
}

// The one-second tick. Simple on purpose: it scans every client, O(n) per
// second; Redis's clientsCron scans a slice per tick, and a timer wheel
// would touch only the clients about to expire.
function serverCron(): void {
  if (Chat.idleTimeoutMs > 0) dropIdleClients();
  checkHalfClosedClients();
}

// A second or more after a client ended its input, look whether it is still
// there to read (see endOfInput). Once: a half-closed client that leaves
// later is noticed by the next write to it, or by keepalive.
function checkHalfClosedClients(): void {
  const now = performance.now();
  for (const c of Chat.halfClosed) {
    if (now - c.inputEndedAt < HALF_CLOSE_CHECK_MS) continue;
    Chat.halfClosed.delete(c);
    if (peerHasGone(c)) freeClient(c, "closed by peer");
  }
}

// Drop the clients that sent nothing for longer than --idle-timeout, telling
// them why first. Sending counts as activity, reading does not: a client
// that only listens must still say something (even an empty line) now and
// then.
function dropIdleClients(): void {
  const now = performance.now();
  const seconds = Chat.idleTimeoutMs / 1000;
  for (const c of Chat.clients.values()) {
    if (now - c.lastInput <= Chat.idleTimeoutMs) continue;
    freeClient(
      c,
      `idle timeout (no input for ${seconds} s)`,
      `ERR idle timeout: no input for ${seconds} s, closing the connection\n`,
    );
  }
}

/* ============================ The event loop =============================
 * smallchat's main() is one loop around select(): the listening socket
 * readable means accept, a client readable means read, and the timeout
 * means "nothing happened for a second". Ours has the same shape, with the
 * Poller in place of select() and one more step at the end: write what the
 * iteration queued, once per client (Redis's beforeSleep).
 * ======================================================================== */

// Handle one event from the poller.
function processEvent(ev: PollEvent<Client>): void {
  switch (ev.type) {
    case "accept": {
      const c = createClient(ev.socket);
      ev.socket.setKeepAlive(true, KEEPALIVE_MS);
      Chat.poller?.add(ev.socket, c);
      sendToClient(c, "Welcome to Simple Chat! Use /nick <nick> to set your nick.\n");
      log(`Connected client id=${c.id}`);
      break;
    }
    case "readable":
      readAllFromClient(ev.data);
      break;
    case "writable":
      // 'drain': the socket took what Node held. Whatever we queued
      // meanwhile goes out with this iteration's flush.
      if (ev.data.outbytes > 0 && !ev.data.gone) Chat.pendingWrites.add(ev.data);
      break;
    case "end":
      endOfInput(ev.data);
      break;
    case "closed":
      freeClient(ev.data, ev.reason);
      break;
  }
}

async function eventLoop(poller: Poller<Client>): Promise<void> {
  while (Chat.running) {
    const events = await poller.wait(msUntilNextTimer());
    for (const ev of events) processEvent(ev);
    runTimers();
    handleClientsWithPendingWrites();
  }
}

/* ============================ Main ======================================= */

const SERVER_USAGE = "usage: server.ts [--host HOST] [--port PORT] [--idle-timeout SECONDS]";

// Take --idle-timeout <seconds> out of the arguments; chatlib parses the
// rest. 0 (the default) turns the timeout off.
function parseIdleTimeout(argv: string[]): { idleTimeoutMs: number; rest: string[] } {
  const rest: string[] = [];
  let idleTimeoutMs = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let value: string | undefined;
    if (arg === "--idle-timeout") value = argv[++i];
    else if (arg.startsWith("--idle-timeout=")) value = arg.slice("--idle-timeout=".length);
    else {
      rest.push(arg);
      continue;
    }
    const seconds = Number(value);
    if (value === undefined || value === "" || !Number.isFinite(seconds) || seconds < 0) {
      console.error(`invalid --idle-timeout: ${value ?? "(missing)"}\n${SERVER_USAGE}`);
      process.exit(2);
    }
    idleTimeoutMs = seconds * 1000;
  }
  return { idleTimeoutMs, rest };
}

async function main(): Promise<void> {
  const { idleTimeoutMs, rest } = parseIdleTimeout(process.argv.slice(2));
  const { host, port } = parseEndpoint(rest, "0.0.0.0", SERVER_USAGE);
  Chat.idleTimeoutMs = idleTimeoutMs;
  try {
    Chat.server = await createTCPServer(host, port, { allowHalfOpen: true });
  } catch (err) {
    console.error(`Creating listening socket: ${(err as Error).message}`);
    process.exit(1);
  }

  // Where select(2) would tell us "the listening socket is readable", Node
  // calls us with an already accepted socket: the Poller turns that into an
  // accept event, and from here on every socket event reaches the loop as
  // part of a batch.
  Chat.poller = new Poller<Client>(Chat.server);
  addTimer(TICK_MS, serverCron);

  onShutdown(() => {
    Chat.running = false;
    for (const c of Chat.clients.values()) freeClient(c, "server shutting down");
    Chat.server?.close();
    log(`Sent ${Chat.stats.messages} messages in ${Chat.stats.writes} socket writes`);
  });
  log(`listening on ${host}:${listeningPort(Chat.server)}`);
  await eventLoop(Chat.poller);
}

void main();
