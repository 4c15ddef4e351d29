// Conversations and membership: one direct conversation per pair, idempotent group creation,
// membership changes ordered with the messages around them (causal consistency), and group
// administration: roles, permission settings, announcement-only groups, bans, ownership passing
// on, group info, deletion, and the errors for bad input and outsiders (docs/groups.md).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { ErrorDetailSchema } from "../gen/parley/v1/errors_pb.js";
import { GroupPermission, MemberRole } from "../gen/parley/v1/events_pb.js";
import { range, sequencesIn, textMessage } from "./helpers/chat.ts";
import { groupAs, newGroup, promote, refusal, roleOf, signInMany } from "./helpers/groups.ts";
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

describe("roles", () => {
  test("admins promote members; only the owner demotes or removes admins; nobody removes or demotes the owner", async () => {
    const [owner, admin, bob, carol] = await signInMany(t, 4);
    if (!owner || !admin || !bob || !carol) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [admin, bob, carol]);
    const c = t.clients.conversations;
    const role = (userId: string, r: MemberRole, who: SignedIn) =>
      c.changeMemberRole({ conversationId: id, userId, role: r }, as(who));
    assert.deepEqual(await refusal(role(carol.userId, MemberRole.ADMIN, bob)), ["PermissionDenied", "NOT_GROUP_ADMIN", ""]);
    await role(admin.userId, MemberRole.ADMIN, owner);
    await role(bob.userId, MemberRole.ADMIN, admin);
    assert.deepEqual(await refusal(role(bob.userId, MemberRole.MEMBER, admin)), ["PermissionDenied", "NOT_GROUP_OWNER", ""]);
    assert.deepEqual(await refusal(c.removeMember({ conversationId: id, userId: bob.userId }, as(admin))), [
      "PermissionDenied",
      "NOT_GROUP_OWNER",
      "",
    ]);
    assert.deepEqual(await refusal(c.removeMember({ conversationId: id, userId: owner.userId }, as(admin))), [
      "PermissionDenied",
      "TARGET_IS_OWNER",
      "user_id",
    ]);
    assert.deepEqual(await refusal(role(owner.userId, MemberRole.MEMBER, admin)), [
      "PermissionDenied",
      "TARGET_IS_OWNER",
      "user_id",
    ]);
    await c.removeMember({ conversationId: id, userId: carol.userId }, as(admin));
    await role(bob.userId, MemberRole.MEMBER, bob); // an admin may step down
    assert.equal((await role(bob.userId, MemberRole.MEMBER, owner)).sequence, 0n, "no change, no event");
    const view = await groupAs(t.clients, owner, id);
    assert.deepEqual(
      [owner, admin, bob].map((u) => roleOf(view, u)),
      ["OWNER", "ADMIN", "MEMBER"],
    );
    assert.equal(view.viewerRole, MemberRole.OWNER);
  });

  test("the owner transfers ownership and becomes an admin", async () => {
    const [owner, bob] = await signInMany(t, 2);
    if (!owner || !bob) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [bob]);
    const moved = await t.clients.conversations.changeMemberRole(
      { conversationId: id, userId: bob.userId, role: MemberRole.OWNER },
      as(owner),
    );
    const view = await groupAs(t.clients, bob, id);
    assert.deepEqual([roleOf(view, bob), roleOf(view, owner)], ["OWNER", "ADMIN"]);
    const { events } = await t.clients.messaging.listMessages({ conversationId: id }, as(bob));
    const last = events.at(-1);
    assert.equal(last?.sequence, moved.sequence);
    assert.ok(last?.body.case === "memberRoleChanged");
    assert.deepEqual(
      [last.body.value.userId, last.body.value.role, last.body.value.previousOwnerUserId],
      [bob.userId, MemberRole.OWNER, owner.userId],
    );
  });
});

