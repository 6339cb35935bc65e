// client-channels.test.ts -- every channel has its own key, and the client follows where it talks.
//
// Same setup as client-encryption.test.ts: a real server, piped clients
// with a passphrase, raw sockets from the harness playing the sniffer or
// the server that moves lines around, and one PTY client. Each test uses
// its own nicks and channel names.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import {
  connectClient,
  type LineClient,
  type RunningProgram,
  serverForAllTests,
  startProgram,
} from "@smallchat/test/harness";
import { killAll, spawnTsInPty } from "@smallchat/test/pty";
import { startRelay } from "@smallchat/test/relay";
import { afterEach, describe, expect, it } from "vitest";

// Since step 08: runs against step 08 and every later step of its track.
for (const step of corpusSteps(8)) {
  describe(step.name, async () => {
    const { createSecretBox, masterKeyFrom } = (await import(
      `${step.dir}src/encryption.ts`
    )) as typeof import("../src/encryption.ts");
    const CLIENT = stepFile(step, "src/client.ts");
    const SERVER = stepFile(step, "src/server.ts");

    const KEY = "sck1.CSMWmGn_MHNrKJtltoJdKcnd0Q44HHE8St6bKFWClE0";
    const master = masterKeyFrom(KEY);

    const server = serverForAllTests(SERVER);
    afterEach(() => killAll());

    // A piped client with the passphrase, past the server's welcome line.
    async function keyed(nick: string): Promise<RunningProgram> {
      const args = ["127.0.0.1", String(server().port), "--nick", nick];
      const program = startProgram(CLIENT, args, { SMALLCHAT_KEY: KEY });
      await program.waitForLog(`* you are now known as ${nick}`);
      return program;
    }

    async function join(client: RunningProgram, channel: string): Promise<void> {
      client.write(`/join ${channel}\n`);
      await client.waitForLog(`* now talking in ${channel}`);
    }

    // A raw socket named `nick`, talking in the last of `channels` it joined.
    async function observer(nick: string, channels: string[] = []): Promise<LineClient> {
      const socket = await connectClient(server().port);
      await socket.send(`/nick ${nick}\n${channels.map((c) => `/join ${c}\n`).join("")}/who\n`);
      const users = await socket.waitForLine(/^Users: /);
      expect(users.split(" ")).toContain(nick);
      return socket;
    }

    describe("encrypted channels", () => {
      it("two clients chat in #rust, sealed with #rust's key, and follow a /part", async () => {
        const sniffer = await observer("sniffer-c1", ["#rust-c1"]);
        const alice = await keyed("alice-c1");
        const bob = await keyed("bob-c1");
        await join(alice, "#rust-c1");
        await join(bob, "#rust-c1");
        await alice.waitForLog("#rust-c1 * bob-c1 joined"); // Notices are shown as they come.

        alice.write("ownership is borrowed\n");
        await bob.waitForLog("#rust-c1 [e2e] alice-c1> ownership is borrowed");
        expect(await sniffer.waitForLine(/^#rust-c1 alice-c1> /)).toMatch(
          /^#rust-c1 alice-c1> ~sc1 [A-Za-z0-9+/]+=*$/,
        );

        // Leaving #rust puts bob back in #lobby: his next line is a lobby line,
        // sealed with #lobby's key, and alice (still in #lobby too) opens it.
        bob.write("/part\n");
        await bob.waitForLog("* now talking in #lobby");
        bob.write("back in the lobby\n");
        await alice.waitForLog("[e2e] bob-c1> back in the lobby");

        expect(sniffer.received().toString("utf8")).not.toMatch(/ownership|lobby/);
        expect(server().logs.join("\n")).not.toMatch(/ownership|back in the lobby/);
      });

      it("a line sealed for #a does not open in #b", async () => {
        // Mallory is in both rooms and talks in #b-c2: she relays what she
        // reads in #a-c2 to #b-c2, as a server moving lines around could.
        const mallory = await observer("mallory-c2", ["#a-c2", "#b-c2"]);
        const alice = await keyed("alice-c2");
        const bob = await keyed("bob-c2");
        await join(alice, "#a-c2");
        await join(bob, "#b-c2");

        alice.write("only for room a\n");
        const relayed = await mallory.waitForLine(/^#a-c2 alice-c2> ~sc1 /);
        await mallory.send(`${relayed.slice(relayed.indexOf("> ") + 2)}\n`);
        await bob.waitForLog(
          "#b-c2 [!] mallory-c2> could not decrypt (different key, or tampered)",
        );
        expect(bob.logs.join("\n")).not.toContain("only for room a");
      });

      it("#lobby lines stay unprefixed and encrypted", async () => {
        const sniffer = await observer("sniffer-c3");
        const alice = await keyed("alice-c3");
        const bob = await keyed("bob-c3");

        alice.write("hello lobby\n");
        await bob.waitForLog("[e2e] alice-c3> hello lobby");
        expect(await sniffer.waitForLine(/^alice-c3> /)).toMatch(/^alice-c3> ~sc1 /);
      });

      it("in no channel, a line is refused locally instead of sent", async () => {
        const alice = await keyed("alice-c4");
        alice.write("/part #lobby\n");
        await alice.waitForLog("* left #lobby");
        alice.write("into the void\n/who\n");
        await alice.waitForLog("[!] not sent: you are in no channel: /join #name");
        await alice.waitForLog(/^\[server\] Users: /); // The server answered /who, and nothing before it.
        expect(alice.logs.join("\n")).not.toContain("ERR");
      });
    });

    describe("interactive client in a channel", () => {
      it("prints a channel line above the half-typed line", async () => {
        const alice = await keyed("alice-c5");
        await join(alice, "#tty-c5");
        const pty = spawnTsInPty(CLIENT, ["127.0.0.1", String(server().port), "--nick", "tty-c5"], {
          env: { SMALLCHAT_KEY: KEY },
        });
        await pty.waitForText("* you are now known as tty-c5");
        pty.write("/join #tty-c5\r");
        await pty.waitForText("* now talking in #tty-c5");
        pty.write("half typed");
        await pty.waitForCursor(10);

        alice.write("hello terminal\n");
        const screen = await pty.waitFor(
          "the channel line above an intact input line",
          (s) => s.lines.includes("#tty-c5 [e2e] alice-c5> hello terminal") && s.cursor.x === 10,
        );
        expect(screen.cursorLine).toBe("half typed");
        expect(screen.lines[screen.cursor.y - 1]).toBe("#tty-c5 [e2e] alice-c5> hello terminal");

        pty.write("\r");
        await alice.waitForLog("#tty-c5 [e2e] tty-c5> half typed");
      });
    });

    describe("the channel a line is sealed for is the one the server confirmed", () => {
      it("a line piped right after /join waits for the join, then is sealed for the new channel", async () => {
        const bob = await keyed("bob-c6");
        await join(bob, "#sec-c6");
        const alice = startProgram(
          CLIENT,
          ["127.0.0.1", String(server().port), "--nick", "alice-c6"],
          {
            SMALLCHAT_KEY: KEY,
          },
        );
        alice.write("/join #sec-c6\nhello right after the join\n");
        alice.proc.stdin?.end();
        await bob.waitForLog("#sec-c6 [e2e] alice-c6> hello right after the join");
        expect(await alice.exited).toBe(0);
        expect(bob.logs.join("\n")).not.toContain("could not decrypt");
      });
    });

    describe("through a hostile relay", () => {
      it("ignores a '* now talking in' nobody asked for", async () => {
        const relay = await startRelay();
        try {
          const args = ["127.0.0.1", String(relay.port), "--nick", "alice"];
          const alice = startProgram(CLIENT, args, { SMALLCHAT_KEY: KEY });
          await alice.waitForLog("* you are now known as alice");
          relay.peers[0]?.send("* now talking in #public");
          await alice.waitForLog("[server] * now talking in #public");
          alice.write("meant for the lobby\n");
          const sent = (await relay.waitForSent(/^~sc1 /)).line;
          const lobby = createSecretBox(master).open(sent, "alice");
          expect(lobby).toMatchObject({ kind: "verified", text: "meant for the lobby" });
          const pub = createSecretBox(master, { context: "#public" }).open(sent, "alice");
          expect(pub.kind).toBe("unauthenticated");
        } finally {
          await relay.close();
        }
      });

      it("cannot flush #lobby's replay memory with made-up channels", async () => {
        const relay = await startRelay();
        try {
          const start = async (nick: string) => {
            const args = ["127.0.0.1", String(relay.port), "--nick", nick];
            const program = startProgram(CLIENT, args, { SMALLCHAT_KEY: KEY });
            await program.waitForLog(`* you are now known as ${nick}`);
            return program;
          };
          const alice = await start("alice");
          const bob = await start("bob");
          alice.write("pay mallory 5 euros\n");
          const line = (await relay.waitForSent(/^~sc1 /)).line;
          await bob.waitForLog("[e2e] alice> pay mallory 5 euros");
          const bobPeer = relay.peers.find((p) => p.nick === "bob");
          // 40 channels bob never joined, more than the client keeps boxes for.
          for (let i = 0; i < 40; i++) bobPeer?.send(`#made-up-${i} mallory> ~sc1 AAAA`);
          await bob.waitForLog(/^#made-up-39 /);
          bobPeer?.send(`alice> ${line}`);
          await bob.waitForLog("[!] alice> replayed message rejected");
          expect(bob.logs.filter((l) => l.includes("pay mallory"))).toHaveLength(1);
        } finally {
          await relay.close();
        }
      });
    });
  });
}
