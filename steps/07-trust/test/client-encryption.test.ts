// client-encryption.test.ts -- clients with a passphrase chat in the open, and only they can read it.
//
// Real server, real clients: the clients run piped (one PTY test at the end
// checks the terminal), and a raw socket from the harness plays everyone
// who does not hold the key: a sniffer, a server that relabels or replays
// lines, a forger. The server log counts too: its operator must see only
// ciphertext. Every test uses its own nicks, since the server keeps them
// unique and the clients of one test may still be leaving when the next
// one starts.

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
for (const step of corpusSteps(7)) {
  describe(step.name, async () => {
    const { createSecretBox, masterKeyFrom, maxTextBytes } = (await import(
      `${step.dir}src/encryption.ts`
    )) as typeof import("../src/encryption.ts");
    const CLIENT = stepFile(step, "src/client.ts");
    const SERVER = stepFile(step, "src/server.ts");

    // Random keys, as --new-key makes them: no scrypt, so clients start fast.
    const KEY = "sck1.CSMWmGn_MHNrKJtltoJdKcnd0Q44HHE8St6bKFWClE0";
    const OTHER_KEY = "sck1.KqRd6zj07b2EBycYGgPYXvYoGer1LBd89rx9Zn0ibuM";
    const master = masterKeyFrom(KEY);

    const server = serverForAllTests(SERVER);
    afterEach(() => killAll());

    // A piped client, past the server's welcome line and, if it set a nick,
    // past the server's word that the nick is ours.
    async function client(args: string[], env: Record<string, string>): Promise<RunningProgram> {
      const program = startProgram(CLIENT, ["127.0.0.1", String(server().port), ...args], env);
      await program.waitForLog(/Welcome/);
      if (args.includes("--nick") || "SMALLCHAT_KEY" in env) {
        await program.waitForLog(/^\* you are now known as /);
      }
      return program;
    }

    function keyed(nick: string, key = KEY): Promise<RunningProgram> {
      return client(["--nick", nick], { SMALLCHAT_KEY: key });
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

    // "alice> ~sc1 AAAA" -> "~sc1 AAAA"
    function payload(relayed: string): string {
      return relayed.slice(relayed.indexOf("> ") + 2);
    }

    describe("encrypted chat", () => {
      it("round-trips between two clients while the server and a sniffer see only ciphertext", async () => {
        const sniffer = await observer("sniffer-1");
        const bob = await keyed("bob-1");
        const alice = await keyed("alice-1");

        alice.write("the eagle lands at noon\n");
        await bob.waitForLog("[e2e] alice-1> the eagle lands at noon");
        expect(await sniffer.waitForLine(/^alice-1> /)).toMatch(/^alice-1> ~sc1 [A-Za-z0-9+/]+=*$/);

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
        const sealed = payload(await mallory.waitForLine(/^alice-2> ~sc1 /));
        await bob.waitForLog("[e2e] alice-2> meet at the bridge");

        // Flip one base64 character inside the nonce: still valid base64.
        const i = "~sc1 ".length + 10;
        const flipped = sealed.slice(0, i) + (sealed[i] === "A" ? "B" : "A") + sealed.slice(i + 1);
        await mallory.send(`${flipped}\n`);
        await bob.waitForLog("[!] mallory-2> could not decrypt (different key, or tampered)");
      });

      it("a client with another passphrase cannot read the line", async () => {
        const carol = await keyed("carol-3", OTHER_KEY);
        const alice = await keyed("alice-3");

        alice.write("for key holders only\n");
        await carol.waitForLog("[!] alice-3> could not decrypt (different key, or tampered)");
        expect(carol.logs.join("\n")).not.toContain("for key holders only");
      });

      it("rejects a line replayed under the sender's nick", async () => {
        const mallory = await observer("mallory-4");
        const bob = await keyed("bob-4");
        const alice = await keyed("alice-4");

        alice.write("pay mallory 5 euros\n");
        const sealed = payload(await mallory.waitForLine(/^alice-4> ~sc1 /));
        await bob.waitForLog("[e2e] alice-4> pay mallory 5 euros");

        // Alice leaves; mallory takes her nick and says the same thing again.
        alice.proc.kill();
        await server().waitForLog(/^Disconnected client id=\d+, nick=alice-4:/);
        await mallory.send("/nick alice-4\n/who\n");
        expect((await mallory.waitForLine(/^Users: /)).split(" ")).toContain("alice-4");
        await mallory.send(`${sealed}\n`);
        await bob.waitForLog("[!] alice-4> replayed message rejected");
        expect(bob.logs.filter((l) => l.includes("pay mallory"))).toHaveLength(1);
      });

      it("warns when a line sealed as one nick arrives from another", async () => {
        const mallory = await observer("mallory-5");
        const bob = await keyed("bob-5");

        // Mallory knows the passphrase (a key holder gone bad, or a server
        // that learned it) and seals a line in alice's name.
        const forged = createSecretBox(master).seal("alice-5", "trust mallory");
        await mallory.send(`${forged}\n`);
        await bob.waitForLog("[!] sealed by alice-5 but relayed as from mallory-5:");
        expect(await bob.waitForLog(/> trust mallory$/)).toBe("[e2e] alice-5> trust mallory");
      });

      it("says a format it does not know is not its own", async () => {
        const future = await observer("future-6");
        const bob = await keyed("bob-6");
        await future.send("~sc2 AAAAAAAA\n");
        await bob.waitForLog("[!] future-6> encrypted with unknown format sc2 (newer client?)");
      });

      it("refuses a message too long to seal instead of cutting it", async () => {
        const sniffer = await observer("sniffer-7");
        const bob = await keyed("bob-7");
        const alice = await keyed("alice-7");

        alice.write(`${"x".repeat(3500)}\nshort one\n`);
        await alice.waitForLog(/^\[!\] not sent: too long to encrypt \(3500 bytes, at most \d+\)$/);
        await bob.waitForLog("[e2e] alice-7> short one");
        // The long one never reached the wire: the short one is alice's first line.
        expect(await sniffer.waitForLine(/^alice-7> /)).toMatch(/^alice-7> ~sc1 /);
        expect(sniffer.received().length).toBeLessThan(1000);
        expect(bob.logs.join("\n")).not.toContain("xxxx");
      });

      it("seals a line typed during a refused /nick with the nick the server kept", async () => {
        const bob = await keyed("bob-8");
        const alice = await keyed("alice-8");

        alice.write("/nick bob-8\nstill alice\n");
        await alice.waitForLog("[server] ERR nick bob-8 is already taken");
        await alice.waitForLog("* you are still alice-8");
        // It waited for the server's answer, so it is sealed as alice-8: no
        // false "sealed by bob-8 but relayed as from alice-8" for bob.
        await bob.waitForLog("[e2e] alice-8> still alice");
        alice.write("/nick alice-8b\nrenamed\n");
        await alice.waitForLog("* you are now known as alice-8b");
        await bob.waitForLog("[e2e] alice-8b> renamed");
        expect(bob.logs.filter((l) => l.startsWith("[!]"))).toHaveLength(0);
      });

      it("reads the passphrase from --key-file", async () => {
        const dir = mkdtempSync(join(tmpdir(), "smallchat-key-"));
        try {
          const file = join(dir, "key");
          writeFileSync(file, `${KEY}\n`, { mode: 0o600 });
          const bob = await keyed("bob-9");
          const alice = await client(["--nick", "alice-9", "--key-file", file], {});

          alice.write("from a key file\n");
          await bob.waitForLog("[e2e] alice-9> from a key file");
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });

    describe("nothing typed is lost or leaked", () => {
      it("a second client of the same user takes nick_, and its early line waits, then goes", async () => {
        const env = { SMALLCHAT_KEY: KEY, SMALLCHAT_NICK: "same-12" };
        const first = await client([], env);
        expect(first.logs).toContain("* you are now known as same-12");
        const second = startProgram(CLIENT, ["127.0.0.1", String(server().port)], env);
        second.write("typed before the nick was settled\n");
        await second.waitForLog("* nick same-12 is taken: trying same-12_");
        await second.waitForLog("* you are now known as same-12_");
        await first.waitForLog("[e2e] same-12_> typed before the nick was settled");
        expect(first.logs.join("\n")).not.toContain("[!]");
      });

      it("refuses an unknown command instead of sending it in clear; // sends a / line sealed", async () => {
        const sniffer = await observer("sniffer-13");
        const bob = await keyed("bob-13");
        const alice = await keyed("alice-13");
        alice.write("/me the code is 1234\n//me waves\n");
        await alice.waitForLog(/^\[!\] not sent: \/me is not a command.*\/\/me the code is 1234/);
        await bob.waitForLog("[e2e] alice-13> /me waves");
        expect(await sniffer.waitForLine(/^alice-13> /)).toMatch(/^alice-13> ~sc1 /);
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
        expect(most).toBe(maxTextBytes("alice-14", { to, prefix: `/msg ${to} ` }));
        alice.write(`/msg ${to} ${"y".repeat(most)}\n`);
        await bob.waitForLog(`[e2e] alice-14> (private) ${"y".repeat(most)}`);
        expect(alice.logs.join("\n")).not.toContain("ERR line too long");
      });

      it("lists every flag in its usage line", async () => {
        const bad = startProgram(CLIENT, ["--bogus"]);
        expect(await bad.exited).toBe(2);
        const usage = bad.logs.join("\n");
        for (const flag of [
          "--nick",
          "--key-file",
          "--host",
          "--port",
          "[HOST [PORT]]",
          "--new-key",
        ]) {
          expect(usage).toContain(flag);
        }
      });

      it("confirms --nick, and the welcome no longer says to use /nick", async () => {
        const plain = await client(["--nick", "plain-15"], {});
        const welcome = plain.logs.find((l) => l.includes("Welcome"));
        expect(welcome).toBe("Welcome to Simple Chat!");
        expect(plain.logs).toContain("* you are now known as plain-15");
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
        const bob = await client(["--nick", "bob-16"], { SMALLCHAT_KEY: key });
        const alice = await client(["--nick", "alice-16"], { SMALLCHAT_KEY: key });
        alice.write("a fresh key\n");
        await bob.waitForLog("[e2e] alice-16> a fresh key");

        const short = startProgram(CLIENT, ["127.0.0.1", String(server().port), "--nick", "s-16"], {
          SMALLCHAT_KEY: "scp1.AAAAAAAAAAAAAAAAAAAAAA.hunter2",
        });
        await short.waitForLog(/^\[!\] the passphrase is short/, 15000);
      });
    });

    describe("without a passphrase", () => {
      it("is step 05's client: text in clear, nothing sealed, no /nick sent", async () => {
        const sniffer = await observer("sniffer-10");
        const bob = await keyed("bob-10");
        const plain = await client([], {});

        plain.write("hello in clear\n");
        const relayed = await sniffer.waitForLine(/> hello in clear$/);
        expect(relayed).toMatch(/^user:\d+> hello in clear$/); // The server's default nick.
        // A keyed reader marks it, so nobody takes it for a sealed line.
        await bob.waitForLog(`[clear] ${relayed}`);
        expect(plain.logs.join("\n")).not.toContain("you are now known");

        bob.write("sealed for bob's friends\n");
        await plain.waitForLog(/^bob-10> ~sc1 /); // Shown as it came: opaque.
      });
    });

    describe("interactive client with a passphrase", () => {
      it("prints a verified message above the half-typed line", async () => {
        const sniffer = await observer("sniffer-11");
        const alice = await keyed("alice-11");
        const pty = spawnTsInPty(CLIENT, ["127.0.0.1", String(server().port), "--nick", "tty-11"], {
          env: { SMALLCHAT_KEY: KEY },
        });
        await pty.waitForText("* you are now known as tty-11");
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
        expect(await sniffer.waitForLine(/^tty-11> /)).toMatch(/^tty-11> ~sc1 /);
      });
    });
  });
}
