// client.test.ts -- the client in a real terminal: what the user sees, what peers receive.
//
// The client runs in a pseudo-terminal, its output rendered by a terminal
// emulator, and the tests look at the screen a person would see. Peers are
// plain sockets from the harness. Nothing here sleeps: every step waits for
// the screen, a received line or an exit, with a timeout.

import { spawn } from "node:child_process";
import net from "node:net";
import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { connectClient, serverForAllTests, startServer } from "@smallchat/test/harness";
import {
  killAll,
  type PtySession,
  type Screen,
  spawnInPty,
  spawnTsInPty,
  tsNodeArgs,
} from "@smallchat/test/pty";
import { afterEach, describe, expect, it } from "vitest";

// Since step 04: runs against step 04 and every later step of its track.
for (const step of corpusSteps(4)) {
  describe(step.name, async () => {
    const CLIENT = stepFile(step, "src/client.ts");
    const SERVER = stepFile(step, "src/server.ts");

    const LEFT = "\x1b[D";
    const UP = "\x1b[A";
    const END = "\x1b[F";
    const HOME = "\x1b[H";
    const CTRL_C = "\x03";
    const CTRL_D = "\x04";

    const server = serverForAllTests(SERVER);
    afterEach(() => killAll());

    function startClient(port: number): PtySession {
      return spawnTsInPty(CLIENT, ["127.0.0.1", String(port)], { cols: 80, rows: 24 });
    }

    // Run the client from a shell that, once the client is gone, prints its
    // exit status and the terminal's modes: that is how we see whether the
    // terminal was given back (`stty -a` says "icanon" and "echo", not
    // "-icanon" and "-echo" as in raw mode). Then the shell waits for a line
    // that never comes (afterEach kills it): node-pty can report a program's
    // exit before the last of its output, and that output is the proof.
    function startClientInShell(port: number): PtySession {
      const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
      const command = [process.execPath, ...tsNodeArgs(CLIENT, ["127.0.0.1", String(port)])]
        .map(quote)
        .join(" ");
      return spawnInPty("/bin/sh", ["-c", `${command}; echo "exit=$?"; stty -a; read -r _`]);
    }

    function expectCookedTerminal(screen: Screen): void {
      const words = screen.text.split(/[\s;]+/);
      expect(words).toContain("icanon");
      expect(words).toContain("echo");
      expect(words).not.toContain("-icanon");
      expect(words).not.toContain("-echo");
    }

    // A port with nothing listening on it.
    async function freePort(): Promise<number> {
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
      const { port } = probe.address() as net.AddressInfo;
      await new Promise((resolve) => probe.close(resolve));
      return port;
    }

    describe("interactive client", () => {
      it("prints a message above the half-typed line and redraws the line and cursor", async () => {
        const bob = await connectClient(server().port);
        const pty = startClient(server().port);
        await pty.waitForText("Welcome to Simple Chat!");

        pty.write(`héllo 中文${LEFT}`); // The cursor now sits before 文: 6 + 2 columns in.
        const typing = await pty.waitForCursor(8);
        expect(typing.cursorLine).toBe("héllo 中文");

        await bob.send("hi from bob\n");
        const screen = await pty.waitFor(
          "the message above an intact input line",
          (s) => s.lines.some((l) => /^user:\d+> hi from bob$/.test(l)) && s.cursor.x === 8,
        );
        expect(screen.cursorLine).toBe("héllo 中文");
        expect(screen.lines[screen.cursor.y - 1]).toMatch(/^user:\d+> hi from bob$/);
        expect(screen.text).toContain("Welcome to Simple Chat!");

        // Type at the cursor, go to the end, send.
        pty.write(`!${END}\r`);
        await bob.waitForLine(/^user:\d+> héllo 中!文$/);
        const sent = await pty.waitForText("you> héllo 中!文");
        expect(sent.lines[sent.cursor.y - 1]).toBe("you> héllo 中!文");
        expect(sent.cursorLine).toBe("");
        expect(sent.cursor.x).toBe(0);

        pty.write(UP); // History brings the line back, cursor at its end.
        const recalled = await pty.waitForCursor(11);
        expect(recalled.cursorLine).toBe("héllo 中!文");
        bob.close();
      });

      it("sends each line of a multi-line paste", async () => {
        const bob = await connectClient(server().port);
        const pty = startClient(server().port);
        await pty.waitForText("Welcome to Simple Chat!");
        pty.write("pasted one\rpasted two\r"); // One read: the terminal sends a paste at once.
        await bob.waitForLine(/^user:\d+> pasted one$/);
        await bob.waitForLine(/^user:\d+> pasted two$/);
        const screen = await pty.waitForText("you> pasted one\nyou> pasted two");
        expect(screen.cursorLine).toBe("");
        bob.close();
      });

      it("scrolls a line longer than the terminal sideways instead of wrapping it", async () => {
        const bob = await connectClient(server().port);
        const pty = startClient(server().port);
        await pty.waitForText("Welcome to Simple Chat!");
        const long = Array.from({ length: 100 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(
          "",
        );

        pty.write(long);
        const atEnd = await pty.waitForCursor(79);
        expect(atEnd.cursorLine).toBe(long.slice(21)); // The last 79 characters.
        expect(atEnd.lines[atEnd.cursor.y - 1]).toMatch(/^Welcome/); // No wrapped row above.

        pty.write(HOME);
        const atHome = await pty.waitForCursor(0);
        expect(atHome.cursorLine).toBe(long.slice(0, 79));

        await bob.send("a message in between\n");
        await pty.waitForText(/> a message in between\n/);
        expect(pty.screen().cursorLine).toBe(long.slice(0, 79));

        pty.write("\r");
        expect(await bob.waitForLine(/> [a-z]+$/)).toMatch(new RegExp(`> ${long}$`));
        bob.close();
      });

      it("redraws the input line for the new width when the terminal is resized", async () => {
        const pty = startClient(server().port);
        await pty.waitForText("Welcome to Simple Chat!");
        const text = "0123456789".repeat(6);
        pty.write(text);
        await pty.waitForCursor(60);

        pty.resize(40, 24);
        const narrow = await pty.waitFor(
          "a 39-column view",
          (s) => s.cursorLine === text.slice(21),
        );
        expect(narrow.cursor.x).toBe(39);
      });

      it("shows control characters from peers instead of obeying them", async () => {
        // A server that plays a hostile peer: clear the screen, retitle the
        // window, ring the bell, turn text red, hide a C1 CSI.
        const evil = "\x1b[2J\x1b]0;pwned\x07evil\x1b[31m red\u009b2J\x7f\n";
        const hostile = net.createServer((socket) => socket.end(`Welcome!\n${evil}`));
        await new Promise<void>((resolve) => hostile.listen(0, "127.0.0.1", resolve));
        try {
          const pty = startClient((hostile.address() as net.AddressInfo).port);
          const screen = await pty.waitForText("^[[2J^[]0;pwned^Gevil^[[31m red\ufffd2J^?");
          expect(screen.lines[0]).toBe("Welcome!"); // Not cleared.
          const row = pty.term.buffer.active.getLine(1);
          for (let x = 0; x < 40; x++) expect(row?.getCell(x)?.isFgDefault()).toBe(true); // Not red.
          expect((await pty.waitForExit()).exitCode).toBe(1); // The hostile server hung up.
        } finally {
          hostile.close();
        }
      });
    });

    describe("leaving", () => {
      it("Ctrl-C exits 0 and gives the terminal back", async () => {
        const pty = startClientInShell(server().port);
        await pty.waitForText("Welcome to Simple Chat!");
        pty.write("half typed");
        await pty.waitForText("half typed");
        pty.write(CTRL_C);
        const screen = await pty.waitForText(/exit=0[\s\S]*icanon/);
        expect(screen.text).not.toContain("half typed"); // The unsent line is wiped.
        expectCookedTerminal(screen);
      });

      it("Ctrl-D deletes on a non-empty line and exits on an empty one", async () => {
        const pty = startClientInShell(server().port);
        await pty.waitForText("Welcome to Simple Chat!");
        pty.write(`ab${LEFT}${CTRL_D}`);
        await pty.waitFor("b deleted", (s) => s.cursorLine === "a" && s.cursor.x === 1);
        pty.write(`\x7f${CTRL_D}`); // Backspace empties the line; Ctrl-D now means goodbye.
        expectCookedTerminal(await pty.waitForText(/exit=0[\s\S]*icanon/));
      });

      it("a lost connection says so, exits 1 and gives the terminal back", async () => {
        const own = await startServer(SERVER);
        const pty = startClientInShell(own.port);
        await pty.waitForText("Welcome to Simple Chat!");
        pty.write("never sent");
        await pty.waitForText("never sent");
        await own.stop();
        const screen = await pty.waitForText(/exit=1[\s\S]*icanon/);
        expect(screen.lines.filter((l) => /^Connection lost: /.test(l))).toHaveLength(1);
        expectCookedTerminal(screen);
      });

      it("a refused connection says so on stderr and exits 1", async () => {
        const port = await freePort();
        const proc = spawn(process.execPath, tsNodeArgs(CLIENT, ["127.0.0.1", String(port)]));
        let stderr = "";
        proc.stderr.on("data", (chunk) => {
          stderr += chunk;
        });
        const code = await new Promise((resolve) => proc.on("close", resolve));
        expect(code).toBe(1);
        expect(stderr).toBe(
          `Connecting to 127.0.0.1:${port}: connection refused (is the server running?)\n`,
        );
      });
    });

    describe("usage", () => {
      it("names every way to say where to connect", async () => {
        const proc = spawn(process.execPath, tsNodeArgs(CLIENT, ["--bogus"]));
        let stderr = "";
        proc.stderr.on("data", (chunk) => {
          stderr += chunk;
        });
        expect(await new Promise((resolve) => proc.on("close", resolve))).toBe(2);
        const usage = stderr.split("\n").find((l) => l.startsWith("usage: client.ts"));
        for (const flag of ["--host HOST", "--port PORT", "[HOST [PORT]]"]) {
          expect(usage).toContain(flag);
        }
      });
    });

    describe("piped client", () => {
      it("sends stdin's lines, prints received lines, exits 0 at the end of input", async () => {
        const bob = await connectClient(server().port);
        const proc = spawn(
          process.execPath,
          tsNodeArgs(CLIENT, ["--host", "127.0.0.1", "--port", String(server().port)]),
        );
        let stdout = "";
        let waiting: (() => void) | null = null;
        proc.stdout.on("data", (chunk) => {
          stdout += chunk;
          waiting?.();
        });
        const exited = new Promise((resolve) => proc.on("close", resolve));
        const waitForOutput = (re: RegExp) =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no ${re} in:\n${stdout}`)), 5000);
            waiting = () => {
              if (re.test(stdout)) {
                clearTimeout(timer);
                resolve();
              }
            };
            waiting();
          });

        await waitForOutput(/^Welcome to Simple Chat!/m);
        proc.stdin.write("hello from a script\n");
        await bob.waitForLine(/^user:\d+> hello from a script$/);
        await bob.send("hello script\n");
        await waitForOutput(/^user:\d+> hello script$/m);

        // The last line, without its "\n", is written and stdin closed at once:
        // it must still arrive.
        proc.stdin.end("last line");
        await bob.waitForLine(/^user:\d+> last line$/);
        expect(await exited).toBe(0);
        expect(stdout).not.toContain("\x1b"); // No line editing on a pipe.
        bob.close();
      });
    });
  });
}
