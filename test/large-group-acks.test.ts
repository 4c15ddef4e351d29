// Acks in a group above the live-receipt limit (PARLEY_LIVE_RECEIPTS_MAX_MEMBERS) are held like
// acks of your own messages (heldAckDelayFactor lingers): nobody watches them come in, so a busy
// large group costs a watermark write per device per wait, not per linger. A group at the limit
// keeps the ordinary linger, and a held ack is written at once when the stream closes.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { heldAckDelayFactor } from "../services/gateway/device-session.ts";
import { sentSequence } from "./helpers/chat.ts";
import { deliveredOf } from "./helpers/direct-chat.ts";
import { eventually, eventuallyAsync, newPhone, type SignedIn, startTestParley, type TestParley } from "./helpers/parley.ts";

const lingerMs = 10;
const liveReceiptsMaxMembers = 2;
// With this linger the held wait is 3 s: long enough to tell apart, short enough to wait out.
const heldDelayMs = lingerMs * heldAckDelayFactor;
let t: TestParley;
before(async () => {
  t = await startTestParley({
    env: { PARLEY_DELIVERED_LINGER_MS: String(lingerMs), PARLEY_LIVE_RECEIPTS_MAX_MEMBERS: String(liveReceiptsMaxMembers) },
  });
});
after(() => t.stop());

const open = (who: SignedIn) => new DeviceStream(t.clients.session, { accessToken: who.accessToken });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A group of `size` new users, the first its owner, each with an open stream. */
async function groupOf(size: number) {
  const people = await Promise.all(Array.from({ length: size }, () => t.signIn(newPhone())));
  const [owner, ...members] = people;
  if (!owner) throw new Error("sign-in failed");
  const created = await t.clients.conversations.createGroup(
    { name: `group of ${size}`, memberUserIds: members.map((m) => m.userId), clientRequestId: `g${size}-${owner.userId}` },
    { headers: bearer(owner.accessToken) },
  );
  const groupId = created.conversation?.conversationId ?? "";
  const streams = people.map(open);
  await Promise.all(streams.map((s) => s.caughtUp));
  return { owner, members, groupId, streams };
}

test("in a group above the live-receipt limit a member's ack waits, then is recorded; at the limit it is recorded at once", async () => {
  assert.ok(heldDelayMs >= 1_000, "the test needs a wait it can tell apart from the linger");
  const large = await groupOf(liveReceiptsMaxMembers + 1);
  const small = await groupOf(liveReceiptsMaxMembers);

  const inLarge = await sentSequence(large.streams[0] as DeviceStream, large.groupId, "hello everyone");
  const inSmall = await sentSequence(small.streams[0] as DeviceStream, small.groupId, "hello everyone");
  const [largeMember, smallMember] = [large.members[0] as SignedIn, small.members[0] as SignedIn];
  await eventually("the members' devices have the messages", () => {
    const largeStream = large.streams[1] as DeviceStream;
    const smallStream = small.streams[1] as DeviceStream;
    return largeStream.cursors.get(large.groupId) === inLarge && smallStream.cursors.get(small.groupId) === inSmall;
  });
  const ackedAt = Date.now();

  await eventuallyAsync(
    "recorded at once at the limit",
    async () => (await deliveredOf(t.clients, small.owner, small.groupId, smallMember.userId)) === inSmall,
  );
  assert.ok(Date.now() - ackedAt < heldDelayMs / 2, "an ack at the limit is not held");

  await sleep(Math.max(0, ackedAt + heldDelayMs / 2 - Date.now()));
  assert.ok(
    (await deliveredOf(t.clients, large.owner, large.groupId, largeMember.userId)) < inLarge,
    "above the limit, not recorded within half the wait",
  );
  await eventuallyAsync(
    "recorded after the wait",
    async () => (await deliveredOf(t.clients, large.owner, large.groupId, largeMember.userId)) === inLarge,
  );
  for (const s of [...large.streams, ...small.streams]) s.close();
});

test("a held ack in a large group is recorded at once when the stream closes", async () => {
  const large = await groupOf(liveReceiptsMaxMembers + 1);
  const sequence = await sentSequence(large.streams[0] as DeviceStream, large.groupId, "hello everyone");
  const member = large.members[0] as SignedIn;
  const memberStream = large.streams[1] as DeviceStream;
  await eventually("the member's device has the message", () => memberStream.cursors.get(large.groupId) === sequence);
  // Past the ordinary linger, so only the held wait can be holding the ack back.
  await sleep(lingerMs * 50);
  assert.ok((await deliveredOf(t.clients, large.owner, large.groupId, member.userId)) < sequence, "still held");
  const closedAt = Date.now();
  memberStream.close();
  await eventuallyAsync(
    "recorded once the stream closed",
    async () => (await deliveredOf(t.clients, large.owner, large.groupId, member.userId)) === sequence,
  );
  assert.ok(Date.now() - closedAt < heldDelayMs / 2, "written on close, not after the wait");
  for (const s of large.streams) s.close();
});
