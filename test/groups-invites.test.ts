// Invite links (expiry, maximum uses, revocation) and join requests (list, approve, deny), through a
// real server: joining by link is immediate unless the group asks for approval.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { GroupPermission, JoinMethod } from "../gen/parley/v1/events_pb.js";
import { as, groupAs, newGroup, promote, refusal, signInMany } from "./helpers/groups.ts";
import { eventually, startTestParley, type TestParley } from "./helpers/parley.ts";

let t: TestParley;
before(async () => {
  t = await startTestParley();
});
after(() => t.stop());

describe("invite links", () => {
  test("a link joins at once, counts its uses, and stops at its maximum; members rejoining use none", async () => {
    const [owner, bob, carol, dave, erin] = await signInMany(t, 5);
    if (!owner || !bob || !carol || !dave || !erin) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [bob]);
    const c = t.clients.conversations;
    const { link } = await c.createInviteLink({ conversationId: id, maxUses: 2 }, as(bob));
    const code = link?.code ?? "";
    assert.match(code, /^[A-Za-z0-9_-]{22}$/);
    const bobStream = new DeviceStream(t.clients.session, { accessToken: bob.accessToken });
    await bobStream.caughtUp;
    const joined = await c.joinByInviteLink({ code }, as(carol));
    assert.equal(joined.outcome.case, "joined");
    assert.equal(joined.outcome.case === "joined" && joined.outcome.value.conversationId, id);
    assert.equal((await c.joinByInviteLink({ code }, as(carol))).sequence, 0n, "already a member: nothing happens");
    await c.joinByInviteLink({ code }, as(dave));
    assert.deepEqual(await refusal(c.joinByInviteLink({ code }, as(erin))), [
      "FailedPrecondition",
      "INVITE_LINK_EXHAUSTED",
      "code",
    ]);
    await eventually("bob sees both joins", () => bobStream.events.filter((e) => e.body.case === "membersAdded").length === 2);
    for (const [event, joiner] of bobStream.events
      .filter((e) => e.body.case === "membersAdded")
      .map((e, i) => [e, [carol, dave][i]] as const)) {
      assert.ok(event.body.case === "membersAdded");
      assert.deepEqual(
        [event.senderUserId, event.body.value.userIds, event.body.value.method],
        [joiner?.userId, [joiner?.userId], JoinMethod.INVITE_LINK],
      );
    }
    const listed = await c.listInviteLinks({ conversationId: id }, as(owner));
    assert.deepEqual(
      listed.links.map((l) => [l.code, l.useCount, l.maxUses, l.createdByUserId]),
      [[code, 2, 2, bob.userId]],
    );
    bobStream.close();
  });

  test("concurrent joins through a link with five uses: exactly five join", async () => {
    const [owner, ...joiners] = await signInMany(t, 13);
    if (!owner) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, []);
    const { link } = await t.clients.conversations.createInviteLink({ conversationId: id, maxUses: 5 }, as(owner));
    const outcomes = await Promise.all(
      joiners.map((j) =>
        t.clients.conversations.joinByInviteLink({ code: link?.code ?? "" }, as(j)).then(
          () => "joined",
          async (error) => (await refusal(Promise.reject(error)))[1],
        ),
      ),
    );
    assert.equal(outcomes.filter((o) => o === "joined").length, 5);
    assert.ok(
      outcomes.every((o) => o === "joined" || o === "INVITE_LINK_EXHAUSTED"),
      outcomes.join(),
    );
    assert.equal((await groupAs(t.clients, owner, id)).members.length, 6);
  });

  test("an expired link and a revoked link cannot be used; an unknown code is not found", async () => {
    const [owner, bob, carol] = await signInMany(t, 3);
    if (!owner || !bob || !carol) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, []);
    const c = t.clients.conversations;
    const expiresAt = Date.now() + 4_000;
    const { link: brief } = await c.createInviteLink({ conversationId: id, expiresAt: timestampFromMs(expiresAt) }, as(owner));
    const { link: revocable } = await c.createInviteLink({ conversationId: id }, as(owner));
    await c.joinByInviteLink({ code: brief?.code ?? "" }, as(bob));
    const revoked = await c.revokeInviteLink({ conversationId: id, code: revocable?.code ?? "" }, as(owner));
    assert.ok(revoked.link?.revokedAt);
    assert.deepEqual(await refusal(c.joinByInviteLink({ code: revocable?.code ?? "" }, as(carol))), [
      "FailedPrecondition",
      "INVITE_LINK_REVOKED",
      "code",
    ]);
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 50));
    assert.deepEqual(await refusal(c.joinByInviteLink({ code: brief?.code ?? "" }, as(carol))), [
      "FailedPrecondition",
      "INVITE_LINK_EXPIRED",
      "code",
    ]);
    assert.deepEqual(await refusal(c.joinByInviteLink({ code: "AAAAAAAAAAAAAAAAAAAAAA" }, as(carol))), [
      "NotFound",
      "INVITE_LINK_NOT_FOUND",
      "code",
    ]);
    assert.deepEqual(await refusal(c.revokeInviteLink({ conversationId: id, code: "AAAAAAAAAAAAAAAAAAAAAA" }, as(owner))), [
      "NotFound",
      "INVITE_LINK_NOT_FOUND",
      "code",
    ]);
    assert.deepEqual(
      (await groupAs(t.clients, owner, id)).members.map((m) => m.userId).sort(),
      [owner.userId, bob.userId].sort(),
    );
  });
});

