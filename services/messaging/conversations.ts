// Creating conversations: the one direct conversation per pair, and groups (the creator is the
// owner). Changing a group afterwards is in group-admin.ts and invites.ts.

import type { ConversationEvent } from "../../gen/parley/v1/events_pb.js";
import type { EventBus } from "../bus/ports.ts";
import type { Caller } from "../shared/auth.ts";
import type { Clock, IdGenerator } from "../shared/clock.ts";
import { conversationNotFound, invalidArgument } from "../shared/errors.ts";
import { requireClientId, requireId, requireText } from "../shared/validate.ts";
import { userNotFound } from "./group-errors.ts";
import type { MessagingLimits } from "./limits.ts";
import type { MembershipChanges } from "./membership.ts";
import type { ConversationStore, UserDirectory } from "./ports.ts";

export interface ConversationDeps {
  store: ConversationStore;
  users: UserDirectory;
  bus: EventBus;
  clock: Clock;
  ids: IdGenerator;
  limits: MessagingLimits;
  changes: MembershipChanges;
}

/** Throws USER_NOT_FOUND naming the first id that names nobody. */
export async function requireUsers(users: UserDirectory, userIds: string[], field: string) {
  const found = new Set((await users.find(userIds)).map((u) => u.userId));
  const missing = userIds.findIndex((id) => !found.has(id));
  if (missing >= 0) throw userNotFound(`${field}[${missing}]`);
}

export const groupTooLarge = (max: number, field: string) =>
  invalidArgument(field, "GROUP_TOO_LARGE", `a group has at most ${max} members`);

export function createConversations(deps: ConversationDeps) {
  async function publish(e: ConversationEvent) {
    await deps.bus.publish("conversation-events", e.conversationId, e);
  }

  async function getOrCreateDirect(caller: Caller, peerUserId: string) {
    const peer = requireId(peerUserId, "peer_user_id");
    if (peer === caller.userId) throw invalidArgument("peer_user_id", "SELF_CONVERSATION", "peer_user_id must be another user");
    if ((await deps.users.find([peer])).length === 0) throw userNotFound("peer_user_id");
    const conversationId = deps.ids.next();
    const pair = [caller.userId, peer].sort();
    const first = deps.changes.draft(caller, { case: "conversationCreated", value: { memberUserIds: pair, name: "" } });
    Object.assign(first, { conversationId, sequence: 1n });
    const result = await deps.store.create({
      conversation: {
        conversationId,
        kind: "direct",
        name: "",
        description: "",
        pictureRef: "",
        createdAt: deps.clock.now(),
        lastSequence: 1n,
        deletedAt: null,
      },
      uniqueKey: { direct: pair.join(":") },
      members: pair.map((userId) => ({ userId, role: "member" as const })),
      firstEvent: first,
    });
    if (result.created) await publish(first);
    return result;
  }

  async function createGroup(caller: Caller, input: { name: string; memberUserIds: string[]; clientRequestId: string }) {
    const name = requireText(input.name, "name", deps.limits.maxGroupNameChars);
    const clientRequestId = requireClientId(input.clientRequestId, "client_request_id");
    const others = [...new Set(input.memberUserIds.map((id, i) => requireId(id, `member_user_ids[${i}]`)))].filter(
      (id) => id !== caller.userId,
    );
    if (others.length + 1 > deps.limits.maxGroupMembers) throw groupTooLarge(deps.limits.maxGroupMembers, "member_user_ids");
    await requireUsers(deps.users, others, "member_user_ids");
    const conversationId = deps.ids.next();
    const memberUserIds = [caller.userId, ...others];
    const first = deps.changes.draft(caller, { case: "conversationCreated", value: { memberUserIds, name } });
    Object.assign(first, { conversationId, sequence: 1n });
    const result = await deps.store.create({
      conversation: {
        conversationId,
        kind: "group",
        name,
        description: "",
        pictureRef: "",
        createdAt: deps.clock.now(),
        lastSequence: 1n,
        deletedAt: null,
      },
      uniqueKey: { creation: `${caller.userId}:${clientRequestId}` },
      members: memberUserIds.map((userId) => ({ userId, role: userId === caller.userId ? "owner" : "member" })),
      firstEvent: first,
    });
    // A retry after the group was deleted finds it deleted: it is gone for the creator too.
    if (result.conversation.deletedAt !== null) throw conversationNotFound();
    if (result.created) await publish(first);
    return result.conversation;
  }

  return { getOrCreateDirect, createGroup };
}

export type Conversations = ReturnType<typeof createConversations>;
