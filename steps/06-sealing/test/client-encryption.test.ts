// client-encryption.test.ts -- clients with a key chat in the open, and only they can read it.
//
// Real server, real clients: the clients run piped (one PTY test at the end
// checks the terminal), and a raw socket from the harness plays everyone
// who does not hold the key: a sniffer, a server that tampers with lines, a
// forger. The server log counts too: its operator must see only
// ciphertext. Every test uses its own nicks, since the server keeps them
// unique and the clients of one test may still be leaving when the next
// one starts. A client takes its nick with a typed /nick, as in step 05
// (step 07 adds --nick), and we wait for the server to have done it.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import {
  connectClient,
  type LineClient,
  type RunningProgram,
  serverForAllTests,
  startProgram,
} from "@smallchat/test/harness";
import { killAll, spawnTsInPty } from "@smallchat/test/pty";
import { afterEach, describe, expect, it } from "vitest";

// Since step 06: runs against step 06 and every later step of its track.
for (const step of corpusSteps(6)) {
  describe(step.name, async () => {
    const { createSecretBox, masterKeyFrom, WIRE_VERSION } = (await import(
      `${step.dir}src/encryption.ts`
    )) as typeof import("../src/encryption.ts");
    const CLIENT = stepFile(step, "src/client.ts");
    const SERVER = stepFile(step, "src/server.ts");
    const MARKER = `~${WIRE_VERSION} `;
    // "alice> " then a sealed line, as a sniffer sees it.
    const sealedBy = (nick: string) => new RegExp(`^${nick}> ~${WIRE_VERSION} [A-Za-z0-9+/]+=*$`);

    // Random keys, as --new-key makes them: no scrypt, so clients start fast.
    const KEY = "sck1.CSMWmGn_MHNrKJtltoJdKcnd0Q44HHE8St6bKFWClE0";
    const OTHER_KEY = "sck1.KqRd6zj07b2EBycYGgPYXvYoGer1LBd89rx9Zn0ibuM";
    const master = masterKeyFrom(KEY);

    const server = serverForAllTests(SERVER);
    afterEach(() => killAll());

    const named = (nick: string) => (l: string) => l.endsWith(`is now known as ${nick}`);

    // A piped client, past the server's welcome line and, given a nick, past
    // the server's log saying it took it.
    async function client(
      nick: string | null,
      env: Record<string, string>,
      args: string[] = [],
    ): Promise<RunningProgram> {
      const program = startProgram(CLIENT, ["127.0.0.1", String(server().port), ...args], env);
      await program.waitForLog(/Welcome/);
      if (nick !== null) {
        program.write(`/nick ${nick}\n`);
        await server().waitForLog(named(nick));
      }
      return program;
    }

    function keyed(nick: string, key = KEY): Promise<RunningProgram> {
      return client(nick, { SMALLCHAT_KEY: key });
    }

    // A raw socket, named `nick` before it returns (/who answers after the
    // server has handled the /nick before it).
    async function observer(nick: string): Promise<LineClient> {
      const socket = await connectClient(server().port);
      await socket.send(`/nick ${nick}\n/who\n`);
      const users = await socket.waitForLine(/^Users: /);
      expect(users.split(" ")).toContain(nick);
      return socket;
    }

    // "alice> ~sc0 AAAA" -> "~sc0 AAAA"
    function payload(relayed: string): string {
      return relayed.slice(relayed.indexOf("> ") + 2);
    }

    describe("sealed chat", () => {
      it("round-trips between two clients while the server and a sniffer see only ciphertext", async () => {
        const sniffer = await observer("sniffer-1");
        const bob = await keyed("bob-1");
        const alice = await keyed("alice-1");

        alice.write("the eagle lands at noon\n");
        await bob.waitForLog("[e2e] alice-1> the eagle lands at noon");
        expect(await sniffer.waitForLine(/^alice-1> /)).toMatch(sealedBy("alice-1"));

        bob.write("/msg alice-1 and the fox at dawn\n");
        await alice.waitForLog("[e2e] bob-1> (private) and the fox at dawn");

        expect(sniffer.received().toString("utf8")).not.toMatch(/eagle|fox/);
        expect(server().logs.join("\n")).not.toMatch(/eagle|fox/);
      });

      it("shows a tampered line as could-not-decrypt", async () => {
        const mallory = await observer("mallory-2");
        const bob = await keyed("bob-2");
        const alice = await keyed("alice-2");

        alice.write("meet at the bridge\n");
        const sealed = payload(await mallory.waitForLine(sealedBy("alice-2")));
        await bob.waitForLog("[e2e] alice-2> meet at the bridge");

        // Flip one base64 character inside the nonce: still valid base64.
        const i = MARKER.length + 10;
        const flipped = sealed.slice(0, i) + (sealed[i] === "A" ? "B" : "A") + sealed.slice(i + 1);
        await mallory.send(`${flipped}\n`);
        await bob.waitForLog("[!] mallory-2> could not decrypt (different key, or tampered)");
      });

      it("a client with another key cannot read the line", async () => {
        const carol = await keyed("carol-3", OTHER_KEY);
        const alice = await keyed("alice-3");

        alice.write("for key holders only\n");
        await carol.waitForLog("[!] alice-3> could not decrypt (different key, or tampered)");
        expect(carol.logs.join("\n")).not.toContain("for key holders only");
      });

      it("warns when a line sealed as one nick arrives from another", async () => {
        const mallory = await observer("mallory-5");
        const bob = await keyed("bob-5");

        // Mallory knows the key (a key holder gone bad, or a server that
        // learned it) and seals a line in alice's name.
        const forged = createSecretBox(master).seal("alice-5", "trust mallory");
        await mallory.send(`${forged}\n`);
        await bob.waitForLog("[!] sealed by alice-5 but relayed as from mallory-5:");
        expect(await bob.waitForLog(/> trust mallory$/)).toBe("[e2e] alice-5> trust mallory");
      });

      it("says a format it does not know is not its own", async () => {
        const future = await observer("future-6");
        const bob = await keyed("bob-6");
        await future.send("~sc99 AAAAAAAA\n");
        await bob.waitForLog("[!] future-6> encrypted with unknown format sc99 (newer client?)");
      });

      it("refuses a message too long to seal instead of cutting it", async () => {
        const sniffer = await observer("sniffer-7");
        const bob = await keyed("bob-7");
        const alice = await keyed("alice-7");

        alice.write(`${"x".repeat(3500)}\nshort one\n`);
        await alice.waitForLog(/^\[!\] not sent: too long to encrypt \(3500 bytes, at most \d+\)$/);
        await bob.waitForLog("[e2e] alice-7> short one");
        // The long one never reached the wire: the short one is alice's first line.
        expect(await sniffer.waitForLine(/^alice-7> /)).toMatch(sealedBy("alice-7"));
        expect(sniffer.received().length).toBeLessThan(1000);
        expect(bob.logs.join("\n")).not.toContain("xxxx");
      });

      it("reads the key from --key-file", async () => {
        const dir = mkdtempSync(join(tmpdir(), "smallchat-key-"));
        try {
          const file = join(dir, "key");
          writeFileSync(file, `${KEY}\n`, { mode: 0o600 });
          const bob = await keyed("bob-9");
          const alice = await client("alice-9", {}, ["--key-file", file]);

          alice.write("from a key file\n");
          await bob.waitForLog("[e2e] alice-9> from a key file");
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });

    describe("nothing typed leaks", () => {
      it("refuses an unknown command instead of sending it in clear; // sends a / line sealed", async () => {
        const sniffer = await observer("sniffer-13");
        const bob = await keyed("bob-13");
        const alice = await keyed("alice-13");
        alice.write("/me the code is 1234\n//me waves\n");
        await alice.waitForLog(/^\[!\] not sent: \/me is not a command.*\/\/me the code is 1234/);
        await bob.waitForLog("[e2e] alice-13> /me waves");
        expect(await sniffer.waitForLine(/^alice-13> /)).toMatch(sealedBy("alice-13"));
        expect(sniffer.received().toString("utf8")).not.toContain("1234");
        expect(server().logs.join("\n")).not.toContain("1234");
      });

      it("a /msg as long as the client allows fits the server's line limit, /msg and all", async () => {
        const to = "b".repeat(32); // The longest nick the server allows.
        const bob = await keyed(to);
        const alice = await keyed("alice-14");
        alice.write(`/msg ${to} ${"x".repeat(5000)}\n`);
        const refused = await alice.waitForLog(/^\[!\] not sent: too long to encrypt/);
        const most = Number(/at most (\d+)\)$/.exec(refused)?.[1]);
        expect(most).toBeGreaterThan(2900);
        alice.write(`/msg ${to} ${"y".repeat(most)}\n`);
        await bob.waitForLog(`[e2e] alice-14> (private) ${"y".repeat(most)}`);
        expect(alice.logs.join("\n")).not.toContain("ERR line too long");
      });

      it("lists every flag in its usage line", async () => {
        const bad = startProgram(CLIENT, ["--bogus"]);
        expect(await bad.exited).toBe(2);
        const usage = bad.logs.join("\n");
        for (const flag of ["--key-file", "--host", "--port", "[HOST [PORT]]", "--new-key"]) {
          expect(usage).toContain(flag);
        }
      });
    });

    describe("keys", () => {
      it("refuses a bare passphrase and says how to make a key", async () => {
        const bare = startProgram(CLIENT, ["127.0.0.1", String(server().port)], {
          SMALLCHAT_KEY: "correct horse battery staple",
        });
        expect(await bare.exited).toBe(2);
        expect(bare.logs.join("\n")).toMatch(/--new-key/);
      });

      it("--new-key prints a key that works; a short salted passphrase gets a warning", async () => {
        const maker = startProgram(CLIENT, ["--new-key"]);
        const key = await maker.waitForLog(/^sck1\./);
        expect(await maker.exited).toBe(0);
        const bob = await keyed("bob-16", key);
        const alice = await keyed("alice-16", key);
        alice.write("a fresh key\n");
        await bob.waitForLog("[e2e] alice-16> a fresh key");

        const short = startProgram(CLIENT, ["127.0.0.1", String(server().port)], {
          SMALLCHAT_KEY: "scp1.AAAAAAAAAAAAAAAAAAAAAA.hunter2",
        });
        await short.waitForLog(/^\[!\] the passphrase is short/, 15000);
      });
    });

    describe("without a key", () => {
      it("is step 05's client: text in clear, and sealed lines shown as they came", async () => {
        const sniffer = await observer("sniffer-10");
        const bob = await keyed("bob-10");
        const plain = await client(null, {});

        plain.write("hello in clear\n");
        const relayed = await sniffer.waitForLine(/> hello in clear$/);
        expect(relayed).toMatch(/^user:\d+> hello in clear$/); // The server's default nick.

        bob.write("sealed for bob's friends\n");
        expect(await plain.waitForLog(/^bob-10> /)).toMatch(sealedBy("bob-10")); // Opaque.
      });
    });

    describe("interactive client with a key", () => {
      it("prints an opened message above the half-typed line", async () => {
        const sniffer = await observer("sniffer-11");
        const alice = await keyed("alice-11");
        const pty = spawnTsInPty(CLIENT, ["127.0.0.1", String(server().port)], {
          env: { SMALLCHAT_KEY: KEY },
        });
        await pty.waitForText("Welcome to Simple Chat!");
        pty.write("/nick tty-11\r");
        await server().waitForLog(named("tty-11"));
        pty.write("half typed");
        await pty.waitForCursor(10);

        alice.write("hello terminal\n");
        const screen = await pty.waitFor(
          "the message above an intact input line",
          (s) => s.lines.includes("[e2e] alice-11> hello terminal") && s.cursor.x === 10,
        );
        expect(screen.cursorLine).toBe("half typed");
        expect(screen.lines[screen.cursor.y - 1]).toBe("[e2e] alice-11> hello terminal");

        pty.write("\r");
        await alice.waitForLog("[e2e] tty-11> half typed");
        await pty.waitForText("you> half typed");
        expect(await sniffer.waitForLine(/^tty-11> /)).toMatch(sealedBy("tty-11"));
      });
    });
  });
}
