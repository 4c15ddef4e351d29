// Finding people and conversations: phone numbers to users, a conversation argument to an id,
// and a cache of conversations with their members' display names.
import { Code } from "@connectrpc/connect";
import { type Conversation, ConversationKind } from "../../gen/parley/v1/conversations_pb.js";
import type { User } from "../../gen/parley/v1/identity_pb.js";
import type { Api } from "./api.ts";
import { CliError, codeName } from "./errors.ts";
import { cleanLine, type NameOf } from "./render.ts";

/** The users behind phone numbers; every number must belong to someone. */
export async function lookupUsers(api: Api, phoneNumbers: string[]): Promise<User[]> {
  const { users } = await api.call((headers, c) => c.identity.lookupUsers({ phoneNumbers }, { headers }));
  const byPhone = new Map(users.map((u) => [u.phoneNumber, u]));
  const missing = phoneNumbers.filter((p) => !byPhone.has(p));
  if (missing.length > 0) {
    throw new CliError(`no Parley user has the number ${missing.join(", ")} (they must sign in once first)`, {
      code: codeName(Code.NotFound),
      reason: "USER_NOT_FOUND",
    });
  }
  return phoneNumbers.map((p) => byPhone.get(p) as User);
}

/** The direct conversation with the user behind a phone number, created on first use. */
export async function directWith(api: Api, phoneNumber: string): Promise<{ conversation: Conversation; created: boolean }> {
  const [peer] = await lookupUsers(api, [phoneNumber]);
  const res = await api.call((headers, c) =>
    c.conversations.getOrCreateDirect({ peerUserId: (peer as User).userId }, { headers }),
  );
  if (!res.conversation) throw new Error("GetOrCreateDirect answered without a conversation");
  return { conversation: res.conversation, created: res.created };
}

/** A conversation argument: an id as is, or "+phone" for the direct conversation with that number. */
export async function resolveConversationId(api: Api, arg: string): Promise<string> {
  if (!arg.startsWith("+")) return arg;
  return (await directWith(api, arg)).conversation.conversationId;
}

const shortId = (id: string) => `user-${id.slice(-6)}`;

/** Conversations the CLI has looked at, and every member name it has seen. */
export class Directory {
  readonly #api: Api;
  readonly #conversations = new Map<string, Conversation>();
  readonly #names = new Map<string, string>();

  constructor(api: Api) {
    this.#api = api;
  }

  /** The conversation from the cache, or fetched (again, when `refresh`). */
  async get(conversationId: string, refresh = false): Promise<Conversation> {
    const cached = this.#conversations.get(conversationId);
    if (cached && !refresh) return cached;
    const { conversation } = await this.#api.call((headers, c) =>
      c.conversations.getConversation({ conversationId }, { headers }),
    );
    if (!conversation) throw new Error("GetConversation answered without a conversation");
    this.remember(conversation);
    return conversation;
  }

  knownIds(): string[] {
    return [...this.#conversations.keys()];
  }

  peek(conversationId: string): Conversation | undefined {
    return this.#conversations.get(conversationId);
  }

  remember(conversation: Conversation): void {
    this.#conversations.set(conversation.conversationId, conversation);
    for (const m of conversation.members) if (m.displayName !== "") this.#names.set(m.userId, cleanLine(m.displayName));
  }

  /** Display names of everyone seen so far; former members keep the name they had. */
  readonly nameOf: NameOf = (userId) => this.#names.get(userId) ?? shortId(userId);

  /** A group's name, or the other person's name for a direct conversation. */
  title(conversation: Conversation, selfUserId: string): string {
    if (conversation.kind === ConversationKind.GROUP) return cleanLine(conversation.name);
    const other = conversation.members.find((m) => m.userId !== selfUserId);
    return other ? this.nameOf(other.userId) : "direct";
  }
}
