// server.ts -- read what clients write, send it to all the other clients.
//
// This is smallchat-server.c told in TypeScript, shortcuts included. A chat
// server is three things: accept connections, read what a client writes,
// and fan it out (send it to everybody else). Everything that makes a real
// server real (buffering, limits, fast lookups, an explicit event loop) is
// left out on purpose, and each omission is marked where it lives, with the
// step that fixes it. Node's event loop plays the role of select(2): instead
// of asking "which sockets are readable?" we get a callback per socket.

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
 * nick; the chat is the list of clients.
 * ======================================================================== */

// A connected client. `id` stands in for the file descriptor that identifies
// a client in the C version: it is also where the default nick comes from.
interface Client {
  id: number;
  socket: net.Socket;
  nick: string;
}

// The global state of the chat.
interface ChatState {
  server: net.Server | null;
  clients: Client[]; // Naive on purpose: a plain array, scanned linearly. Step 03 fixes this.
  nextId: number;
}

const Chat: ChatState = { server: null, clients: [], nextId: 1 };

/* ====================== Small chat core implementation ===================
 * Here the idea is very simple: we accept new connections, read what
 * clients write us and fan-out (that is, send-to-all) the message to
 * everybody with the exception of the sender.
 * ======================================================================== */

// Create a new client for a just accepted socket. Called on every new
// connection; as a side effect the client joins Chat.clients.
function createClient(socket: net.Socket): Client {
  const id = Chat.nextId++;
  const c: Client = { id, socket, nick: `user:${id}` };
  Chat.clients.push(c);
  return c;
}

// Free a client: close its socket and forget it. Safe to call twice (a
// socket can report an error and then a close).
function freeClient(c: Client, reason: string): void {
  const j = Chat.clients.indexOf(c); // Naive on purpose: O(n) removal. Step 03 fixes this.
  if (j === -1) return;
  Chat.clients.splice(j, 1);
  c.socket.destroy();
  log(`Disconnected client id=${c.id}, nick=${c.nick}: ${reason}`);
}

// Send `s` to every connected client except `excluded` (pass null to send
// to everybody).
function sendMsgToAllClientsBut(excluded: Client | null, s: string): void {
  for (const c of Chat.clients) {
    if (c === excluded) continue;
    // Important: we don't do ANY BUFFERING of our own and we ignore what
    // write() returns. If a client does not read, Node queues the data in
    // memory for it, forever. Naive on purpose: no output limit. Step 02 fixes this.
    c.socket.write(s);
  }
}

// Handle one chunk of bytes from a client. smallchat's read() hopes to get
// exactly one well formed line; so do we.
//
// Naive on purpose: every 'data' chunk is taken as one whole line. Two lines
// sent in one packet arrive as one message, half a line as two. Step 02 fixes this.
function handleChunk(c: Client, chunk: Buffer): void {
  const text = chunk.toString("utf8");
  // If the message starts with "/", it is a command. So far only
  // /nick <newnick> is implemented.
  if (text.startsWith("/")) {
    // Strip the newline (and the \r telnet adds) like the C code does:
    // everything from the first \r or \n on goes away.
    const line = text.replace(/[\r\n][\s\S]*$/, "");
    const space = line.indexOf(" ");
    const cmd = space === -1 ? line : line.slice(0, space);
    const arg = space === -1 ? null : line.slice(space + 1);
    if (cmd === "/nick" && arg !== null) {
      // Naive on purpose: any nick is accepted, even one somebody else has. Step 03 fixes this.
      log(`Client id=${c.id} ${c.nick} is now known as ${arg}`);
      c.nick = arg;
    } else {
      c.socket.write("Unsupported command\n");
    }
    return;
  }
  // Create the message to send everybody (and show on the server console)
  // in the form "nick> some message". The chunk keeps its own newline, if
  // it had one: we relay exactly what we read.
  const msg = `${c.nick}> ${text}`;
  process.stdout.write(msg);
  sendMsgToAllClientsBut(c, msg);
}

/* ============================ Main ======================================= */

async function main(): Promise<void> {
  const { host, port } = parseEndpoint(process.argv.slice(2), "0.0.0.0");
  try {
    Chat.server = await createTCPServer(host, port);
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
    socket.write("Welcome to Simple Chat! Use /nick <nick> to set your nick.\n");
    log(`Connected client id=${c.id}`);

    socket.on("data", (chunk: Buffer) => handleChunk(c, chunk));
    // read() returning 0 (the peer closed) or -1 (an error) both mean the
    // client is gone. Node tells the two apart, so we can log why.
    socket.on("end", () => freeClient(c, "closed by peer"));
    socket.on("error", (err) => freeClient(c, err.message));
    socket.on("close", () => freeClient(c, "connection closed"));
  });

  onShutdown(() => {
    for (const c of [...Chat.clients]) freeClient(c, "server shutting down");
    Chat.server?.close();
  });
  log(`listening on ${host}:${listeningPort(Chat.server)}`);
}

void main();
