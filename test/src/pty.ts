// pty.ts -- run a program in a real pseudo-terminal and look at its screen.
//
// A terminal program cannot be tested through pipes: it asks isatty(),
// switches the terminal to raw mode and draws with escape sequences. So we
// give it a real PTY (node-pty), feed everything it writes into a terminal
// emulator (@xterm/headless), and assert on what a person would see: the
// rendered rows and the cursor. Raw bytes are the wrong thing to assert on:
// the kernel turns "\n" into "\r\n" (raw mode keeps ONLCR), a redraw may
// paint a row three times, and only the final picture matters.
//
// Waiting works like harness.ts: every wait is for a condition on the
// screen, checked again each time the emulator has parsed new output, with
// a timeout whose error shows the screen. Never a sleep.

import type { Terminal } from "@xterm/headless";
import xterm from "@xterm/headless";
import * as nodePty from "node-pty";
import { nodeArgs } from "./compiled.ts";
import { DEFAULT_TIMEOUT, type Match } from "./harness.ts";

/* ============================ Screens ===================================== */

export interface Screen {
  /** Every row of the visible screen, trailing spaces removed. */
  lines: string[];
  /** Zero-based column and row of the cursor on the visible screen. */
  cursor: { x: number; y: number };
  /** The rows joined with "\n", trailing empty rows removed. */
  text: string;
  /** The row the cursor is on. */
  cursorLine: string;
}

function readScreen(term: Terminal): Screen {
  const buffer = term.buffer.active;
  const lines: string[] = [];
  for (let y = 0; y < term.rows; y++) {
    lines.push(buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? "");
  }
  const cursor = { x: buffer.cursorX, y: buffer.cursorY };
  let last = lines.length;
  while (last > 0 && lines[last - 1] === "") last--;
  return {
    lines,
    cursor,
    text: lines.slice(0, last).join("\n"),
    cursorLine: lines[cursor.y] ?? "",
  };
}

function matches(text: string, match: Match): boolean {
  if (typeof match === "string") return text.includes(match);
  if (match instanceof RegExp) return match.test(text);
  return match(text);
}

// An error that shows the screen, the cursor's row marked with ">".
function failure(message: string, screen: Screen): Error {
  const rows = screen.lines.map((l, y) => `${y === screen.cursor.y ? ">" : " "}|${l}`);
  const cursor = `cursor at x=${screen.cursor.x} y=${screen.cursor.y}`;
  return new Error(`${message}; screen:\n${rows.join("\n")}\n${cursor}`);
}

/* ============================ Sessions ==================================== */

export interface PtyExit {
  exitCode: number;
  signal?: number;
}

export interface PtySession {
  pty: nodePty.IPty;
  term: Terminal;
  /** Everything the program wrote, raw, for debugging. */
  output(): string;
  /** Type: write bytes to the program's terminal input ("\r" is Enter, "\x03" Ctrl-C). */
  write(keys: string): void;
  screen(): Screen;
  /** Wait until the screen satisfies `predicate`; `what` names it in the timeout error. */
  waitFor(what: string, predicate: (s: Screen) => boolean, timeoutMs?: number): Promise<Screen>;
  /** Wait until the screen's text (rows joined with "\n") matches. */
  waitForText(match: Match, timeoutMs?: number): Promise<Screen>;
  /** Wait until the cursor is at column x (and row y, if given). */
  waitForCursor(x: number, y?: number, timeoutMs?: number): Promise<Screen>;
  /** Resize both the PTY (the program gets SIGWINCH) and the emulator. */
  resize(cols: number, rows: number): void;
  /** Resolves once the program has exited and all its output is on the screen. */
  exited: Promise<PtyExit>;
  waitForExit(timeoutMs?: number): Promise<PtyExit>;
  kill(signal?: string): void;
}

export interface PtyOptions {
  cols?: number;
  rows?: number;
  env?: Record<string, string>;
  cwd?: string;
}

const live = new Set<PtySession>();
process.once("exit", () => killAll());