describe("join requests", () => {
  test("a group that asks for approval files requests; admins list, approve and deny them", async () => {
    const [owner, admin, member, ann, ben] = await signInMany(t, 5);
    if (!owner || !admin || !member || !ann || !ben) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [admin, member]);
    await promote(t.clients, owner, id, [admin]);
    const c = t.clients.conversations;
    await c.updateGroupSettings({ conversationId: id, joinRequiresApproval: true }, as(owner));
    const { link } = await c.createInviteLink({ conversationId: id, maxUses: 3 }, as(owner));
    const code = link?.code ?? "";
    const asked = await c.joinByInviteLink({ code }, as(ann));
    assert.equal(asked.outcome.case, "requested");
    assert.equal(asked.outcome.case === "requested" && asked.outcome.value.userId, ann.userId);
    const again = await c.joinByInviteLink({ code }, as(ann));
    assert.equal(
      again.outcome.case === "requested" && again.outcome.value.requestedAt?.seconds,
      asked.outcome.value?.requestedAt?.seconds,
    );
    await c.joinByInviteLink({ code }, as(ben));
    assert.deepEqual(await refusal(t.clients.messaging.listMessages({ conversationId: id }, as(ann))), [
      "NotFound",
      "CONVERSATION_NOT_FOUND",
      "conversation_id",
    ]);
    assert.deepEqual(await refusal(c.approveJoinRequest({ conversationId: id, userId: ann.userId }, as(member))), [
      "PermissionDenied",
      "NOT_GROUP_ADMIN",
      "",
    ]);
    const pending = await c.listJoinRequests({ conversationId: id }, as(admin));
    assert.deepEqual(
      pending.requests.map((r) => [r.userId, r.code]),
      [
        [ann.userId, code],
        [ben.userId, code],
      ],
    );
    assert.equal(
      (await c.listInviteLinks({ conversationId: id }, as(owner))).links[0]?.useCount,
      2,
      "a repeated request used no more",
    );

    const annStream = new DeviceStream(t.clients.session, { accessToken: ann.accessToken });
    await annStream.caughtUp;
    const approved = await c.approveJoinRequest({ conversationId: id, userId: ann.userId }, as(admin));
    await eventually("ann's stream gets her join", () => annStream.cursors.get(id) === approved.sequence);
    const event = annStream.events.find((e) => e.sequence === approved.sequence);
    assert.ok(event?.body.case === "membersAdded");
    assert.deepEqual([event.senderUserId, event.body.value.method], [admin.userId, JoinMethod.JOIN_REQUEST]);
    await c.denyJoinRequest({ conversationId: id, userId: ben.userId }, as(admin));
    assert.deepEqual((await c.listJoinRequests({ conversationId: id }, as(admin))).requests, []);
    assert.deepEqual(await refusal(c.approveJoinRequest({ conversationId: id, userId: ben.userId }, as(admin))), [
      "NotFound",
      "JOIN_REQUEST_NOT_FOUND",
      "user_id",
    ]);
    assert.deepEqual(await refusal(c.denyJoinRequest({ conversationId: id, userId: ben.userId }, as(admin))), [
      "NotFound",
      "JOIN_REQUEST_NOT_FOUND",
      "user_id",
    ]);
    const { events } = await t.clients.messaging.listMessages({ conversationId: id }, as(owner));
    assert.ok(
      !events.some((e) => e.body.case === "membersAdded" && e.body.value.userIds.includes(ben.userId)),
      "a denial records nothing",
    );

    // Members may be allowed to approve too.
    await c.updateGroupSettings({ conversationId: id, approveJoinRequests: GroupPermission.MEMBERS }, as(owner));
    await c.joinByInviteLink({ code }, as(ben));
    await c.approveJoinRequest({ conversationId: id, userId: ben.userId }, as(member));
    assert.equal((await groupAs(t.clients, owner, id)).members.length, 5);
    annStream.close();
  });
});
