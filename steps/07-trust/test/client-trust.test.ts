// client-trust.test.ts -- a keyed client seals with the nick the server gave it, and shows a line once.
//
// Real server, real piped clients, and a raw socket from the harness that
// plays a server replaying lines. What step 06 taught (sealing, refusals,
// keys) is tested by its client-encryption.test.ts, which runs here too;
// this file is what step 07 adds: --nick, a nick that changes only on the
// server's word, lines that wait for it, and replays refused. Every test
// uses its own nicks, since the server keeps them unique and the clients of
// one test may still be leaving when the next one starts.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import {
  connectClient,
  type LineClient,
  type RunningProgram,
  serverForAllTests,
  startProgram,
} from "@smallchat/test/harness";
import { killAll } from "@smallchat/test/pty";
import { afterEach, describe, expect, it } from "vitest";

// Since step 07: runs against step 07 and every later step of its track.
for (const step of corpusSteps(7)) {
  describe(step.name, async () => {
    const CLIENT = stepFile(step, "src/client.ts");
    const SERVER = stepFile(step, "src/server.ts");

    // Random keys, as --new-key makes them: no scrypt, so clients start fast.
    const KEY = "sck1.CSMWmGn_MHNrKJtltoJdKcnd0Q44HHE8St6bKFWClE0";

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

    describe("replays", () => {
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
    });

    describe("the nick is the server's word", () => {
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

      it("confirms --nick, and the welcome no longer says to use /nick", async () => {
        const bad = startProgram(CLIENT, ["--bogus"]);
        expect(await bad.exited).toBe(2);
        expect(bad.logs.join("\n")).toContain("--nick NICK");

        const plain = await client(["--nick", "plain-15"], {});
        const welcome = plain.logs.find((l) => l.includes("Welcome"));
        expect(welcome).toBe("Welcome to Simple Chat!");
        expect(plain.logs).toContain("* you are now known as plain-15");
      });
    });

    describe("without a key", () => {
      it("sends no /nick of its own, and a keyed reader marks its lines [clear]", async () => {
        const sniffer = await observer("sniffer-10");
        const bob = await keyed("bob-10");
        const plain = await client([], {});

        plain.write("hello in clear\n");
        const relayed = await sniffer.waitForLine(/> hello in clear$/);
        expect(relayed).toMatch(/^user:\d+> hello in clear$/); // The server's default nick.
        // A keyed reader marks it, so nobody takes it for a sealed line.
        await bob.waitForLog(`[clear] ${relayed}`);
        expect(plain.logs.join("\n")).not.toContain("you are now known");
      });
    });
  });
}