describe("permission settings", () => {
  test("add_members, edit_info and approve_join_requests follow the group's settings; only admins change settings", async () => {
    const [owner, admin, bob, carol] = await signInMany(t, 4);
    if (!owner || !admin || !bob || !carol) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [admin, bob]);
    await promote(t.clients, owner, id, [admin]);
    const c = t.clients.conversations;
    const defaults = (await groupAs(t.clients, bob, id)).settings;
    assert.deepEqual(
      [defaults?.addMembers, defaults?.editInfo, defaults?.sendMessages, defaults?.approveJoinRequests],
      [GroupPermission.MEMBERS, GroupPermission.MEMBERS, GroupPermission.MEMBERS, GroupPermission.ADMINS],
    );
    assert.deepEqual(await refusal(c.updateGroupSettings({ conversationId: id, addMembers: GroupPermission.ADMINS }, as(bob))), [
      "PermissionDenied",
      "NOT_GROUP_ADMIN",
      "",
    ]);
    const changed = await c.updateGroupSettings(
      { conversationId: id, addMembers: GroupPermission.ADMINS, editInfo: GroupPermission.OWNER },
      as(admin),
    );
    assert.deepEqual([changed.settings?.addMembers, changed.settings?.editInfo], [GroupPermission.ADMINS, GroupPermission.OWNER]);
    assert.equal(changed.settings?.sendMessages, GroupPermission.MEMBERS, "unspecified fields keep their value");
    assert.deepEqual(await refusal(c.addMembers({ conversationId: id, userIds: [carol.userId] }, as(bob))), [
      "PermissionDenied",
      "NOT_GROUP_ADMIN",
      "",
    ]);
    assert.deepEqual(await refusal(c.createInviteLink({ conversationId: id }, as(bob))), [
      "PermissionDenied",
      "NOT_GROUP_ADMIN",
      "",
    ]);
    await c.addMembers({ conversationId: id, userIds: [carol.userId] }, as(admin));
    assert.deepEqual(await refusal(c.updateGroupInfo({ conversationId: id, name: "mine" }, as(admin))), [
      "PermissionDenied",
      "NOT_GROUP_OWNER",
      "",
    ]);
    await c.updateGroupInfo({ conversationId: id, name: "ours" }, as(owner));
    assert.deepEqual(await refusal(c.listJoinRequests({ conversationId: id }, as(bob))), [
      "PermissionDenied",
      "NOT_GROUP_ADMIN",
      "",
    ]);
    const { events } = await t.clients.messaging.listMessages({ conversationId: id }, as(bob));
    assert.ok(events.some((e) => e.body.case === "groupSettingsChanged" && e.senderUserId === admin.userId));
  });
});

describe("announcement-only groups", () => {
  test("only admins send; members are refused on unary and stream sends until it is switched back", async () => {
    const [owner, bob] = await signInMany(t, 2);
    if (!owner || !bob) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [bob]);
    const c = t.clients.conversations;
    await c.updateGroupSettings({ conversationId: id, sendMessages: GroupPermission.ADMINS }, as(owner));
    assert.deepEqual(await refusal(t.clients.messaging.sendMessage(textMessage(id, "me too"), as(bob))), [
      "PermissionDenied",
      "ANNOUNCEMENT_ONLY",
      "conversation_id",
    ]);
    const stream = new DeviceStream(t.clients.session, { accessToken: bob.accessToken });
    await stream.caughtUp;
    const refused = await stream.send(textMessage(id, "via stream"));
    assert.equal(refused.outcome.case === "error" && refused.outcome.value.detail?.reason, "ANNOUNCEMENT_ONLY");
    const announced = await t.clients.messaging.sendMessage(textMessage(id, "announcement"), as(owner));
    await eventually("bob gets the announcement", () => stream.cursors.get(id) === announced.sequence);
    await c.updateGroupSettings({ conversationId: id, sendMessages: GroupPermission.MEMBERS }, as(owner));
    const ok = await stream.send(textMessage(id, "now I may"));
    assert.equal(ok.outcome.case, "sent");
    stream.close();
  });
});

