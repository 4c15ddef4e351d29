// Group size limits, the fanout strategy by group size and the retention of deleted groups, on
// servers configured through their environment.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { range, sequencesIn, textMessage } from "./helpers/chat.ts";
import { as, newGroup, refusal } from "./helpers/groups.ts";
import {
  eventually,
  eventuallyAsync,
  newPhone,
  type SignedIn,
  signInOn,
  startTestParley,
  tempDataDir,
} from "./helpers/parley.ts";
import { type ParleyProcess, spawnParley } from "./helpers/process.ts";

/** A small server: groups of at most 5, batched fanout above 3 recipients, deleted groups purged at once. */
let small: ParleyProcess;
before(async () => {
  small = await spawnParley({
    dataDir: tempDataDir(),
    env: {
      PARLEY_MAX_GROUP_MEMBERS: "5",
      PARLEY_FANOUT_BATCH_THRESHOLD: "3",
      PARLEY_FANOUT_BATCH_SIZE: "2",
      PARLEY_FANOUT_CONCURRENCY: "2",
      PARLEY_DELETED_GROUP_RETENTION_MS: "0",
      PARLEY_RETENTION_SWEEP_MS: "200",
    },
  });
});
after(() => small.kill("SIGTERM"));

const users = (n: number) => Promise.all(Array.from({ length: n }, () => signInOn(small.clients, small.codes, newPhone())));

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${small.metricsPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
}

describe("group size limit", () => {
  test("creating, adding, joining by link and approving stop at the configured size", async () => {
    const [owner, ...rest] = await users(7);
    if (!owner) throw new Error("sign-in failed");
    const c = small.clients.conversations;
    assert.deepEqual(
      await refusal(
        c.createGroup(
          { name: "too big", memberUserIds: rest.slice(0, 5).map((u) => u.userId), clientRequestId: "big" },
          as(owner),
        ),
      ),
      ["InvalidArgument", "GROUP_TOO_LARGE", "member_user_ids"],
    );
    const id = await newGroup(small.clients, owner, rest.slice(0, 2)); // 3 members
    assert.deepEqual(
      await refusal(c.addMembers({ conversationId: id, userIds: rest.slice(2, 5).map((u) => u.userId) }, as(owner))),
      ["InvalidArgument", "GROUP_TOO_LARGE", "user_ids"],
    );
    await c.addMembers({ conversationId: id, userIds: [rest[2]?.userId ?? ""] }, as(owner)); // 4
    const { link } = await c.createInviteLink({ conversationId: id }, as(owner));
    await c.joinByInviteLink({ code: link?.code ?? "" }, as(rest[3] as SignedIn)); // 5
    assert.deepEqual(await refusal(c.joinByInviteLink({ code: link?.code ?? "" }, as(rest[4] as SignedIn))), [
      "FailedPrecondition",
      "GROUP_FULL",
      "",
    ]);
    await c.updateGroupSettings({ conversationId: id, joinRequiresApproval: true }, as(owner));
    await c.removeMember({ conversationId: id, userId: rest[3]?.userId ?? "" }, as(owner)); // 4
    await c.joinByInviteLink({ code: link?.code ?? "" }, as(rest[4] as SignedIn));
    await c.joinByInviteLink({ code: link?.code ?? "" }, as(rest[5] as SignedIn));
    await c.approveJoinRequest({ conversationId: id, userId: rest[4]?.userId ?? "" }, as(owner)); // 5
    assert.deepEqual(await refusal(c.approveJoinRequest({ conversationId: id, userId: rest[5]?.userId ?? "" }, as(owner))), [
      "FailedPrecondition",
      "GROUP_FULL",
      "",
    ]);
    assert.equal(
      (await c.listInviteLinks({ conversationId: id }, as(owner))).links[0]?.useCount,
      3,
      "a join refused for size takes no use",
    );
  });

  test("the default limit is 1,024 members", async () => {
    const t = await startTestParley();
    try {
      const owner = await t.signIn(newPhone());
      const strangers = (n: number) => Array.from({ length: n }, () => randomUUID());
      const c = t.clients.conversations;
      assert.deepEqual(
        await refusal(c.createGroup({ name: "huge", memberUserIds: strangers(1024), clientRequestId: "huge" }, as(owner))),
        ["InvalidArgument", "GROUP_TOO_LARGE", "member_user_ids"],
      );
      // 1,023 others plus the creator fit: the refusal is now about the users, not the size.
      assert.deepEqual(
        await refusal(c.createGroup({ name: "full", memberUserIds: strangers(1023), clientRequestId: "full" }, as(owner))),
        ["NotFound", "USER_NOT_FOUND", "member_user_ids[0]"],
      );
    } finally {
      await t.stop();
    }
  });
});

describe("fanout strategy", () => {
  test("a group up to the threshold is delivered directly, a larger one in batches; every member gets every event", async () => {
    const [owner, ...rest] = await users(5);
    if (!owner) throw new Error("sign-in failed");
    const smallGroup = await newGroup(small.clients, owner, rest.slice(0, 2)); // 3 recipients
    const largeGroup = await newGroup(small.clients, owner, rest); // 5 recipients
    const streams = [owner, ...rest].map((u) => new DeviceStream(small.clients.session, { accessToken: u.accessToken }));
    await Promise.all(streams.map((s) => s.caughtUp));
    const [direct, batched] = await Promise.all([
      metric("parley_fanout_events_total", 'strategy="direct"'),
      metric("parley_fanout_events_total", 'strategy="batched"'),
    ]);
    for (let i = 0; i < 5; i++) {
      await small.clients.messaging.sendMessage(textMessage(smallGroup, `s${i}`), as(owner));
      await small.clients.messaging.sendMessage(textMessage(largeGroup, `l${i}`), as(owner));
    }
    for (const [i, s] of streams.entries()) {
      await eventually(`member ${i} has the large group`, () => s.cursors.get(largeGroup) === 6n);
      assert.deepEqual(sequencesIn(s.events, largeGroup), range(1n, 6n));
      if (i < 3) await eventually(`member ${i} has the small group`, () => s.cursors.get(smallGroup) === 6n);
    }
    await eventuallyAsync(
      "both strategies counted",
      async () =>
        (await metric("parley_fanout_events_total", 'strategy="direct"')) >= direct + 5 &&
        (await metric("parley_fanout_events_total", 'strategy="batched"')) >= batched + 5,
    );
    for (const s of streams) s.close();
  });
});

describe("retention", () => {
  test("a deleted group is purged once its retention ends, and stays NOT_FOUND", async () => {
    const [owner, bob] = await users(2);
    if (!owner || !bob) throw new Error("sign-in failed");
    const id = await newGroup(small.clients, owner, [bob]);
    await small.clients.messaging.sendMessage(textMessage(id, "soon gone"), as(bob));
    await small.clients.conversations.deleteGroup({ conversationId: id }, as(owner));
    await eventually("the sweep purges it", () =>
      small.logs.some((l) => l.msg === "deleted group purged" && l.conversationId === id),
    );
    assert.deepEqual(await refusal(small.clients.conversations.getConversation({ conversationId: id }, as(bob))), [
      "NotFound",
      "CONVERSATION_NOT_FOUND",
      "conversation_id",
    ]);
    const synced = await small.clients.messaging.sync(
      { cursors: [{ conversationId: id, sequence: 0n }], listedOnly: true },
      as(bob),
    );
    assert.deepEqual(synced.events, [], "nothing of it is left to sync");
  });
});
