// server.ts -- read what clients write, send it to all the other clients.
//
// This began as smallchat-server.c told in TypeScript, shortcuts included
// (step 01). A chat server is three things: accept connections, read what a
// client writes, and fan it out (send it to everybody else). Step 01 left
// out everything that makes a real server real (buffering, limits, fast
// lookups, an explicit event loop); each step since puts one thing back and
// says so below, and what is still missing is marked where it lives, with
// the step that fixes it. Node's event loop plays the role of select(2):
// instead of asking "which sockets are readable?" we get a callback per
// socket.
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

import type net from "node:net";
import {
  createTCPServer,
  listeningPort,
  log,
  onShutdown,
  parseEndpoint,
} from "@smallchat/shared/chatlib";

/* ============================ Data structures ============================
 * The minimal stuff we can afford to have. A client is its socket plus a
 * nick and its buffers; the chat is two dictionaries of clients.
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

// A peer that vanishes (cable pulled, laptop closed, NAT entry expired) sends
// no goodbye: without help, its socket stays open for ever and so does its
// nick. TCP keepalive asks the kernel to probe a connection after this long
// without traffic; a peer that does not answer the probes (Node sends 10, 1 s
// apart, on Linux) is reported as an error and freed like any other. A minute
// costs one tiny packet per idle client per minute, and keeps NAT boxes from
// forgetting a quiet connection.
const KEEPALIVE_MS = 60 * 1000;

// A client that ends its input may have closed only its sending side or the
// whole connection: TCP does not say which. We write to it once and look a
// second later: a peer that closed answers our bytes with a reset, which
// the next write reports. A second is many network round trips.
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
  outbuf: Buffer[]; // Replies waiting for the socket to drain.
  outbytes: number; // Their total size.
  gone: boolean; // Freed: ignore any late event.
}

// The global state of the chat. Two dictionaries over the same clients:
// by id (who is this socket?) and by nick (who is "alice"?). Keeping them in
// sync is the price of O(1) lookups both ways: every change of membership
// or of nick touches both, and only createClient, freeClient and setNick
// do that.
interface ChatState {
  server: net.Server | null;
  clients: Map<number, Client>;
  byNick: Map<string, Client>;
  nextId: number;
}

const Chat: ChatState = { server: null, clients: new Map(), byNick: new Map(), nextId: 1 };

/* ====================== Small chat core implementation ===================
 * Here the idea is very simple: we accept new connections, read what
 * clients write us and fan-out (that is, send-to-all) the message to
 * everybody with the exception of the sender.
 * ======================================================================== */

// Create a new client for a just accepted socket. Called on every new
// connection; as a side effect the client joins both dictionaries.
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
    gone: false,
  };
  Chat.clients.set(id, c);
  Chat.byNick.set(c.nick, c);
  return c;
}

// Free a client: close its socket and forget it. Safe to call twice (a
// socket can report an error and then a close).
function freeClient(c: Client, reason: string): void {
  if (c.gone) return;
  c.gone = true;
  Chat.clients.delete(c.id);
  Chat.byNick.delete(c.nick);
  c.socket.destroy();
  log(`Disconnected client id=${c.id}, nick=${c.nick}: ${reason}`);
}

/* ============================ Output buffers =============================
 * socket.write() never blocks: when the kernel's socket buffer is full,
 * Node keeps the data in memory and write() returns false, meaning "please
 * stop until 'drain'". We honour that: while a socket needs draining, new
 * replies wait in the client's own output buffer, whose size we can see and
 * limit. On 'drain' the whole buffer goes out in one write.
 * ======================================================================== */

// Queue `s` for client `c`, writing it at once when the socket can take it.
// Side effect: a client over its output limit is disconnected.
function sendToClient(c: Client, s: string | Buffer): void {
  if (c.gone) return;
  const data = typeof s === "string" ? Buffer.from(s) : s;
  if (!c.socket.writableNeedDrain && c.outbytes === 0) {
    c.socket.write(data);
    return;
  }
  c.outbuf.push(data);
  c.outbytes += data.length;
  // Node may still hold the last chunk it accepted: count it too.
  if (c.outbytes + c.socket.writableLength > MAX_OUTPUT_BYTES) {
    freeClient(c, `output buffer over ${MAX_OUTPUT_BYTES} bytes (client not reading)`);
  }
}

// Called on 'drain': the kernel took what Node held, so send what we held.
function flushClient(c: Client): void {
  if (c.gone || c.outbytes === 0) return;
  const data = c.outbuf.length === 1 ? c.outbuf[0]! : Buffer.concat(c.outbuf);
  c.outbuf = [];
  c.outbytes = 0;
  c.socket.write(data);
}

// Send `s` to every connected client except `excluded` (pass null to send
// to everybody).
function sendMsgToAllClientsBut(excluded: Client | null, s: string): void {
  const data = Buffer.from(s); // Encode once, not once per recipient.
  // A Map may lose entries while we iterate (a slow client dropped by
  // sendToClient): JavaScript's Map iterators are fine with that.
  for (const c of Chat.clients.values()) {
    if (c === excluded) continue;
    sendToClient(c, data);
  }
}

/* ============================ Input buffers ==============================
 * A 'data' event carries whatever bytes arrived: half a line, or several.
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
  setTimeout(() => {
    if (!c.gone && peerHasGone(c)) freeClient(c, "closed by peer");
  }, HALF_CLOSE_CHECK_MS);
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
    } else {
      sendToClient(c, "Unsupported command\n");
    }
    return;
  }
  // Create the message to send everybody (and show on the server console)
  // in the form "nick> some message".
  const msg = `${c.nick}> ${line}\n`;
  process.stdout.write(msg);
  sendMsgToAllClientsBut(c, msg);
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

/* ============================ Main ======================================= */

async function main(): Promise<void> {
  const { host, port } = parseEndpoint(process.argv.slice(2), "0.0.0.0");
  try {
    Chat.server = await createTCPServer(host, port, { allowHalfOpen: true });
  } catch (err) {
    console.error(`Creating listening socket: ${(err as Error).message}`);
    process.exit(1);
  }

  // Where select(2) would tell us "the listening socket is readable", Node
  // calls us with an already accepted socket. Naive on purpose: the loop is
  // hidden in Node, one callback per socket event, and every message is one
  // write per recipient. Step 05 fixes this.
  Chat.server.on("connection", (socket: net.Socket) => {
    const c = createClient(socket);
    socket.setKeepAlive(true, KEEPALIVE_MS);
    sendToClient(c, "Welcome to Simple Chat! Use /nick <nick> to set your nick.\n");
    log(`Connected client id=${c.id}`);

    socket.on("data", (chunk: Buffer) => readFromClient(c, chunk));
    socket.on("drain", () => flushClient(c));
    // read() returning 0 (the peer sent its FIN) ends the input, not the
    // client: see endOfInput(). -1 (an error) means the client is gone.
    socket.on("end", () => endOfInput(c));
    socket.on("error", (err) => freeClient(c, err.message));
    socket.on("close", () => freeClient(c, "connection closed"));
  });

  onShutdown(() => {
    for (const c of Chat.clients.values()) freeClient(c, "server shutting down");
    Chat.server?.close();
  });
  log(`listening on ${host}:${listeningPort(Chat.server)}`);
}

void main();