describe("bans", () => {
  test("a banned user cannot be re-added or join by link until unbanned", async () => {
    const [owner, bob, eve] = await signInMany(t, 3);
    if (!owner || !bob || !eve) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [bob, eve]);
    const c = t.clients.conversations;
    const { link } = await c.createInviteLink({ conversationId: id }, as(owner));
    const code = link?.code ?? "";
    assert.deepEqual(await refusal(c.removeMember({ conversationId: id, userId: eve.userId, ban: true }, as(bob))), [
      "PermissionDenied",
      "NOT_GROUP_ADMIN",
      "",
    ]);
    await c.removeMember({ conversationId: id, userId: eve.userId, ban: true }, as(owner));
    assert.deepEqual((await c.listBannedMembers({ conversationId: id }, as(owner))).userIds, [eve.userId]);
    assert.deepEqual(await refusal(c.addMembers({ conversationId: id, userIds: [eve.userId] }, as(owner))), [
      "FailedPrecondition",
      "USER_BANNED",
      "user_ids[0]",
    ]);
    assert.deepEqual(await refusal(c.joinByInviteLink({ code }, as(eve))), ["FailedPrecondition", "USER_BANNED", "code"]);
    assert.deepEqual(await refusal(t.clients.messaging.sendMessage(textMessage(id, "hi"), as(eve))), [
      "NotFound",
      "CONVERSATION_NOT_FOUND",
      "conversation_id",
    ]);
    // A member who left can be banned too, keeping them from coming back by link.
    await c.removeMember({ conversationId: id, userId: bob.userId }, as(bob));
    const banned = await c.removeMember({ conversationId: id, userId: bob.userId, ban: true }, as(owner));
    assert.ok(banned.sequence > 0n);
    assert.deepEqual(await refusal(c.joinByInviteLink({ code }, as(bob))), ["FailedPrecondition", "USER_BANNED", "code"]);
    await c.unbanMember({ conversationId: id, userId: eve.userId }, as(owner));
    const joined = await c.joinByInviteLink({ code }, as(eve));
    assert.equal(joined.outcome.case, "joined");
    assert.deepEqual((await c.listBannedMembers({ conversationId: id }, as(owner))).userIds, [bob.userId]);
  });
});

describe("ownership", () => {
  test("when the owner leaves, the longest-standing admin becomes owner, else the longest-standing member", async () => {
    const [owner, early, lateAdmin, earlyAdmin] = await signInMany(t, 4);
    if (!owner || !early || !lateAdmin || !earlyAdmin) throw new Error("sign-in failed");
    const c = t.clients.conversations;
    const id = await newGroup(t.clients, owner, [early]);
    await c.addMembers({ conversationId: id, userIds: [earlyAdmin.userId] }, as(owner));
    await c.addMembers({ conversationId: id, userIds: [lateAdmin.userId] }, as(owner));
    await promote(t.clients, owner, id, [lateAdmin, earlyAdmin]);
    const left = await c.removeMember({ conversationId: id, userId: owner.userId }, as(owner));
    const view = await groupAs(t.clients, early, id);
    assert.deepEqual(
      [early, earlyAdmin, lateAdmin].map((u) => roleOf(view, u)),
      ["MEMBER", "OWNER", "ADMIN"],
    );
    const { events } = await t.clients.messaging.listMessages({ conversationId: id }, as(early));
    const removal = events.find((e) => e.sequence === left.sequence);
    assert.ok(removal?.body.case === "memberRemoved");
    assert.equal(removal.body.value.newOwnerUserId, earlyAdmin.userId, "one event records the leave and the new owner");

    const [solo, first, second] = await signInMany(t, 3);
    if (!solo || !first || !second) throw new Error("sign-in failed");
    const plain = await newGroup(t.clients, solo, [first]);
    await c.addMembers({ conversationId: plain, userIds: [second.userId] }, as(solo));
    await c.removeMember({ conversationId: plain, userId: solo.userId }, as(solo));
    assert.equal(roleOf(await groupAs(t.clients, second, plain), first), "OWNER");
  });

  test("the last member leaving deletes the group", async () => {
    const [owner] = await signInMany(t, 1);
    if (!owner) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, []);
    await t.clients.conversations.removeMember({ conversationId: id, userId: owner.userId }, as(owner));
    assert.deepEqual(await refusal(t.clients.conversations.getConversation({ conversationId: id }, as(owner))), [
      "NotFound",
      "CONVERSATION_NOT_FOUND",
      "conversation_id",
    ]);
  });
});

