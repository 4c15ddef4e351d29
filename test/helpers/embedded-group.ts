// A group straight in the embedded stores, for tests that drive one messaging piece (receipts,
// the send path) without a server: the users exist, the first one owns the group, and its id is a
// real UUID, as the services check.
import { randomUUID } from "node:crypto";
import type { SqliteUserStore } from "../../services/identity/adapters/sqlite.ts";
import type { ConversationStore } from "../../services/messaging/ports.ts";
import { messageEvent } from "../contract/harness.ts";

export async function embeddedGroup(
  stores: { users: SqliteUserStore; conversations: ConversationStore },
  userIds: string[],
): Promise<string> {
  for (const userId of userIds) {
    await stores.users.getOrCreate({ userId, phoneNumber: `p-${userId}`, displayName: userId, createdAt: 0 });
  }
  const conversationId = randomUUID();
  await stores.conversations.create({
    conversation: {
      conversationId,
      kind: "group",
      name: "g",
      description: "",
      pictureRef: "",
      createdAt: 0,
      lastSequence: 1n,
      deletedAt: null,
    },
    uniqueKey: { creation: conversationId },
    members: userIds.map((userId, i) => ({ userId, role: i === 0 ? "owner" : "member" })),
    firstEvent: messageEvent({ sender: userIds[0] ?? "", clientMessageId: "created", text: "created" }),
  });
  return conversationId;
}
