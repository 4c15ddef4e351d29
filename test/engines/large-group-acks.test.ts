// Across processes: fanout tells the gateway (Deliver's receipts_not_live) that a group is above
// the live-receipt limit, and that gateway holds its devices' acks there (heldAckDelayFactor
// lingers) while a group at the limit keeps the ordinary linger.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DeviceStream } from "../../clients/node/device-stream.ts";
import type { Cluster } from "../../scripts/cluster/launcher.ts";
import { heldAckDelayFactor } from "../../services/gateway/device-session.ts";
import { sentSequence } from "../helpers/chat.ts";
import { deliveredOf } from "../helpers/direct-chat.ts";
import { as } from "../helpers/groups.ts";
import { eventually, eventuallyAsync, newPhone, type SignedIn } from "../helpers/parley.ts";
import { type ClusterClients, gatewayAt, signIn, startEngineCluster } from "./fixture.ts";

const lingerMs = 10;
const liveReceiptsMaxMembers = 2;
const heldDelayMs = lingerMs * heldAckDelayFactor;
let cluster: Cluster;
let c: ClusterClients;
before(async () => {
  ({ cluster, clients: c } = await startEngineCluster({
    env: { PARLEY_DELIVERED_LINGER_MS: String(lingerMs), PARLEY_LIVE_RECEIPTS_MAX_MEMBERS: String(liveReceiptsMaxMembers) },
  }));
});
after(() => cluster.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A group of `size` new users: the owner's device on gateway 0, the members' on gateway 1. */
async function groupOf(size: number) {
  const people = await Promise.all(Array.from({ length: size }, () => signIn(cluster, c, newPhone())));
  const [owner, ...members] = people as [SignedIn, ...SignedIn[]];
  const { conversation } = await c.conversations.createGroup(
    { name: `group of ${size}`, memberUserIds: members.map((m) => m.userId), clientRequestId: `g${size}-${owner.userId}` },
    as(owner),
  );
  const groupId = conversation?.conversationId ?? "";
  const ownerStream = new DeviceStream(gatewayAt(c, 0), { accessToken: owner.accessToken });
  const memberStreams = members.map((m) => new DeviceStream(gatewayAt(c, 1), { accessToken: m.accessToken }));
  await Promise.all([ownerStream, ...memberStreams].map((s) => s.caughtUp));
  return {
    owner,
    member: members[0] as SignedIn,
    groupId,
    ownerStream,
    memberStream: memberStreams[0] as DeviceStream,
    memberStreams,
  };
}

test("a member's ack is held in a group above the live-receipt limit and recorded at once at the limit", async () => {
  const large = await groupOf(liveReceiptsMaxMembers + 1);
  const small = await groupOf(liveReceiptsMaxMembers);
  const [inLarge, inSmall] = await Promise.all([
    sentSequence(large.ownerStream, large.groupId, "hello everyone"),
    sentSequence(small.ownerStream, small.groupId, "hello everyone"),
  ]);
  await eventually(
    "the members' devices have the messages",
    () => large.memberStream.cursors.get(large.groupId) === inLarge && small.memberStream.cursors.get(small.groupId) === inSmall,
  );
  const ackedAt = Date.now();
  await eventuallyAsync(
    "recorded at once at the limit",
    async () => (await deliveredOf(c, small.owner, small.groupId, small.member.userId)) === inSmall,
  );
  assert.ok(Date.now() - ackedAt < heldDelayMs / 2, "an ack at the limit is not held");
  await sleep(Math.max(0, ackedAt + heldDelayMs / 2 - Date.now()));
  assert.ok((await deliveredOf(c, large.owner, large.groupId, large.member.userId)) < inLarge, "held above the limit");
  await eventuallyAsync(
    "recorded after the wait",
    async () => (await deliveredOf(c, large.owner, large.groupId, large.member.userId)) === inLarge,
  );
  for (const s of [large.ownerStream, small.ownerStream, ...large.memberStreams, ...small.memberStreams]) s.close();
});