describe("group info", () => {
  test("name, description and picture change with an event; fields left out keep their value", async () => {
    const [owner, bob] = await signInMany(t, 2);
    if (!owner || !bob) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [bob], "before");
    const c = t.clients.conversations;
    await c.updateGroupInfo({ conversationId: id, description: "  the plan  ", pictureRef: "media:123" }, as(bob));
    await c.updateGroupInfo({ conversationId: id, name: "after" }, as(owner));
    const view = await groupAs(t.clients, bob, id);
    assert.deepEqual([view.name, view.description, view.pictureRef], ["after", "the plan", "media:123"]);
    const noop = await c.updateGroupInfo({ conversationId: id, name: "after" }, as(owner));
    assert.equal(noop.sequence, 0n);
    const { events } = await t.clients.messaging.listMessages({ conversationId: id }, as(bob));
    assert.deepEqual(
      events.flatMap((e) =>
        e.body.case === "groupInfoChanged"
          ? [[e.senderUserId, e.body.value.name, e.body.value.description, e.body.value.pictureRef]]
          : [],
      ),
      [
        [bob.userId, "before", "the plan", "media:123"],
        [owner.userId, "after", "the plan", "media:123"],
      ],
    );
  });
});

describe("deleting a group", () => {
  test("members are told by a GroupDeleted event; afterwards every call answers NOT_FOUND like a missing group", async () => {
    const [owner, bob, carol] = await signInMany(t, 3);
    if (!owner || !bob || !carol) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [bob, carol]);
    const c = t.clients.conversations;
    const { link } = await c.createInviteLink({ conversationId: id }, as(owner));
    await t.clients.messaging.sendMessage(textMessage(id, "last words"), as(bob));
    const bobStream = new DeviceStream(t.clients.session, { accessToken: bob.accessToken });
    await bobStream.caughtUp;
    assert.deepEqual(await refusal(c.deleteGroup({ conversationId: id }, as(bob))), ["PermissionDenied", "NOT_GROUP_OWNER", ""]);
    const deleted = await c.deleteGroup({ conversationId: id }, as(owner));
    await eventually("bob's stream gets the deletion", () => bobStream.cursors.get(id) === deleted.sequence);
    assert.equal(bobStream.events.at(-1)?.body.case, "groupDeleted");
    assert.equal(bobStream.events.at(-1)?.senderUserId, owner.userId);
    // Carol was offline: her next stream still learns of the deletion.
    const carolStream = new DeviceStream(t.clients.session, { accessToken: carol.accessToken });
    await carolStream.caughtUp;
    assert.equal(carolStream.events.filter((e) => e.conversationId === id).at(-1)?.body.case, "groupDeleted");

    const missing = "0190a1b2-0000-7000-8000-000000000000";
    const calls = [
      (conversationId: string) => c.getConversation({ conversationId }, as(bob)),
      (conversationId: string) => t.clients.messaging.listMessages({ conversationId }, as(bob)),
      (conversationId: string) => t.clients.messaging.sendMessage(textMessage(conversationId, "hello?"), as(owner)),
      (conversationId: string) => t.clients.messaging.markRead({ conversationId, throughSequence: 1n }, as(bob)),
      (conversationId: string) => c.addMembers({ conversationId, userIds: [carol.userId] }, as(owner)),
      (conversationId: string) => c.deleteGroup({ conversationId }, as(owner)),
      (conversationId: string) => c.createInviteLink({ conversationId }, as(owner)),
    ];
    for (const call of calls) assert.deepEqual(await refusal(call(id)), await refusal(call(missing)));
    assert.deepEqual(await refusal(c.joinByInviteLink({ code: link?.code ?? "" }, as(carol))), [
      "NotFound",
      "INVITE_LINK_NOT_FOUND",
      "code",
    ]);
    const listed = await c.listConversations({}, as(bob));
    assert.ok(!listed.conversations.some((x) => x.conversationId === id));
    await bobStream.ping();
    bobStream.close();
    carolStream.close();
  });
});

