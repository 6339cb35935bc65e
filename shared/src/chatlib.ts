// chatlib.ts -- the few socket chores every smallchat program needs.
//
// This is the TypeScript twin of smallchat's chatlib.c: open a listening
// socket, connect to one, read the command line, print a log line. Nothing
// here knows about chat messages: lines, buffers, nicks and rooms are the
// lessons of the steps, so they live in the steps, where the reader can see
// them change.

import net from "node:net";
import { parseArgs } from "node:util";

export const SERVER_PORT = 7711;

/* ============================ Networking =================================
 * In C, createTCPServer() is socket() + setsockopt(SO_REUSEADDR) + bind() +
 * listen(). Node does all four inside server.listen(); what is left for us
 * is waiting until it has really happened, or failed.
 * ======================================================================== */

// Create a TCP server listening on host:port and resolve once the kernel has
// accepted the bind. Port 0 asks the kernel for any free port (tests use it);
// server.address() tells which one we got. The caller attaches 'connection',
// and may pass socket options for every accepted connection (from step 02
// on, allowHalfOpen: a client's end of input is not the end of the chat).
export function createTCPServer(
  host: string,
  port: number,
  options: net.ServerOpts = {},
): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true, ...options });
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

// The port a listening server really got (useful after asking for port 0).
export function listeningPort(server: net.Server): number {
  const addr = server.address();
  return typeof addr === "object" && addr !== null ? addr.port : 0;
}

// Connect to host:port, giving up after timeoutMs. A connect to a machine
// that drops packets would otherwise hang for minutes in the kernel's SYN
// retries: the user deserves a clear error much sooner.
export function TCPConnect(host: string, port: number, timeoutMs = 5000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connecting to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve(socket);
    });
    const onError = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once("error", onError);
  });
}

/* ============================ Command line ===============================
 * Every program takes the same two options, so a reader can move from one
 * step to the next without relearning how to start it. Servers default to
 * every interface (0.0.0.0), clients to localhost.
 * ======================================================================== */

export interface Endpoint {
  host: string;
  port: number;
}

// Parse --host/--port (and, for clients, the positional "host port" form
// smallchat-client uses). --help prints the usage line and exits 0; anything
// else it does not know prints what is wrong and the usage line to stderr
// and exits 2, with no stack trace: the caller's usage line, if it has more
// to say than --host and --port.
export function parseEndpoint(
  argv: string[],
  defaultHost: string,
  usage = "usage: server.ts [--host HOST] [--port PORT]",
): Endpoint {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { host: { type: "string" }, port: { type: "string" }, help: { type: "boolean" } },
      allowPositionals: true,
    });
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    const host = values.host ?? positionals[0] ?? defaultHost;
    const portText = values.port ?? positionals[1] ?? String(SERVER_PORT);
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new Error(`invalid port: ${portText}`);
    }
    return { host, port };
  } catch (err) {
    // Node's own text goes on about positionals after "--": the first
    // sentence is the one that helps here.
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    console.error(`${message}\n${usage}`);
    process.exit(2);
  }
}

/* ============================ Logging ====================================
 * smallchat just printf()s, one event per line. We do the same, and keep the
 * lines plain so that scripts (and our tests) can wait for "listening on".
 * ======================================================================== */

export function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

// Run cleanup once on SIGINT (Ctrl-C) or SIGTERM, then exit 0. Servers use
// it to close the listening socket and their clients instead of leaving the
// kernel to tidy up after a crash.
export function onShutdown(cleanup: () => void): void {
  const stop = (signal: string) => {
    log(`${signal} received, shutting down`);
    cleanup();
    process.exit(0);
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}
