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

import type net from "node:net";
import { StringDecoder } from "node:string_decoder";
import { parseEndpoint, TCPConnect } from "@smallchat/shared/chatlib";
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

  socket.on("data", (chunk: Buffer) => printAbove(incoming.push(chunk)));
  socket.on("error", (err) => {
    lostBecause = describe(err);
  });
  socket.on("close", () => {
    const rest = incoming.end();
    if (rest !== "") printAbove([rest]);
    quit(1, `Connection lost: ${lostBecause}`);
  });

  const handleKeys = (list: Key[]) => {
    for (const key of list) {
      const result = feedKey(line, key, columns());
      line = result.state;
      write(result.output);
      if (result.quit !== undefined) quit(0);
      if (result.submit !== undefined) {
        socket.write(`${result.submit}\n`);
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
    for (const l of lines) if (l !== "") socket.write(`${l}\n`);
  };

  socket.on("data", (chunk: Buffer) => {
    for (const l of incoming.push(chunk)) process.stdout.write(`${sanitize(l)}\n`);
  });
  socket.on("error", (err) => {
    lostBecause = describe(err);
  });
  socket.on("close", () => {
    const rest = incoming.end();
    if (rest !== "") process.stdout.write(`${sanitize(rest)}\n`);
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
  const { host, port } = parseEndpoint(
    process.argv.slice(2),
    "localhost",
    "usage: client.ts [--host HOST] [--port PORT] [HOST [PORT]]",
  );
  let socket: net.Socket;
  try {
    socket = await TCPConnect(host, port, 5000);
  } catch (err) {
    quit(1, `Connecting to ${host}:${port}: ${describe(err as Error)}`);
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
