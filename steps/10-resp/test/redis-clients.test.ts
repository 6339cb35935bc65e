// redis-clients.test.ts -- redis-cli and redis-benchmark against our server.
//
// redis-cli one-shot, piped, and interactive in a pseudo-terminal (it asks
// COMMAND DOCS first, and does without when the answer is an error), and
// redis-benchmark pipelining PINGs. If these work, RESP is right where it
// matters. Client libraries need more (HELLO 3): step 11.

import { spawn } from "node:child_process";
import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import { serverForAllTests } from "@smallchat/test/harness";
import { killAll, spawnInPty } from "@smallchat/test/pty";
import { redisCli } from "@smallchat/test/redis";
import { afterEach, describe, expect, it } from "vitest";

// Since step 10: runs against step 10 and every later step of its track.
for (const step of corpusSteps(10)) {
  describe(step.name, async () => {
    const server = serverForAllTests(stepFile(step, "src/server.ts"));
    afterEach(() => killAll());

    describe("redis-cli", () => {
      it("one-shot commands", async () => {
        const port = server().port;
        expect(await redisCli(port, ["PING"])).toBe("PONG\n");
        expect(await redisCli(port, ["ECHO", "hello world"])).toBe("hello world\n");
        expect(await redisCli(port, ["NOSUCH", "x"])).toBe(
          "ERR unknown command 'NOSUCH', with args beginning with: 'x' \n\n", // redis-cli adds a line.
        );
      });

      it("commands piped on standard input", async () => {
        const out = await redisCli(server().port, [], "PING\nECHO piped\nNOSUCH\n");
        expect(out).toBe(
          "PONG\npiped\nERR unknown command 'NOSUCH', with args beginning with: \n\n",
        );
      });

      it("interactive, in a terminal", async () => {
        const port = server().port;
        const cli = spawnInPty("redis-cli", ["-h", "127.0.0.1", "-p", String(port)]);
        const prompt = `127.0.0.1:${port}>`;
        // Type a line once the prompt is back, then wait for `answer`.
        let prompts = 0;
        const type = async (line: string, answer: string | RegExp) => {
          prompts++;
          const n = prompts;
          await cli.waitFor(`prompt #${n}`, (s) => s.text.split(prompt).length > n);
          cli.write(`${line}\r`);
          await cli.waitForText(answer);
        };
        await type("PING", /^PONG$/m);
        await type('ECHO "two words"', '"two words"');
        // QUIT too waits for the prompt: typed earlier, redis-cli may drop it.
        await cli.waitFor("the last prompt", (s) => s.text.split(prompt).length > prompts + 1);
        cli.write("QUIT\r");
        await cli.waitForExit();
      });
    });

    describe("redis-benchmark", () => {
      // PING_MBULK only: PING_INLINE sends the inline form, which step 11 reads.
      it("-t ping_mbulk -n 20000 -P 16 completes", async () => {
        const out = await new Promise<string>((resolve, reject) => {
          const child = spawn("redis-benchmark", [
            ...["-h", "127.0.0.1", "-p", String(server().port)],
            ...["-t", "ping_mbulk", "-n", "20000", "-P", "16", "-q"],
          ]);
          let text = "";
          child.stdout.on("data", (d: Buffer) => {
            text += d.toString();
          });
          child.on("error", reject);
          child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(text))));
        });
        expect(out).toMatch(/PING_MBULK: [\d.]+ requests per second/);
      });
    });
  });
}
