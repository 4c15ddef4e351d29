// Causal membership through a real server: a removed member's devices receive nothing after the
// removal event and cannot page past it (ListMessages, Sync, stream replay); a member removed while
// sending has no message ordered after the removal; an added member receives from the join on, plus
// the earlier history only when the group shows it to new members.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { range, sequencesIn, textMessage } from "./helpers/chat.ts";
import { as, newGroup, refusal, signInMany } from "./helpers/groups.ts";
import { eventually, startTestParley, type TestParley } from "./helpers/parley.ts";

let t: TestParley;
before(async () => {
  t = await startTestParley();
});
after(() => t.stop());

describe("a removed member", () => {
  test("gets nothing live after the removal event and cannot page history past it", async () => {
    const [owner, bob, carol] = await signInMany(t, 3);
    if (!owner || !bob || !carol) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [bob, carol]);
    const bobStream = new DeviceStream(t.clients.session, { accessToken: bob.accessToken });
    const carolStream = new DeviceStream(t.clients.session, { accessToken: carol.accessToken });
    await Promise.all([bobStream.caughtUp, carolStream.caughtUp]);
    for (let i = 0; i < 3; i++) await t.clients.messaging.sendMessage(textMessage(id, `before ${i}`), as(owner)); // 2..4
    const removed = await t.clients.conversations.removeMember({ conversationId: id, userId: bob.userId }, as(owner)); // 5
    let last = removed.sequence;
    for (let i = 0; i < 20; i++)
      last = (await t.clients.messaging.sendMessage(textMessage(id, `after ${i}`), as(owner))).sequence;
    await t.clients.conversations.updateGroupInfo({ conversationId: id, name: "renamed behind bob's back" }, as(owner));
    last += 1n;

    await eventually("carol has everything", () => carolStream.cursors.get(id) === last);
    await eventually("bob has his removal", () => bobStream.cursors.get(id) === removed.sequence);
    // Everything after the removal was fanned out before carol's last event; a ping is a barrier on bob's stream.
    await bobStream.ping();
    assert.deepEqual(sequencesIn(bobStream.events, id), range(1n, removed.sequence));
    assert.equal(bobStream.events.at(-1)?.body.case, "memberRemoved");

    const pages = await t.clients.messaging.listMessages({ conversationId: id, beforeSequence: last + 1n }, as(bob));
    assert.deepEqual(
      pages.events.map((e) => e.sequence),
      range(1n, removed.sequence),
    );
    const synced = await t.clients.messaging.sync({ cursors: [{ conversationId: id, sequence: 2n }], listedOnly: true }, as(bob));
    assert.deepEqual(
      synced.events.map((e) => e.sequence),
      range(3n, removed.sequence),
    );
    assert.equal(synced.cursors[0]?.sequence, removed.sequence);
    const view = (await t.clients.conversations.getConversation({ conversationId: id }, as(bob))).conversation;
    assert.deepEqual(
      [view?.lastSequence, view?.members.length, view?.name],
      [removed.sequence, 0, ""],
      "nothing that changed after the removal",
    );
    const replay = new DeviceStream(t.clients.session, {
      accessToken: bob.accessToken,
      cursors: [{ conversationId: id, sequence: 1n } as never],
    });
    await replay.caughtUp;
    assert.deepEqual(sequencesIn(replay.events, id), range(2n, removed.sequence), "replay stops at the removal");
    for (const s of [bobStream, carolStream, replay]) s.close();
  });

  test("removed while sending: none of their messages is ordered after the removal", async () => {
    const [owner, bob, watcher] = await signInMany(t, 3);
    if (!owner || !bob || !watcher) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [bob, watcher]);
    const stream = new DeviceStream(t.clients.session, { accessToken: bob.accessToken });
    await stream.caughtUp;
    // Bob sends until he is refused; the removal lands while he is at it.
    const outcomes: string[] = [];
    const sending = (async () => {
      for (let i = 0; i < 2_000; i++) {
        const result = await stream.send(textMessage(id, `spam ${i}`));
        outcomes.push(result.outcome.case === "sent" ? "sent" : (result.outcome.value?.detail?.reason ?? "error"));
        if (result.outcome.case !== "sent") return;
      }
    })();
    await eventually("bob is sending", () => outcomes.length >= 5);
    const removed = await t.clients.conversations.removeMember({ conversationId: id, userId: bob.userId }, as(owner));
    await sending;
    assert.equal(outcomes[0], "sent");
    assert.equal(outcomes.at(-1), "CONVERSATION_NOT_FOUND", "bob was refused after his removal");
    const { events } = await t.clients.messaging.listMessages({ conversationId: id, pageSize: 500 }, as(watcher));
    const lateFromBob = events.filter((e) => e.senderUserId === bob.userId && e.sequence > removed.sequence);
    assert.deepEqual(lateFromBob, [], "no message of bob's comes after his removal");
    assert.deepEqual(
      events.map((e) => e.sequence),
      range(events[0]?.sequence ?? 1n, events.at(-1)?.sequence ?? 0n),
    );
    stream.close();
  });
});

