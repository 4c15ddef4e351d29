// Typing through a real server: notices reach the other members' connected devices only (never
// the typer's own devices, never a non-member), run out by themselves, are rate-limited per
// device, and are never stored; the WebSocket stream carries them like the gRPC stream.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { bearer } from "../clients/node/transport.ts";
import { wsSessionClient } from "../clients/node/ws-stream.ts";
import { PresenceState } from "../gen/parley/v1/presence_pb.js";
import { textMessage } from "./helpers/chat.ts";
import { eventually, newPhone, type SignedIn } from "./helpers/parley.ts";
import { metric, type Server, sleep, startServer, watch, watchAll } from "./helpers/presence.ts";

const ttlMs = 1_500;
const burst = 3;
let s: Server;
before(async () => {
  s = await startServer({
    PARLEY_TYPING_TTL_MS: String(ttlMs),
    PARLEY_TYPING_BURST: String(burst),
    PARLEY_TYPING_PER_SECOND: "0.2",
  });
});
after(() => s.stop());

/** A group of the given users (the first creates it). */
async function group(owner: SignedIn, ...members: SignedIn[]): Promise<string> {
  const { conversation } = await s.clients.conversations.createGroup(
    { name: "typing", memberUserIds: members.map((m) => m.userId), clientRequestId: randomUUID() },
    { headers: bearer(owner.accessToken) },
  );
  return conversation?.conversationId ?? "";
}

describe("who hears typing", () => {
  test("other members' devices hear it; the typer's other devices and non-members do not", async () => {
    const alice = await s.signIn(newPhone());
    const aliceTablet = await s.signIn(alice.phoneNumber, "tablet");
    const bob = await s.signIn(newPhone());
    const bobLaptop = await s.signIn(bob.phoneNumber, "laptop");
    const stranger = await s.signIn(newPhone());
    const id = await group(alice, bob);
    const [aliceStream, tablet, bobStream, laptop, strangerStream] = await watchAll(
      s.clients.session,
      alice,
      aliceTablet,
      bob,
      bobLaptop,
      stranger,
    );
    aliceStream.type(id);
    for (const device of [bobStream, laptop])
      await eventually("both of bob's devices hear alice", () => device.typingAbout(alice.userId).some((t) => t.typing));
    const notice = bobStream.typingAbout(alice.userId)[0];
    assert.equal(notice?.conversationId, id);
    assert.equal(notice?.expiresInMs, ttlMs);
    aliceStream.type(id, false);
    await eventually("the stop", () => bobStream.typingAbout(alice.userId).at(-1)?.typing === false);
    // Ordered behind the stop: by now anything meant for the others would have arrived.
    await Promise.all([tablet.stream.ping(), strangerStream.stream.ping(), aliceStream.stream.ping()]);
    assert.deepEqual(tablet.typing, [], "the typer's own other device");
    assert.deepEqual(strangerStream.typing, [], "a non-member");
    assert.deepEqual(aliceStream.typing, [], "the typer");
    for (const w of [aliceStream, tablet, bobStream, laptop, strangerStream]) await w.close();
  });

  test("a non-member typing gets NOT_FOUND like a missing conversation; a malformed id is MALFORMED_ID", async () => {
    const alice = await s.signIn(newPhone());
    const bob = await s.signIn(newPhone());
    const stranger = await s.signIn(newPhone());
    const id = await group(alice, bob);
    const [bobStream, strangerStream] = await watchAll(s.clients.session, bob, stranger);
    strangerStream.type(id);
    strangerStream.type("0190a0a0-0000-7000-8000-000000000000");
    strangerStream.type("not-an-id");
    await eventually("three errors", () => strangerStream.errors.length === 3);
    assert.deepEqual(
      strangerStream.errors.map((e) => [e.code, e.detail?.reason]),
      [
        [Code.NotFound, "CONVERSATION_NOT_FOUND"],
        [Code.NotFound, "CONVERSATION_NOT_FOUND"],
        [Code.InvalidArgument, "MALFORMED_ID"],
      ],
    );
    await bobStream.stream.ping();
    assert.deepEqual(bobStream.typing, []);
    // The stream goes on.
    await strangerStream.stream.ping();
    await Promise.all([bobStream.close(), strangerStream.close()]);
  });

  test("a removed member stops hearing typing at once", async () => {
    const alice = await s.signIn(newPhone());
    const bob = await s.signIn(newPhone());
    const carol = await s.signIn(newPhone());
    const id = await group(alice, bob, carol);
    const [aliceStream, bobStream, carolStream] = await watchAll(s.clients.session, alice, bob, carol);
    await s.clients.conversations.removeMember(
      { conversationId: id, userId: carol.userId },
      { headers: bearer(alice.accessToken) },
    );
    aliceStream.type(id);
    await eventually("bob hears", () => bobStream.typingAbout(alice.userId).length > 0);
    await carolStream.stream.ping();
    assert.deepEqual(carolStream.typing, []);
    for (const w of [aliceStream, bobStream, carolStream]) await w.close();
  });
});

