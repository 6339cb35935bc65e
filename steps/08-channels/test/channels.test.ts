// channels.test.ts -- many rooms: membership both ways, notices, limits.
//
// First the membership maps alone (channels.ts, no sockets), then the
// server. "Nobody else got it" is never checked with a sleep: the client
// that must not see a line is sent a later one, and the later one must be
// the next thing it reads (its output is one ordered queue).

import { corpusSteps, stepFile } from "@smallchat/test/corpus";
import {
  connectClient,
  connectClients,
  type LineClient,
  serverForEachTest,
} from "@smallchat/test/harness";
import { describe, expect, it } from "vitest";
import type { Channels } from "../src/channels.ts";

// Since step 08: runs against step 08 and every later step of its track.
for (const step of corpusSteps(8)) {
  describe(step.name, async () => {
    const { Channels } = (await import(
      `${step.dir}src/channels.ts`
    )) as typeof import("../src/channels.ts");
    /* ============================ channels.ts alone ========================== */

    function names<M>(ch: Channels<M>): string[] {
      return ch.list().map((c) => `${c.name}(${c.members.size})`);
    }

    describe("Channels (no sockets)", () => {
      const limits = { maxChannels: 5, maxPerMember: 3, permanent: ["#lobby"] };

      it("keeps channel -> members and member -> channels in step", () => {
        const ch = new Channels<string>(limits);
        expect(ch.join("alice", "#rust")).toMatchObject({ ok: true, joined: true });
        expect(ch.join("bob", "#rust")).toMatchObject({ ok: true, joined: true });
        expect(ch.join("alice", "#go")).toMatchObject({ ok: true, joined: true });
        expect(ch.join("alice", "#rust")).toMatchObject({ ok: true, joined: false });
        expect([...(ch.get("#rust")?.members ?? [])]).toEqual(["alice", "bob"]);
        expect([...ch.channelsOf("alice")].map((c) => c.name)).toEqual(["#rust", "#go"]);
        expect([...ch.channelsOf("carol")]).toEqual([]);
        expect(names(ch)).toEqual(["#go(1)", "#lobby(0)", "#rust(2)"]);
      });

      it("drops a channel when its last member leaves, but never a permanent one", () => {
        const ch = new Channels<string>(limits);
        ch.join("alice", "#rust");
        ch.join("alice", "#lobby");
        expect(ch.part("bob", "#rust")).toBeNull();
        expect(ch.part("alice", "#nowhere")).toBeNull();
        expect(ch.part("alice", "#rust")?.name).toBe("#rust");
        expect(ch.part("alice", "#rust")).toBeNull();
        expect(ch.part("alice", "#lobby")?.name).toBe("#lobby");
        expect(ch.get("#rust")).toBeUndefined();
        expect(names(ch)).toEqual(["#lobby(0)"]);
        expect(ch.count).toBe(1);
      });

      it("partAll leaves every channel, returns them, and leaves nothing behind", () => {
        const ch = new Channels<string>(limits);
        ch.join("alice", "#lobby");
        ch.join("alice", "#a");
        ch.join("alice", "#b");
        ch.join("bob", "#b");
        const left = ch.partAll("alice");
        expect(left.map((c) => c.name)).toEqual(["#lobby", "#a", "#b"]);
        expect([...left[2]!.members]).toEqual(["bob"]); // Who to tell she quit.
        expect(names(ch)).toEqual(["#b(1)", "#lobby(0)"]);
        expect([...ch.channelsOf("alice")]).toEqual([]);
        expect(ch.partAll("alice")).toEqual([]);
        // She can come back as if new: the limit counts from zero again.
        for (const n of ["#x", "#y", "#z"]) expect(ch.join("alice", n).ok).toBe(true);
      });

      it("refuses a join over either limit, and changes nothing", () => {
        const ch = new Channels<number>(limits);
        for (const n of ["#1", "#2", "#3"]) ch.join(1, n);
        expect(ch.join(1, "#4")).toEqual({ ok: false, limit: "member" });
        expect(ch.join(1, "#2")).toMatchObject({ ok: true, joined: false }); // Already in: fine.
        ch.join(2, "#4"); // 5 channels with #lobby: the server is full.
        expect(ch.join(2, "#5")).toEqual({ ok: false, limit: "server" });
        expect(ch.join(2, "#1")).toMatchObject({ ok: true, joined: true }); // Exists: fine.
        expect(ch.get("#5")).toBeUndefined();
        expect([...ch.channelsOf(2)].map((c) => c.name)).toEqual(["#4", "#1"]);
        ch.part(1, "#3"); // Emptied: room for one more.
        expect(ch.join(2, "#5")).toMatchObject({ ok: true, joined: true });
      });
    });

    /* ============================ The server ================================= */

    // A fresh server for every test: tests must not hear each other's clients.
    const server = serverForEachTest(stepFile(step, "src/server.ts"));

    async function nick(c: LineClient, name: string): Promise<void> {
      await c.send(`/nick ${name}\n`);
      await server().waitForLog(new RegExp(`is now known as ${name}$`));
    }

    async function join(c: LineClient, channel: string): Promise<void> {
      await c.send(`/join ${channel}\n`);
      await c.waitForLine(`* now talking in ${channel}`);
    }

    // Three named clients, all in #lobby, joined in this order (one at a time:
    // /names lists members in join order).
    async function trio(): Promise<[LineClient, LineClient, LineClient]> {
      const clients: LineClient[] = [];
      for (const name of ["alice", "bob", "carol"]) {
        const c = await connectClient(server().port);
        await nick(c, name);
        clients.push(c);
      }
      return clients as [LineClient, LineClient, LineClient];
    }

    describe("#lobby, the old room", () => {
      it("relays without a prefix and announces nothing", async () => {
        const [a, b, c] = await trio();
        await a.send("hi\n");
        expect(await b.nextLine()).toBe("alice> hi");
        expect(await c.nextLine()).toBe("alice> hi");
        // Parting and rejoining #lobby: replies to the client, no notices.
        await b.send("/part #lobby\n");
        expect(await b.nextLine()).toBe("* left #lobby");
        await join(b, "#lobby");
        await c.send("/names\n");
        expect(await c.nextLine()).toBe("Names #lobby: alice carol bob");
        await b.send("back\n");
        expect(await a.nextLine()).toBe("bob> back"); // Not "bob left", "bob joined".
      });
    });

    describe("channels", () => {
      it("keeps a channel's lines among its members", async () => {
        const [a, b, c] = await trio();
        await join(a, "#rust");
        await join(b, "#rust");
        expect(await a.nextLine()).toBe("#rust * bob joined");
        await a.send("borrow checker\n");
        expect(await b.nextLine()).toBe("#rust alice> borrow checker");
        // carol, in #lobby only, saw nothing of #rust: her next line is this.
        await a.send("/join #lobby\nanyone here?\n");
        expect(await c.nextLine()).toBe("alice> anyone here?");
        expect(await b.nextLine()).toBe("alice> anyone here?"); // bob is in #lobby too.
      });

      it("sends plain lines to the current channel, switched by /join", async () => {
        const [a, b, c] = await trio();
        await join(b, "#a");
        await join(c, "#b");
        await join(a, "#a");
        await join(a, "#b");
        expect(await b.nextLine()).toBe("#a * alice joined");
        expect(await c.nextLine()).toBe("#b * alice joined");
        await a.send("one\n");
        expect(await c.nextLine()).toBe("#b alice> one");
        await a.send("/join #a\n"); // Already in: no notice, just switch.
        expect(await a.nextLine()).toBe("* now talking in #a");
        await a.send("two\n");
        expect(await b.nextLine()).toBe("#a alice> two");
        await c.send("/names #a\n");
        expect(await c.nextLine()).toBe("Names #a: bob alice"); // Join order.
        expect(c.drain()).toEqual([]); // Never saw "two" nor a second join.
      });

      it("tells the other members of joins, parts and quits, and only them", async () => {
        const [a, b, c] = await trio();
        await join(a, "#rust");
        await join(a, "#go");
        await join(b, "#rust");
        expect(await a.nextLine()).toBe("#rust * bob joined");
        await join(b, "#go");
        expect(await a.nextLine()).toBe("#go * bob joined");
        await b.send("/part #rust\n");
        expect(await b.nextLine()).toBe("* left #rust"); // Not current: nothing else.
        expect(await a.nextLine()).toBe("#rust * bob left");
        b.socket.resetAndDestroy(); // Gone at once: a FIN would wait for the next tick.
        expect(await a.nextLine()).toBe("#go * bob quit"); // Only #go: he had left #rust.
        await a.send("/list\n");
        expect(await a.nextLine()).toBe("Channels: #go(1) #lobby(2) #rust(1)");
        // carol shares only #lobby with them: she heard none of it.
        await a.send("/join #lobby\nstill here\n");
        expect(await c.nextLine()).toBe("alice> still here");
      });

      it("after /part of the current channel, talks in the newest one still held", async () => {
        const [a, b] = await trio();
        await join(a, "#one");
        await join(a, "#two");
        await join(a, "#three");
        await a.send("/join #two\n/part\n");
        expect(await a.nextLine()).toBe("* now talking in #two");
        expect(await a.nextLine()).toBe("* left #two");
        expect(await a.nextLine()).toBe("* now talking in #three");
        await a.send("/part #three\n/part #one\n");
        expect(await a.nextLine()).toBe("* left #three");
        expect(await a.nextLine()).toBe("* now talking in #one");
        expect(await a.nextLine()).toBe("* left #one");
        expect(await a.nextLine()).toBe("* now talking in #lobby");
        await a.send("/part\nhello?\n/names\n/part #lobby\n/join #back\n");
        expect(await a.nextLine()).toBe("* left #lobby"); // Nothing left: no current.
        expect(await a.nextLine()).toBe("ERR you are in no channel: /join #name first");
        expect(await a.nextLine()).toBe("ERR you are in no channel: /join #name first");
        expect(await a.nextLine()).toBe("ERR you are not in #lobby");
        expect(await a.nextLine()).toBe("* now talking in #back");
        await b.send("/list\n");
        expect(await b.nextLine()).toBe("Channels: #back(1) #lobby(2)");
      });

      it("answers /list and /names, and forgets empty channels", async () => {
        const [a, b, c] = await trio();
        await join(b, "#zed");
        await join(a, "#rust");
        await join(b, "#rust");
        expect(await a.nextLine()).toBe("#rust * bob joined");
        await c.send("/list\n/names #rust\n/names\n/names #nope\n");
        expect(await c.nextLine()).toBe("Channels: #lobby(3) #rust(2) #zed(1)");
        expect(await c.nextLine()).toBe("Names #rust: alice bob");
        expect(await c.nextLine()).toBe("Names #lobby: alice bob carol");
        expect(await c.nextLine()).toBe("ERR no such channel: #nope");
        await b.send("/part #zed\n");
        expect(await b.nextLine()).toBe("* left #zed");
        await a.send("/part #rust\n");
        expect(await a.nextLine()).toBe("* left #rust");
        expect(await a.nextLine()).toBe("* now talking in #lobby");
        await c.send("/list\n/names #zed\n");
        expect(await c.nextLine()).toBe("Channels: #lobby(3) #rust(1)");
        expect(await c.nextLine()).toBe("ERR no such channel: #zed");
      });

      it("cleans every membership of a client that disconnects", async () => {
        const [a, b, c] = await trio();
        for (const ch of ["#x", "#y", "#z"]) await join(a, ch);
        await join(b, "#y");
        a.socket.resetAndDestroy(); // Gone at once: a FIN would wait for the next tick.
        expect(await b.nextLine()).toBe("#y * alice quit");
        await c.send("/list\n/names #lobby\n");
        expect(await c.nextLine()).toBe("Channels: #lobby(2) #y(1)");
        expect(await c.nextLine()).toBe("Names #lobby: bob carol");
        // The name and the channels are free for the next client.
        const again = await connectClient(server().port);
        await nick(again, "alice");
        await join(again, "#x");
        await c.send("/names #x\n");
        expect(await c.nextLine()).toBe("Names #x: alice");
      });

      it("keeps /msg private and /who global", async () => {
        const [a, b, c] = await trio();
        await join(a, "#rust");
        await join(c, "#rust");
        expect(await a.nextLine()).toBe("#rust * carol joined");
        await a.send("/msg bob psst\n/who\n");
        expect(await b.nextLine()).toBe("alice> (private) psst"); // bob is not in #rust.
        expect(await a.nextLine()).toBe("Users: alice bob carol");
        await a.send("public\n");
        expect(await c.nextLine()).toBe("#rust alice> public"); // carol never saw psst.
      });
    });

    describe("names and limits", () => {
      it("rejects bad channel names, echoing them (cut short)", async () => {
        const a = await connectClient(server().port);
        const long = `#${"x".repeat(40)}`;
        await a.send(
          `/join rust\n/join #\n/join #a b\n/join ${long}\n/join #a\x07b\n/join #a,#b\n/part rust\n`,
        );
        expect(await a.nextLine()).toBe("ERR invalid channel name: rust");
        expect(await a.nextLine()).toBe("ERR invalid channel name: #");
        expect(await a.nextLine()).toBe("ERR invalid channel name: #a b");
        expect(await a.nextLine()).toBe(`ERR invalid channel name: ${long.slice(0, 32)}...`);
        expect(await a.nextLine()).toBe("ERR invalid channel name: #a\ufffdb");
        expect(await a.nextLine()).toBe("ERR invalid channel name: #a,#b");
        expect(await a.nextLine()).toBe("ERR invalid channel name: rust");
        // The limit is in bytes: 17 characters but 33 bytes is too long, 32 is fine.
        await a.send(`/join #${"é".repeat(16)}\n`);
        expect(await a.nextLine()).toBe(`ERR invalid channel name: #${"é".repeat(16)}`);
        const max = `#${"é".repeat(15)}x`;
        await join(a, max);
        await a.send("/list\n/part #nope\n/join\n");
        expect(await a.nextLine()).toBe(`Channels: #lobby(1) ${max}(1)`); // "l" < "é".
        expect(await a.nextLine()).toBe("ERR you are not in #nope");
        expect(await a.nextLine()).toBe("ERR usage: /join #channel");
      });

      it("refuses channel names with invisible, control or bidi characters, naming them", async () => {
        const a = await connectClient(server().port);
        await a.send("/join #root\u200b\n/JOIN #\u202etsur\n/join #a\u009bb\n/part #x\u2067\n");
        expect(await a.nextLine()).toBe(
          "ERR invalid channel name: U+200B is an invisible, control or bidi character",
        );
        expect(await a.nextLine()).toBe(
          "ERR invalid channel name: U+202E is an invisible, control or bidi character",
        );
        expect(await a.nextLine()).toBe("ERR invalid channel name: #a\ufffdb"); // C1: now U+FFFD.
        expect(await a.nextLine()).toMatch(/^ERR invalid channel name: U\+2067 /);
        await a.send("/Join #ok\n");
        expect(await a.nextLine()).toBe("* now talking in #ok");
      });

      it("refuses nicks that would read as a channel", async () => {
        const a = await connectClient(server().port);
        await a.send("/nick #rust\n");
        expect(await a.nextLine()).toBe("ERR nicks cannot start with #: channels do");
      });

      it("lets a client be in at most 10 channels, #lobby included", async () => {
        const a = await connectClient(server().port);
        const nine = Array.from({ length: 9 }, (_, i) => `/join #c${i}\n`).join("");
        await a.send(`${nine}/join #tenth\n/join #c3\n`);
        await a.waitForLine("* now talking in #c8");
        expect(await a.nextLine()).toBe("ERR too many channels: you are in 10, the limit");
        expect(await a.nextLine()).toBe("* now talking in #c3"); // Already in: fine.
        await a.send("/part #lobby\n/join #tenth\n");
        expect(await a.nextLine()).toBe("* left #lobby");
        expect(await a.nextLine()).toBe("* now talking in #tenth");
      });

      it("holds at most 1,000 channels on the server, #lobby included", async () => {
        // 111 clients x 9 channels each + #lobby = 1,000 channels. Each client
        // sends its nine /join lines in one write.
        const clients: LineClient[] = [];
        for (let i = 0; i < 111; i += 37)
          clients.push(...(await connectClients(server().port, 37)));
        await Promise.all(
          clients.map(async (c, i) => {
            await c.send(Array.from({ length: 9 }, (_, j) => `/join #c${i}-${j}\n`).join(""));
            await c.waitForLine(`* now talking in #c${i}-8`, 15000);
          }),
        );
        const late = await connectClient(server().port);
        await late.send("/join #one-more\n/join #c5-5\n/list\n");
        expect(await late.nextLine()).toBe("ERR too many channels on this server (max 1000)");
        expect(await late.nextLine()).toBe("* now talking in #c5-5"); // Existing: fine.
        const list = await late.nextLine();
        expect(list.split(" ")).toHaveLength(1 + 1000);
        expect(list).toContain(" #c5-5(2) ");
        expect(list.endsWith(" #lobby(112)")).toBe(true); // "#c" sorts before "#l".
        // A client leaving takes its nine channels with it: room again.
        clients[0]!.socket.resetAndDestroy(); // Gone at once: no half-close tick.
        await server().waitForLog(/^Disconnected client id=\d+,/);
        await late.send("/join #one-more\n/list\n");
        expect(await late.nextLine()).toBe("* now talking in #one-more");
        expect((await late.nextLine()).split(" ")).toHaveLength(1 + 1000 - 9 + 1);
      });
    });
  });
}
