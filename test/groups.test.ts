// Conversations and membership: one direct conversation per pair, idempotent group creation, and
// membership changes ordered with the messages around them (causal consistency).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { ErrorDetailSchema } from "../gen/parley/v1/errors_pb.js";
import { range, sequencesIn, textMessage } from "./helpers/chat.ts";
import { eventually, newPhone, type SignedIn, startTestParley, type TestParley } from "./helpers/parley.ts";

let t: TestParley;
before(async () => {
  t = await startTestParley();
});
after(() => t.stop());

const as = (user: SignedIn) => ({ headers: bearer(user.accessToken) });

async function reasonOf(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof ConnectError);
    return [Code[error.code], error.findDetails(ErrorDetailSchema)[0]?.reason];
  }
  assert.fail("the call succeeded");
}

describe("direct conversations", () => {
  test("there is exactly one per pair, whoever asks and however concurrently", async () => {
    const [a, b] = await Promise.all([t.signIn(newPhone()), t.signIn(newPhone())]);
    if (!a || !b) throw new Error("sign-in failed");
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => t.clients.conversations.getOrCreateDirect({ peerUserId: b.userId }, as(a))),
      ...Array.from({ length: 5 }, () => t.clients.conversations.getOrCreateDirect({ peerUserId: a.userId }, as(b))),
    ]);
    assert.equal(new Set(results.map((r) => r.conversation?.conversationId)).size, 1);
    assert.equal(results.filter((r) => r.created).length, 1);
    const id = results[0]?.conversation?.conversationId ?? "";
    assert.deepEqual(await reasonOf(t.clients.conversations.addMembers({ conversationId: id, userIds: [a.userId] }, as(a))), [
      "FailedPrecondition",
      "NOT_A_GROUP",
    ]);
    assert.deepEqual(await reasonOf(t.clients.conversations.getOrCreateDirect({ peerUserId: a.userId }, as(a))), [
      "InvalidArgument",
      "SELF_CONVERSATION",
    ]);
    assert.deepEqual(
      await reasonOf(t.clients.conversations.getOrCreateDirect({ peerUserId: "0190a1b2-0000-7000-8000-000000000000" }, as(a))),
      ["NotFound", "USER_NOT_FOUND"],
    );
  });
});

describe("groups", () => {
  test("creating with the same client_request_id twice returns the same group", async () => {
    const [a, b] = await Promise.all([t.signIn(newPhone()), t.signIn(newPhone())]);
    if (!a || !b) throw new Error("sign-in failed");
    const request = { name: "book club", memberUserIds: [b.userId], clientRequestId: "book-club-1" };
    const first = await t.clients.conversations.createGroup(request, as(a));
    const second = await t.clients.conversations.createGroup(request, as(a));
    assert.equal(first.conversation?.conversationId, second.conversation?.conversationId);
    const listed = await t.clients.conversations.listConversations({}, as(b));
    assert.deepEqual(
      listed.conversations.map((c) => c.name),
      ["book club"],
    );
  });

  test("a member added later sees from their join on; a removed member sees nothing after removal", async () => {
    const [owner, bob, carol] = await Promise.all([0, 1, 2].map(() => t.signIn(newPhone())));
    if (!owner || !bob || !carol) throw new Error("sign-in failed");
    const { conversation } = await t.clients.conversations.createGroup(
      { name: "causal", memberUserIds: [bob.userId], clientRequestId: "causal" },
      as(owner),
    );
    const id = conversation?.conversationId ?? "";
    const bobStream = new DeviceStream(t.clients.session, { accessToken: bob.accessToken });
    const carolStream = new DeviceStream(t.clients.session, { accessToken: carol.accessToken });
    await Promise.all([bobStream.caughtUp, carolStream.caughtUp]);

    for (let i = 0; i < 3; i++) await t.clients.messaging.sendMessage(textMessage(id, `before carol ${i}`), as(owner)); // 2..4
    const added = await t.clients.conversations.addMembers({ conversationId: id, userIds: [carol.userId] }, as(owner)); // 5
    assert.equal(added.sequence, 5n);
    await t.clients.messaging.sendMessage(textMessage(id, "welcome carol"), as(owner)); // 6
    const removed = await t.clients.conversations.removeMember({ conversationId: id, userId: bob.userId }, as(owner)); // 7
    assert.equal(removed.sequence, 7n);
    await t.clients.messaging.sendMessage(textMessage(id, "bob is gone"), as(owner)); // 8

    await eventually("carol has 5..8", () => carolStream.cursors.get(id) === 8n);
    assert.deepEqual(sequencesIn(carolStream.events, id), range(5n, 8n));
    await eventually("bob has 1..7", () => bobStream.cursors.get(id) === 7n);
    await carolStream.ping();
    await bobStream.ping();
    assert.deepEqual(sequencesIn(bobStream.events, id), range(1n, 7n), "bob gets his removal and nothing after");
    assert.equal(bobStream.events.at(-1)?.body.case, "memberRemoved");

    const carolHistory = await t.clients.messaging.listMessages({ conversationId: id }, as(carol));
    assert.deepEqual(
      carolHistory.events.map((e) => e.sequence),
      range(5n, 8n),
    );
    const bobHistory = await t.clients.messaging.listMessages({ conversationId: id }, as(bob));
    assert.deepEqual(
      bobHistory.events.map((e) => e.sequence),
      range(1n, 7n),
    );
    assert.deepEqual(await reasonOf(t.clients.messaging.sendMessage(textMessage(id, "let me back"), as(bob))), [
      "NotFound",
      "CONVERSATION_NOT_FOUND",
    ]);
    const bobAgain = new DeviceStream(t.clients.session, { accessToken: bob.accessToken });
    await bobAgain.caughtUp;
    assert.ok(
      bobAgain.events.every((e) => e.conversationId !== id || e.sequence <= 7n),
      "a removed member's new stream replays nothing past the removal",
    );
    for (const s of [bobStream, carolStream, bobAgain]) s.close();
  });

  test("a plain member cannot remove others; anyone may leave", async () => {
    const [owner, bob, carol] = await Promise.all([0, 1, 2].map(() => t.signIn(newPhone())));
    if (!owner || !bob || !carol) throw new Error("sign-in failed");
    const { conversation } = await t.clients.conversations.createGroup(
      { name: "roles", memberUserIds: [bob.userId, carol.userId], clientRequestId: "roles" },
      as(owner),
    );
    const id = conversation?.conversationId ?? "";
    assert.deepEqual(
      await reasonOf(t.clients.conversations.removeMember({ conversationId: id, userId: carol.userId }, as(bob))),
      ["PermissionDenied", "NOT_GROUP_ADMIN"],
    );
    await t.clients.conversations.removeMember({ conversationId: id, userId: bob.userId }, as(bob));
    const view = await t.clients.conversations.getConversation({ conversationId: id }, as(owner));
    assert.deepEqual(view.conversation?.members.map((m) => m.userId).sort(), [owner.userId, carol.userId].sort());
  });
});