describe("validation and outsiders", () => {
  test("bad input is INVALID_ARGUMENT naming the field", async () => {
    const [owner, bob] = await signInMany(t, 2);
    if (!owner || !bob) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [bob]);
    const c = t.clients.conversations;
    const cases: [string, Promise<unknown>, string, string][] = [
      ["role unset", c.changeMemberRole({ conversationId: id, userId: bob.userId }, as(owner)), "INVALID_ROLE", "role"],
      [
        "unknown role",
        c.changeMemberRole({ conversationId: id, userId: bob.userId, role: 9 as MemberRole }, as(owner)),
        "INVALID_ROLE",
        "role",
      ],
      [
        "malformed user",
        c.changeMemberRole({ conversationId: id, userId: "bob", role: 2 }, as(owner)),
        "MALFORMED_ID",
        "user_id",
      ],
      [
        "unknown permission",
        c.updateGroupSettings({ conversationId: id, sendMessages: 7 as GroupPermission }, as(owner)),
        "INVALID_PERMISSION",
        "send_messages",
      ],
      ["empty info", c.updateGroupInfo({ conversationId: id }, as(owner)), "EMPTY", "name"],
      ["blank name", c.updateGroupInfo({ conversationId: id, name: "  " }, as(owner)), "EMPTY", "name"],
      [
        "long description",
        c.updateGroupInfo({ conversationId: id, description: "x".repeat(513) }, as(owner)),
        "TOO_LONG",
        "description",
      ],
      [
        "ban yourself",
        c.removeMember({ conversationId: id, userId: owner.userId, ban: true }, as(owner)),
        "CANNOT_BAN_SELF",
        "ban",
      ],
      ["malformed code", c.joinByInviteLink({ code: "short" }, as(bob)), "MALFORMED_INVITE_CODE", "code"],
      ["too many uses", c.createInviteLink({ conversationId: id, maxUses: 100_001 }, as(owner)), "OUT_OF_RANGE", "max_uses"],
      [
        "expiry in the past",
        c.createInviteLink({ conversationId: id, expiresAt: { seconds: 1n, nanos: 0 } }, as(owner)),
        "OUT_OF_RANGE",
        "expires_at",
      ],
      ["malformed conversation", c.listBannedMembers({ conversationId: "x" }, as(owner)), "MALFORMED_ID", "conversation_id"],
    ];
    // Every call is already in flight: take each refusal now, so none rejects unobserved.
    const refusals = cases.map(([name, call, reason, field]) => [name, refusal(call), reason, field] as const);
    for (const [name, outcome, reason, field] of refusals) {
      assert.deepEqual(await outcome, ["InvalidArgument", reason, field], name);
    }
    assert.deepEqual(await refusal(c.changeMemberRole({ conversationId: id, userId: randomUUID(), role: 2 }, as(owner))), [
      "NotFound",
      "USER_NOT_FOUND",
      "user_id",
    ]);
  });

  test("an outsider gets the same NOT_FOUND for every group call as for a group that does not exist", async () => {
    const [owner, bob, mallory] = await signInMany(t, 3);
    if (!owner || !bob || !mallory) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [bob]);
    const c = t.clients.conversations;
    const missing = "0190a1b2-0000-7000-8000-000000000000";
    const calls = [
      (conversationId: string) => c.changeMemberRole({ conversationId, userId: bob.userId, role: MemberRole.ADMIN }, as(mallory)),
      (conversationId: string) => c.removeMember({ conversationId, userId: bob.userId, ban: true }, as(mallory)),
      (conversationId: string) => c.unbanMember({ conversationId, userId: bob.userId }, as(mallory)),
      (conversationId: string) => c.listBannedMembers({ conversationId }, as(mallory)),
      (conversationId: string) => c.updateGroupInfo({ conversationId, name: "pwned" }, as(mallory)),
      (conversationId: string) => c.updateGroupSettings({ conversationId, sendMessages: GroupPermission.OWNER }, as(mallory)),
      (conversationId: string) => c.deleteGroup({ conversationId }, as(mallory)),
      (conversationId: string) => c.createInviteLink({ conversationId }, as(mallory)),
      (conversationId: string) => c.listInviteLinks({ conversationId }, as(mallory)),
      (conversationId: string) => c.listJoinRequests({ conversationId }, as(mallory)),
      (conversationId: string) => c.approveJoinRequest({ conversationId, userId: mallory.userId }, as(mallory)),
      (conversationId: string) => c.denyJoinRequest({ conversationId, userId: mallory.userId }, as(mallory)),
    ];
    for (const call of calls) {
      const real = await refusal(call(id));
      assert.equal(real[0], "NotFound");
      assert.deepEqual(real, await refusal(call(missing)));
    }
    assert.equal((await groupAs(t.clients, owner, id)).lastSequence, 1n, "nothing was recorded");
  });
});
