// Contacts and members from messaging's ConversationStore port (SQLite or Cassandra alike): read
// fresh on every call, so a removed member stops receiving presence and typing at once.
import type { ConversationStore } from "../../messaging/ports.ts";
import type { MembershipDirectory } from "../ports.ts";

/** Member lists read at once when collecting a user's contacts (keeps a big account bounded). */
const parallelReads = 16;

export function conversationDirectory(store: ConversationStore): MembershipDirectory {
  const currentMembers = (conversationId: string): Promise<string[]> => store.currentMemberIds(conversationId);
  return {
    currentMembers,
    async contactsOf(userId, maxMembers = Number.POSITIVE_INFINITY) {
      const conversations = (await store.membershipsOf(userId)).filter((m) => m.leftAtSeq === null).map((m) => m.conversationId);
      const contacts = new Set<string>();
      for (let i = 0; i < conversations.length; i += parallelReads) {
        const lists = await Promise.all(conversations.slice(i, i + parallelReads).map(currentMembers));
        for (const list of lists) {
          if (list.length > maxMembers) continue;
          for (const member of list) contacts.add(member);
        }
      }
      contacts.delete(userId);
      return contacts;
    },
  };
}
