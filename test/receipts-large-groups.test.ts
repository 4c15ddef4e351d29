// Live receipt watermarks stop above a group size (PARLEY_LIVE_RECEIPTS_MAX_MEMBERS): in a large
// group every member's ack would reach every member. Members there read the watermarks with
// GetConversation; small conversations keep their live ReceiptUpdate frames.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { textMessage } from "./helpers/chat.ts";
import { eventually, newPhone, type SignedIn, startTestParley, type TestParley } from "./helpers/parley.ts";

let t: TestParley;
before(async () => {
  t = await startTestParley({ env: { PARLEY_LIVE_RECEIPTS_MAX_MEMBERS: "3" } });
});
after(() => t.stop());

const open = (who: SignedIn) => new DeviceStream(t.clients.session, { accessToken: who.accessToken });

test("a group above the limit gets no live receipts, a direct chat does, and GetConversation has both", async () => {
  const [owner, m1, m2, m3] = await Promise.all([0, 1, 2, 3].map(() => t.signIn(newPhone())));
  if (!owner || !m1 || !m2 || !m3) throw new Error("sign-in failed");
  const headers = bearer(owner.accessToken);
  const group = await t.clients.conversations.createGroup(
    { name: "four", memberUserIds: [m1.userId, m2.userId, m3.userId], clientRequestId: "four" },
    { headers },
  );
  const groupId = group.conversation?.conversationId ?? "";
  const direct = await t.clients.conversations.getOrCreateDirect({ peerUserId: m1.userId }, { headers });
  const directId = direct.conversation?.conversationId ?? "";
  const streams = [open(owner), open(m1), open(m2), open(m3)];
  await Promise.all(streams.map((s) => s.caughtUp));
  const [ownerStream, m1Stream] = streams;
  if (!ownerStream || !m1Stream) throw new Error("streams missing");

  const inGroup = await ownerStream.send(textMessage(groupId, "to the four of us"));
  const groupSeq = inGroup.outcome.case === "sent" ? inGroup.outcome.value.sequence : 0n;
  for (const s of streams) await eventually("group message delivered", () => s.cursors.get(groupId) === groupSeq);
  for (const s of streams.slice(1)) s.markRead(groupId, groupSeq);
  // Receipts are fanned out in order, so once the later direct-chat receipt is here, any group
  // receipt would have arrived before it.
  const inDirect = await ownerStream.send(textMessage(directId, "and just to you"));
  const directSeq = inDirect.outcome.case === "sent" ? inDirect.outcome.value.sequence : 0n;
  await eventually("direct message delivered", () => m1Stream.cursors.get(directId) === directSeq);
  m1Stream.markRead(directId, directSeq);
  await eventually("live receipt in the direct chat", () =>
    ownerStream.receipts.some((r) => r.conversationId === directId && r.readThrough === directSeq),
  );
  assert.deepEqual(
    ownerStream.receipts.filter((r) => r.conversationId === groupId),
    [],
    "no live receipts in a group above the limit",
  );

  const view = await t.clients.conversations.getConversation({ conversationId: groupId }, { headers });
  for (const member of view.conversation?.members.filter((m) => m.userId !== owner.userId) ?? []) {
    assert.equal(member.readThrough, groupSeq, `watermarks of ${member.userId} are stored`);
  }
  for (const s of streams) s.close();
});