// Kill every session still running (call it in afterEach: a failed test
// must not leave a client behind to receive the next test's messages).
export function killAll(): void {
  for (const session of live) session.kill("SIGKILL");
  live.clear();
}

// Start `file` with `args` in a new pseudo-terminal, cols x rows.
export function spawnInPty(file: string, args: string[], opts: PtyOptions = {}): PtySession {
  const { cols = 80, rows = 24, env = {}, cwd = process.cwd() } = opts;
  const term = new xterm.Terminal({ cols, rows, allowProposedApi: true, scrollback: 1000 });
  const pty = nodePty.spawn(file, args, {
    name: "xterm-256color",
    cols,
    rows,
    cwd,
    env: { ...process.env, TERM: "xterm-256color", ...env },
  });
  let raw = "";
  let exit: PtyExit | null = null;
  let checks: Array<() => void> = [];
  const recheck = () => {
    const pending = checks;
    checks = [];
    for (const check of pending) check();
  };

  pty.onData((data) => {
    raw += data;
    term.write(data, recheck); // The callback runs once xterm has parsed this chunk.
  });
  const exited = new Promise<PtyExit>((resolve) => {
    pty.onExit((e) => {
      // Let the emulator finish parsing what was written before the exit.
      term.write("", () => {
        exit = e;
        live.delete(session);
        recheck();
        resolve(e);
      });
    });
  });

  const waitFor = (what: string, predicate: (s: Screen) => boolean, timeoutMs = DEFAULT_TIMEOUT) =>
    new Promise<Screen>((resolve, reject) => {
      const timer = setTimeout(() => {
        checks = checks.filter((fn) => fn !== check);
        reject(failure(`timed out after ${timeoutMs} ms waiting for ${what}`, readScreen(term)));
      }, timeoutMs);
      const check = () => {
        const screen = readScreen(term);
        if (predicate(screen)) {
          clearTimeout(timer);
          resolve(screen);
        } else if (exit !== null) {
          clearTimeout(timer);
          reject(failure(`program exited (code ${exit.exitCode}) before ${what}`, screen));
        } else {
          checks.push(check);
        }
      };
      check();
    });

  const session: PtySession = {
    pty,
    term,
    output: () => raw,
    write: (keys) => pty.write(keys),
    screen: () => readScreen(term),
    waitFor,
    waitForText: (match, timeoutMs) =>
      waitFor(`screen text ${String(match)}`, (s) => matches(s.text, match), timeoutMs),
    waitForCursor: (x, y, timeoutMs) =>
      waitFor(
        `cursor at x=${x}${y === undefined ? "" : ` y=${y}`}`,
        (s) => s.cursor.x === x && (y === undefined || s.cursor.y === y),
        timeoutMs,
      ),
    resize: (newCols, newRows) => {
      term.resize(newCols, newRows);
      pty.resize(newCols, newRows);
    },
    exited,
    waitForExit: (timeoutMs = DEFAULT_TIMEOUT) =>
      Promise.race([
        exited,
        new Promise<never>((_, reject) => {
          const timer = setTimeout(() => {
            reject(failure(`program still running after ${timeoutMs} ms`, readScreen(term)));
          }, timeoutMs);
          void exited.then(() => clearTimeout(timer));
        }),
      ]),
    kill: (signal = "SIGTERM") => {
      if (exit === null) {
        try {
          pty.kill(signal);
        } catch {
          // Already gone.
        }
      }
    },
  };
  live.add(session);
  return session;
}

// The arguments that run a TypeScript entry point with node: one process
// (the tsx binary would start two), compiled as harness.ts does (compiled.ts).
export function tsNodeArgs(script: URL | string, args: string[] = []): string[] {
  return nodeArgs(script, args);
}

// Start a TypeScript program in a PTY: `node --import tsx script ...args`.
export function spawnTsInPty(
  script: URL | string,
  args: string[] = [],
  opts: PtyOptions = {},
): PtySession {
  return spawnInPty(process.execPath, tsNodeArgs(script, args), opts);
}
