// A group (or a direct chat) straight in the embedded stores, for tests that drive one messaging
// piece (receipts, the send path, fanout) without a server: the users exist, the first one owns
// the group, and its id is a real UUID, as the services check.
import { randomUUID } from "node:crypto";
import type { SqliteUserStore } from "../../services/identity/adapters/sqlite.ts";
import type { ConversationStore } from "../../services/messaging/ports.ts";
import { messageEvent } from "../contract/harness.ts";

export function embeddedGroup(stores: EmbeddedStores, userIds: string[]): Promise<string> {
  return embeddedConversation(stores, userIds, "group");
}

/** A direct chat of two users, made the same way (both plain members, keyed by the pair). */
export function embeddedDirect(stores: EmbeddedStores, pair: [string, string]): Promise<string> {
  return embeddedConversation(stores, pair, "direct");
}

interface EmbeddedStores {
  users: SqliteUserStore;
  conversations: ConversationStore;
}

async function embeddedConversation(stores: EmbeddedStores, userIds: string[], kind: "group" | "direct"): Promise<string> {
  for (const userId of userIds) {
    await stores.users.getOrCreate({ userId, phoneNumber: `p-${userId}`, displayName: userId, createdAt: 0 });
  }
  const conversationId = randomUUID();
  await stores.conversations.create({
    conversation: {
      conversationId,
      kind,
      name: kind === "group" ? "g" : "",
      description: "",
      pictureRef: "",
      createdAt: 0,
      lastSequence: 1n,
      deletedAt: null,
    },
    uniqueKey: kind === "group" ? { creation: conversationId } : { direct: [...userIds].sort().join(":") },
    members: userIds.map((userId, i) => ({ userId, role: kind === "group" && i === 0 ? "owner" : "member" })),
    firstEvent: messageEvent({ sender: userIds[0] ?? "", clientMessageId: "created", text: "created" }),
  });
  return conversationId;
}
