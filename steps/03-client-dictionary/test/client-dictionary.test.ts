// client-dictionary.test.ts -- unique nicks, private messages, thousands of clients.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { connectClient, connectClients, serverForEachTest } from "@smallchat/test/harness";
import { describe, expect, it } from "vitest";

// Since step 03: runs against step 03 and every later step of its track.
for (const step of corpusSteps(3)) {
  describe(step.name, async () => {
    // A fresh server for every test: tests must not hear each other's clients.
    const server = serverForEachTest(stepFile(step, "src/server.ts"));

    describe("nick index", () => {
      it("refuses a taken nick and keeps the old one", async () => {
        const a = await connectClient(server().port);
        const b = await connectClient(server().port);
        const c = await connectClient(server().port);
        await a.send("/nick alice\n");
        await server().waitForLog(/is now known as alice$/);
        await b.send("/nick alice\n");
        expect(await b.nextLine()).toBe("ERR nick alice is already taken");
        await b.send("still me\n");
        expect(await c.nextLine()).toMatch(/^user:2> still me$/);
      });

      it("frees a nick when its owner leaves or renames", async () => {
        const a = await connectClient(server().port);
        const b = await connectClient(server().port);
        await a.send("/nick alice\n/nick alicia\n");
        await server().waitForLog(/is now known as alicia$/);
        await b.send("/nick alice\n/who\n");
        expect(await b.nextLine()).toBe("Users: alicia alice");
        // Leaves with a reset: freed at once (a FIN waits for the server's
        // next tick, buffered-io.test.ts; the nick is freed the same way).
        b.socket.resetAndDestroy();
        await server().waitForLog(/^Disconnected client id=2, nick=alice/);
        const c = await connectClient(server().port);
        await c.send("/nick alice\n/who\n");
        expect(await c.nextLine()).toBe("Users: alicia alice");
      });

      it("rejects nicks that are empty-ish, too long, spaced or reserved", async () => {
        const a = await connectClient(server().port);
        await a.send(`/nick ${"n".repeat(33)}\n/nick two words\n/nick user:99\n/nick \n`);
        expect(await a.nextLine()).toMatch(/^ERR invalid nick/);
        expect(await a.nextLine()).toMatch(/^ERR invalid nick/);
        expect(await a.nextLine()).toBe("ERR nicks starting with user: are reserved");
        expect(await a.nextLine()).toBe("ERR usage: /nick <nick>");
      });

      it("refuses nicks with invisible, control or bidi characters, naming them", async () => {
        const a = await connectClient(server().port);
        // root + zero-width space would display as "root"; U+202E draws the
        // rest backwards; U+0085 is a C1 control; U+2066 a bidi isolate.
        for (const nick of ["root\u200b", "\u202eroot", "ro\u0085ot", "\u2066x", "a\u2060b"]) {
          await a.send(`/nick ${nick}\n`);
        }
        expect(await a.nextLine()).toBe(
          "ERR invalid nick: U+200B is an invisible, control or bidi character",
        );
        expect(await a.nextLine()).toBe(
          "ERR invalid nick: U+202E is an invisible, control or bidi character",
        );
        expect(await a.nextLine()).toMatch(/^ERR invalid nick: 1 to 32 bytes/); // C1: now U+FFFD.
        expect(await a.nextLine()).toMatch(/^ERR invalid nick: U\+2066 /);
        expect(await a.nextLine()).toMatch(/^ERR invalid nick: U\+2060 /);
        // Letters of any script are fine.
        await a.send("/nick Zoë_中文\n/who\n");
        expect(await a.nextLine()).toBe("Users: Zoë_中文");
      });

      it("answers commands without their argument with the usage, in any case", async () => {
        const a = await connectClient(server().port);
        await a.send("/msg\n/MSG   \n/Nick\n/WHO\n");
        expect(await a.nextLine()).toBe("ERR usage: /msg <nick> <text>");
        expect(await a.nextLine()).toBe("ERR usage: /msg <nick> <text>");
        expect(await a.nextLine()).toBe("ERR usage: /nick <nick>");
        expect(await a.nextLine()).toBe("Users: user:1");
      });
    });

    describe("/msg and /who", () => {
      it("sends a private message to one nick only", async () => {
        const [a, b, c] = await connectClients(server().port, 3);
        await b!.send("/nick bob\n");
        await server().waitForLog(/is now known as bob$/);
        await a!.send("/msg bob psst\n/msg carol hello?\n/msg bob\n");
        expect(await b!.nextLine()).toBe("user:1> (private) psst");
        expect(await a!.nextLine()).toBe("ERR no such nick: carol");
        expect(await a!.nextLine()).toBe("ERR usage: /msg <nick> <text>");
        await a!.send("public\n");
        expect(await c!.nextLine()).toBe("user:1> public"); // c never saw the private line.
      });

      it("lists who is connected", async () => {
        const [a] = await connectClients(server().port, 3);
        await a!.send("/who\n");
        expect(await a!.nextLine()).toBe("Users: user:1 user:2 user:3");
      });
    });

    describe("scale", () => {
      it("serves 2,000 clients at once, and forgets them when they leave", async () => {
        const clients = [];
        // Connect in batches: a burst of 2,000 SYNs can overflow the listen
        // backlog, and then the kernel retries after a full second.
        for (let i = 0; i < 2000; i += 250)
          clients.push(...(await connectClients(server().port, 250)));
        const [first, ...rest] = clients;
        await first!.send("hello, everyone\n");
        await Promise.all(rest.map((c) => c.waitForLine("user:1> hello, everyone", 15000)));
        for (const c of rest) c.socket.resetAndDestroy(); // Gone at once, no half-close tick.
        for (const _ of rest) await server().waitForLog(/^Disconnected client/, 15000);
        await first!.send("/who\n");
        expect(await first!.nextLine()).toBe("Users: user:1");
      });
    });
  });
}
