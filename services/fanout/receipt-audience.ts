// Who a conversation's receipts go to live. Receipts are not ordered with membership changes, so a
// group's members are read fresh for every receipt. A direct conversation's two members never
// change (membership changes are for groups only), so they are read once and remembered: in 1:1
// chat every message comes back as a receipt, and that read was a tenth of the server's storage
// calls.

import type { ConversationStore } from "../messaging/ports.ts";
import { LruMap } from "../shared/lru-map.ts";

export class ReceiptAudience {
  readonly #store: Pick<ConversationStore, "get" | "currentMemberIds">;
  /** Direct conversations and their members. */
  readonly #direct: LruMap<string, string[]>;
  /** Conversations known to be groups, so their kind is not read again. */
  readonly #groups: LruMap<string, true>;

  constructor(store: Pick<ConversationStore, "get" | "currentMemberIds">, capacity = 10_000) {
    this.#store = store;
    this.#direct = new LruMap(capacity);
    this.#groups = new LruMap(capacity);
  }

  /** The current members of the conversation (empty if it does not exist). */
  async of(conversationId: string): Promise<string[]> {
    const direct = this.#direct.get(conversationId);
    if (direct) return direct;
    if (this.#groups.get(conversationId) === undefined) {
      const conversation = await this.#store.get(conversationId);
      if (conversation?.kind === "direct") {
        const members = await this.#store.currentMemberIds(conversationId);
        this.#direct.set(conversationId, members);
        return members;
      }
      if (conversation) this.#groups.set(conversationId, true);
    }
    return this.#store.currentMemberIds(conversationId);
  }
}
