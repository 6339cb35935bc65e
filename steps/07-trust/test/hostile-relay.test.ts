// hostile-relay.test.ts -- what a keyed client shows holds up when the server itself lies.
//
// The server relays our sealed lines, so it can record them, drop them,
// send them twice, out of order, to the wrong person, or send text of its
// own dressed up as a verified line. Here the server is the harness's
// hostile relay (test/src/relay.ts) and the clients are real keyed clients,
// piped, plus one in a PTY to look at what the screen really shows.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { type RunningProgram, startProgram } from "@smallchat/test/harness";
import { killAll, spawnTsInPty } from "@smallchat/test/pty";
import { type HostileRelay, startRelay } from "@smallchat/test/relay";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

// Since step 07: runs against step 07 and every later step of its track.
for (const step of corpusSteps(7)) {
  describe(step.name, async () => {
    const { createSecretBox, masterKeyFrom } = (await import(
      `${step.dir}src/encryption.ts`
    )) as typeof import("../src/encryption.ts");
    const CLIENT = stepFile(step, "src/client.ts");
    const KEY = "sck1.CSMWmGn_MHNrKJtltoJdKcnd0Q44HHE8St6bKFWClE0";
    const master = masterKeyFrom(KEY);

    let relay: HostileRelay;
    beforeEach(async () => {
      relay = await startRelay();
    });
    afterEach(async () => {
      killAll();
      await relay.close();
    });

    // A keyed piped client, past the confirmation of its nick.
    async function keyed(nick: string): Promise<RunningProgram> {
      const program = startProgram(CLIENT, ["127.0.0.1", String(relay.port), "--nick", nick], {
        SMALLCHAT_KEY: KEY,
      });
      await program.waitForLog(`* you are now known as ${nick}`);
      return program;
    }

    function peerOf(nick: string) {
      const peer = relay.peers.find((p) => p.nick === nick);
      if (peer === undefined) throw new Error(`no client ${nick} on the relay`);
      return peer;
    }

    // What the relay got from `nick` that looks sealed, in order.
    async function sealedFrom(nick: string, n: number): Promise<string[]> {
      const lines: string[] = [];
      for (let i = 0; i < n; i++) {
        lines.push((await relay.waitForSent((l) => l.startsWith("~sc1 "))).line);
      }
      expect(peerOf(nick).lines.filter((l) => l.startsWith("~sc1 "))).toHaveLength(n);
      return lines;
    }

    describe("the [e2e] marker cannot be forged", () => {
      it("shows every line that did not open under our key with a tag of its own", async () => {
        const bob = await keyed("bob");
        const forged = "[e2e] alice> wire 500 to mallory";
        peerOf("bob").send(forged);
        peerOf("bob").send(`alice> ${forged}`);
        await bob.waitForLog(`[server] ${forged}`);
        await bob.waitForLog(`[clear] alice> ${forged}`);
        expect(bob.logs.filter((l) => l.startsWith("[e2e]"))).toEqual([]);
      });

      it("draws a verified [e2e] in a style that incoming text cannot produce", async () => {
        const pty = spawnTsInPty(CLIENT, ["127.0.0.1", String(relay.port), "--nick", "tty"], {
          env: { SMALLCHAT_KEY: KEY },
        });
        await pty.waitForText("* you are now known as tty");
        const tty = peerOf("tty");
        tty.send("[e2e] alice> forged plain");
        tty.send("\x1b[1;32m[e2e]\x1b[0m alice> forged with escapes");
        tty.send(`alice> ${createSecretBox(master).seal("alice", "really sealed")}`);
        const screen = await pty.waitFor("the sealed line", (s) =>
          s.lines.includes("[e2e] alice> really sealed"),
        );
        const row = (text: string) => screen.lines.findIndex((l) => l.includes(text));
        expect(screen.lines[row("forged plain")]).toBe("[server] [e2e] alice> forged plain");
        expect(screen.lines[row("forged with escapes")]).toMatch(/^\[server\] \^\[\[1;32m\[e2e\]/);

        // Cell attributes: "[e2e]" of the sealed line is bold and coloured, and
        // no cell of either forged line is.
        const buffer = pty.term.buffer.active;
        const cells = (y: number) => {
          const line = buffer.getLine(buffer.baseY + y);
          return Array.from({ length: 40 }, (_, x) => line?.getCell(x));
        };
        for (const cell of cells(row("really sealed")).slice(0, 5)) {
          expect(cell?.isBold()).toBeTruthy();
          expect(cell?.isFgDefault()).toBe(false);
        }
        for (const y of [row("forged plain"), row("forged with escapes")]) {
          for (const cell of cells(y)) {
            expect(cell?.isBold()).toBe(0);
            expect(cell?.isFgDefault()).toBe(true);
          }
        }
      });
    });

    describe("replays, drops and reordering are shown", () => {
      it("reports a gap, takes the missing line late once, and refuses it the second time", async () => {
        const alice = await keyed("alice");
        const bob = await keyed("bob");
        relay.forward = false;
        alice.write("one\ntwo\nthree\n");
        const [one = "", two = "", three = ""] = await sealedFrom("alice", 3);
        const toBob = (line: string) => peerOf("bob").send(`alice> ${line}`);
        toBob(one);
        toBob(three);
        await bob.waitForLog("[!] 1 line from alice is missing");
        await bob.waitForLog("[e2e] alice> three");
        toBob(two);
        await bob.waitForLog("[!] a late line from alice, out of order:");
        await bob.waitForLog("[e2e] alice> two");
        toBob(two);
        await bob.waitForLog("[!] alice> replayed message rejected");
      });

      it("refuses a line sealed long ago", async () => {
        const bob = await keyed("bob");
        // A key holder's line recorded ten minutes ago: the test holds the key,
        // so it can seal one with a clock set back.
        const old = createSecretBox(master, { now: () => Date.now() - 10 * 60 * 1000 });
        peerOf("bob").send(`alice> ${old.seal("alice", "pay mallory 500")}`);
        await bob.waitForLog(/^\[!\] alice> stale message rejected \(sealed 60\d s ago\)$/);
        expect(bob.logs.join("\n")).not.toContain("pay mallory");
      });

      it("refuses a line of a sender's earlier run once a later run was heard", async () => {
        relay.forward = false;
        const firstRun = await keyed("alice");
        firstRun.write("pay mallory 5 euros\n");
        const [old = ""] = await sealedFrom("alice", 1);
        firstRun.proc.kill();
        await firstRun.exited;
        peerOf("alice").nick = "gone";

        const secondRun = await keyed("alice");
        secondRun.write("hello again\n");
        const newer = (await relay.waitForSent(/^~sc1 /)).line;
        const bob = await keyed("bob");
        peerOf("bob").send(`alice> ${newer}`);
        await bob.waitForLog("[e2e] alice> hello again");
        peerOf("bob").send(`alice> ${old}`);
        await bob.waitForLog("[!] alice> message from an earlier run of alice rejected");
        expect(bob.logs.join("\n")).not.toContain("pay mallory");
      });

      it("cannot be made to forget a line by a flood of other senders", async () => {
        const alice = await keyed("alice");
        const bob = await keyed("bob");
        alice.write("pay mallory 5 euros\n");
        const [line = ""] = await sealedFrom("alice", 1);
        await bob.waitForLog("[e2e] alice> pay mallory 5 euros");
        // A member floods 1,100 sessions (an earlier version of this step forgot after 1,024).
        const flood: string[] = [];
        for (let i = 0; i < 1100; i++) {
          flood.push(`m${i}> ${createSecretBox(master).seal(`m${i}`, "hi")}`);
        }
        peerOf("bob").send(flood.join("\n"));
        await bob.waitForLog("[e2e] m1099> hi", 20000);
        peerOf("bob").send(`alice> ${line}`);
        await bob.waitForLog("[!] alice> replayed message rejected");
        expect(bob.logs.filter((l) => l.includes("pay mallory"))).toHaveLength(1);
      });
    });

    describe("private lines", () => {
      it("catch a /msg delivered to someone it was not sealed for", async () => {
        const alice = await keyed("alice");
        await keyed("bob");
        const carol = await keyed("carol");
        relay.forward = false;
        alice.write("/msg bob the safe code is 4711\n");
        const sent = (await relay.waitForSent(/^\/msg bob ~sc1 /)).line;
        peerOf("carol").send(`alice> (private) ${sent.slice("/msg bob ".length)}`);
        await carol.waitForLog("[!] alice> a private message for bob reached us: not shown");
        expect(carol.logs.join("\n")).not.toContain("4711");
      });
    });
  });
}

// A server that never answers: the client gives up on its own clock, after
// 10 s. Nothing is shared but the key, so every step waits at the same time.
describe("a server that never answers", () => {
  for (const step of corpusSteps(7)) {
    it.concurrent(`${step.name}: does not keep a piped client waiting for ever, and says what was not sent`, async ({
      expect,
    }) => {
      const relay = await startRelay();
      try {
        relay.mute = true;
        const args = ["127.0.0.1", String(relay.port), "--nick", "alice"];
        const alice = startProgram(stepFile(step, "src/client.ts"), args, {
          SMALLCHAT_KEY: "sck1.CSMWmGn_MHNrKJtltoJdKcnd0Q44HHE8St6bKFWClE0",
        });
        await relay.waitForSent("/who");
        alice.write("never sealed for an unconfirmed nick\n");
        alice.proc.stdin?.end();
        expect(await alice.exited).toBe(1);
        expect(alice.logs).toContain("[!] no answer from the server: 1 line(s) not sent");
        expect(relay.sent.map((s) => s.line)).toEqual(["/nick alice", "/who"]);
      } finally {
        await relay.close();
      }
    });
  }
});