describe("lifetime and limits", () => {
  test("a start runs out by itself, and ends when the typer's stream ends", async () => {
    const alice = await s.signIn(newPhone());
    const bob = await s.signIn(newPhone());
    const id = await group(alice, bob);
    const [aliceStream, bobStream] = await watchAll(s.clients.session, alice, bob);
    aliceStream.type(id);
    await eventually("start", () => bobStream.typingAbout(alice.userId).length === 1);
    await eventually("runs out", () => bobStream.typingAbout(alice.userId).length === 2, 10_000);
    const [start, stop] = bobStream.typingAbout(alice.userId);
    assert.equal(stop?.typing, false);
    const lasted = (stop?.at ?? 0) - (start?.at ?? 0);
    assert.ok(lasted >= ttlMs - 200, `stopped after only ${lasted} ms`);

    aliceStream.type(id);
    await eventually("started again", () => bobStream.typingAbout(alice.userId).length === 3);
    await aliceStream.close();
    await eventually("stopped with the stream", () => bobStream.typingAbout(alice.userId).length === 4);
    assert.ok((bobStream.typingAbout(alice.userId)[3]?.at ?? 0) - (bobStream.typingAbout(alice.userId)[2]?.at ?? 0) < ttlMs);
    await bobStream.close();
  });

  test("starts beyond the device's budget are dropped and counted", async () => {
    const alice = await s.signIn(newPhone());
    const bob = await s.signIn(newPhone());
    // One conversation per start, so the receiving outbox (one notice per member and
    // conversation) cannot be what hides the dropped ones.
    const ids = await Promise.all(Array.from({ length: 12 }, () => group(alice, bob)));
    const [aliceStream, bobStream] = await watchAll(s.clients.session, alice, bob);
    const droppedBefore = await metric(s.process.metricsPort, "parley_typing_dropped_total");
    for (const id of ids) aliceStream.type(id);
    await aliceStream.stream.ping();
    await sleep(500);
    await bobStream.stream.ping();
    const starts = bobStream.typingAbout(alice.userId).filter((t) => t.typing);
    // The budget is `burst` plus what refills meanwhile (0.2 per second).
    assert.ok(starts.length >= burst && starts.length <= burst + 1, `${starts.length} starts got through`);
    const dropped = (await metric(s.process.metricsPort, "parley_typing_dropped_total")) - droppedBefore;
    assert.equal(dropped, ids.length - starts.length);
    // A stop of a start that went through is not charged and still arrives.
    const first = starts[0]?.conversationId ?? "";
    aliceStream.type(first, false);
    await eventually("stop", () => bobStream.typingAbout(alice.userId).some((t) => !t.typing && t.conversationId === first));
    await Promise.all([aliceStream.close(), bobStream.close()]);
  });

  test("typing is never stored: not in history, not replayed, no sequence taken", async () => {
    const alice = await s.signIn(newPhone());
    const bob = await s.signIn(newPhone());
    const id = await group(alice, bob);
    await s.clients.messaging.sendMessage(textMessage(id, "before"), { headers: bearer(alice.accessToken) });
    const [aliceStream, bobStream] = await watchAll(s.clients.session, alice, bob);
    aliceStream.type(id);
    await eventually("heard", () => bobStream.typingAbout(alice.userId).length > 0);
    const after = await s.clients.messaging.sendMessage(textMessage(id, "after"), { headers: bearer(alice.accessToken) });
    assert.equal(after.sequence, 3n, "1 created, 2 before, 3 after: typing took no sequence");
    const history = await s.clients.messaging.listMessages({ conversationId: id }, { headers: bearer(bob.accessToken) });
    assert.deepEqual(
      history.events.map((e) => e.body.case),
      ["conversationCreated", "message", "message"],
    );
    await bobStream.close();
    // A fresh device of bob replays the log from the start: typing is not in it.
    const bobTablet = await s.signIn(bob.phoneNumber, "tablet");
    const replay = await watch(s.clients.session, bobTablet);
    await eventually("replayed", () => replay.stream.cursors.get(id) === 3n);
    assert.deepEqual(replay.typing, []);
    await Promise.all([aliceStream.close(), replay.close()]);
  });
});

describe("over WebSocket", () => {
  test("a browser types to a gRPC device and gets the presence snapshot and typing back", async () => {
    const alice = await s.signIn(newPhone());
    const bob = await s.signIn(newPhone());
    const id = await group(alice, bob);
    const browser = await watch(wsSessionClient(s.wsUrl), alice);
    const native = await watch(s.clients.session, bob);
    await eventually("the browser sees bob online", () => browser.stateOf(bob.userId) === PresenceState.ONLINE);
    browser.type(id);
    await eventually("native hears the browser", () => native.typingAbout(alice.userId).some((t) => t.typing));
    native.type(id);
    await eventually("the browser hears native", () => browser.typingAbout(bob.userId).some((t) => t.typing));
    await native.close();
    await eventually("the browser sees bob leave", () => browser.stateOf(bob.userId) === PresenceState.OFFLINE);
    await browser.close();
  });
});