describe("an added member", () => {
  test("receives from the join on; earlier history only when the group shows it to new members", async () => {
    const [owner, hidden, shown] = await signInMany(t, 3);
    if (!owner || !hidden || !shown) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, []);
    const c = t.clients.conversations;
    for (let i = 0; i < 5; i++) await t.clients.messaging.sendMessage(textMessage(id, `old ${i}`), as(owner)); // 2..6
    const hiddenStream = new DeviceStream(t.clients.session, { accessToken: hidden.accessToken });
    const shownStream = new DeviceStream(t.clients.session, { accessToken: shown.accessToken });
    await Promise.all([hiddenStream.caughtUp, shownStream.caughtUp]);
    const hiddenJoin = await c.addMembers({ conversationId: id, userIds: [hidden.userId] }, as(owner)); // 7
    await c.updateGroupSettings({ conversationId: id, historyVisibleToNewMembers: true }, as(owner)); // 8
    const shownJoin = await c.addMembers({ conversationId: id, userIds: [shown.userId] }, as(owner)); // 9
    const latest = await t.clients.messaging.sendMessage(textMessage(id, "welcome"), as(owner)); // 10

    await eventually("hidden is live", () => hiddenStream.cursors.get(id) === latest.sequence);
    await eventually("shown is live", () => shownStream.cursors.get(id) === latest.sequence);
    assert.deepEqual(sequencesIn(hiddenStream.events, id), range(hiddenJoin.sequence, latest.sequence));
    assert.deepEqual(sequencesIn(shownStream.events, id), range(1n, latest.sequence), "the history comes with the join");
    const hiddenPage = await t.clients.messaging.listMessages({ conversationId: id }, as(hidden));
    assert.deepEqual(
      hiddenPage.events.map((e) => e.sequence),
      range(hiddenJoin.sequence, latest.sequence),
    );
    assert.equal(hiddenPage.hasMore, false);
    const shownPage = await t.clients.messaging.listMessages(
      { conversationId: id, beforeSequence: shownJoin.sequence },
      as(shown),
    );
    assert.deepEqual(
      shownPage.events.map((e) => e.sequence),
      range(1n, shownJoin.sequence - 1n),
    );
    // The setting applies at the join: it does not reveal history to members who joined before.
    const again = await t.clients.messaging.listMessages({ conversationId: id, beforeSequence: hiddenJoin.sequence }, as(hidden));
    assert.deepEqual(again.events, []);
    assert.deepEqual(await refusal(t.clients.messaging.listMessages({ conversationId: "nope" }, as(hidden))), [
      "InvalidArgument",
      "MALFORMED_ID",
      "conversation_id",
    ]);
    hiddenStream.close();
    shownStream.close();
  });
});
