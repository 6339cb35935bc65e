// server.test.ts -- what every smallchat server does, checked on this step.

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { connectClient, serverForEachTest } from "@smallchat/test/harness";
import { describe, expect, it } from "vitest";

// Since step 01: runs against step 01 and every later step of its track.
for (const step of corpusSteps(1)) {
  describe(step.name, async () => {
    // A fresh server for every test: tests must not hear each other's clients.
    const server = serverForEachTest(stepFile(step, "src/server.ts"));

    describe("server", () => {
      it("welcomes a new client and hints at /nick", async () => {
        const a = await connectClient(server().port, { welcome: null });
        expect(await a.nextLine()).toBe(
          "Welcome to Simple Chat! Use /nick <nick> to set your nick.",
        );
        await server().waitForLog(/^Connected client id=\d+$/);
        a.close();
      });

      it("sends a message to everyone but the sender, under the default nick", async () => {
        const [a, b, c] = [
          await connectClient(server().port),
          await connectClient(server().port),
          await connectClient(server().port),
        ];
        await a.send("hello\n");
        const fromB = await b.nextLine();
        expect(fromB).toMatch(/^user:\d+> hello$/);
        expect(await c.nextLine()).toBe(fromB);
        // The sender gets nothing back: the next thing it hears is B talking.
        await b.send("hi a\n");
        expect(await a.nextLine()).toMatch(/^user:\d+> hi a$/);
      });

      it("renames with /nick and rejects other commands", async () => {
        const a = await connectClient(server().port);
        const b = await connectClient(server().port);
        await a.send("/dance\n");
        expect(await a.nextLine()).toBe("Unsupported command");
        // /nick has no reply: wait for the server's log line before talking,
        // or both lines could arrive in one read (see the step README).
        await a.send("/nick alice\n");
        await server().waitForLog(/is now known as alice$/);
        await a.send("hello\n");
        expect(await b.nextLine()).toBe("alice> hello");
      });

      it("logs a disconnect with its reason and keeps serving the others", async () => {
        const a = await connectClient(server().port);
        const b = await connectClient(server().port);
        const c = await connectClient(server().port);
        a.close();
        await server().waitForLog(/^Disconnected client id=\d+, nick=user:\d+: /);
        await b.send("still here\n");
        expect(await c.nextLine()).toMatch(/> still here$/);
      });

      it("prints a listening line and exits 0 on SIGTERM", async () => {
        expect(server().logs[0]).toBe(`listening on 127.0.0.1:${server().port}`);
        await connectClient(server().port);
        expect(await server().stop()).toBe(0);
        expect(server().logs.join("\n")).toMatch(/SIGTERM received, shutting down/);
      });
    });
  });
}
