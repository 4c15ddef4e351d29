// Creating conversations and changing who is in them. Membership changes are events in the
// conversation's own order, written atomically with the membership rows.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { type ConversationEvent, ConversationEventSchema } from "../../gen/parley/v1/events_pb.js";
import type { EventBus } from "../bus/ports.ts";
import type { Caller } from "../shared/auth.ts";
import type { Clock, IdGenerator } from "../shared/clock.ts";
import { invalidArgument, parleyError } from "../shared/errors.ts";
import { requireClientId, requireId, requireText } from "../shared/validate.ts";
import type { Access } from "./access.ts";
import type { MessagingLimits } from "./limits.ts";
import type { ConversationRecord, ConversationStore, EventLog, UserDirectory } from "./ports.ts";

export interface ConversationDeps {
  access: Access;
  store: ConversationStore;
  log: EventLog;
  users: UserDirectory;
  bus: EventBus;
  clock: Clock;
  ids: IdGenerator;
  limits: MessagingLimits;
}

type EventBody = MessageInitShape<typeof ConversationEventSchema>["body"];

const userNotFound = (field: string) => parleyError(Code.NotFound, "USER_NOT_FOUND", "user not found", { field });

export function createConversations(deps: ConversationDeps) {
  const event = (caller: Caller, body: EventBody) =>
    create(ConversationEventSchema, {
      eventId: deps.ids.next(),
      senderUserId: caller.userId,
      senderDeviceId: caller.deviceId,
      sentAt: timestampFromMs(deps.clock.now()),
      body,
    });

  async function requireUsers(userIds: string[], field: string) {
    const found = new Set((await deps.users.find(userIds)).map((u) => u.userId));
    const missing = userIds.findIndex((id) => !found.has(id));
    if (missing >= 0) throw userNotFound(`${field}[${missing}]`);
  }

  async function publish(e: ConversationEvent) {
    await deps.bus.publish("conversation-events", e.conversationId, e);
  }

  async function getOrCreateDirect(caller: Caller, peerUserId: string) {
    const peer = requireId(peerUserId, "peer_user_id");
    if (peer === caller.userId) throw invalidArgument("peer_user_id", "SELF_CONVERSATION", "peer_user_id must be another user");
    if ((await deps.users.find([peer])).length === 0) throw userNotFound("peer_user_id");
    const conversationId = deps.ids.next();
    const pair = [caller.userId, peer].sort();
    const first = event(caller, { case: "conversationCreated", value: { memberUserIds: pair, name: "" } });
    Object.assign(first, { conversationId, sequence: 1n });
    const result = await deps.store.create({
      conversation: { conversationId, kind: "direct", name: "", createdAt: deps.clock.now(), lastSequence: 1n },
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
    if (others.length + 1 > deps.limits.maxGroupMembers) {
      throw invalidArgument("member_user_ids", "GROUP_TOO_LARGE", `a group has at most ${deps.limits.maxGroupMembers} members`);
    }
    await requireUsers(others, "member_user_ids");
    const conversationId = deps.ids.next();
    const memberUserIds = [caller.userId, ...others];
    const first = event(caller, { case: "conversationCreated", value: { memberUserIds, name } });
    Object.assign(first, { conversationId, sequence: 1n });
    const result = await deps.store.create({
      conversation: { conversationId, kind: "group", name, createdAt: deps.clock.now(), lastSequence: 1n },
      uniqueKey: { creation: `${caller.userId}:${clientRequestId}` },
      members: memberUserIds.map((userId) => ({ userId, role: userId === caller.userId ? "owner" : "member" })),
      firstEvent: first,
    });
    if (result.created) await publish(first);
    return result.conversation;
  }

  async function requireGroup(conversationId: string): Promise<ConversationRecord> {
    const conversation = await deps.store.get(conversationId);
    if (conversation?.kind !== "group") {
      throw parleyError(Code.FailedPrecondition, "NOT_A_GROUP", "members can only be changed in groups", {
        field: "conversation_id",
      });
    }
    return conversation;
  }

  async function addMembers(caller: Caller, conversationIdRaw: string, userIdsRaw: string[]) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    const userIds = [...new Set(userIdsRaw.map((id, i) => requireId(id, `user_ids[${i}]`)))];
    await deps.access.writer(conversationId, caller.userId);
    await requireGroup(conversationId);
    await requireUsers(userIds, "user_ids");
    const current = (await deps.store.members(conversationId)).filter((m) => m.leftAtSeq === null);
    const currentIds = new Set(current.map((m) => m.userId));
    const newcomers = userIds.filter((id) => !currentIds.has(id));
    if (newcomers.length === 0) return 0n;
    if (current.length + newcomers.length > deps.limits.maxGroupMembers) {
      throw invalidArgument("user_ids", "GROUP_TOO_LARGE", `a group has at most ${deps.limits.maxGroupMembers} members`);
    }
    const appended = await deps.log.append({
      conversationId,
      event: event(caller, { case: "membersAdded", value: { userIds: newcomers } }),
      membership: { add: newcomers.map((userId) => ({ userId, role: "member" as const })) },
    });
    await publish(appended.event);
    return appended.event.sequence;
  }

  async function removeMember(caller: Caller, conversationIdRaw: string, userIdRaw: string) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    const userId = requireId(userIdRaw, "user_id");
    const self = await deps.access.writer(conversationId, caller.userId);
    await requireGroup(conversationId);
    if (userId !== caller.userId && self.role !== "owner") {
      throw parleyError(Code.PermissionDenied, "NOT_GROUP_OWNER", "only the group owner may remove other members");
    }
    const target = await deps.store.membership(conversationId, userId);
    if (!target || target.leftAtSeq !== null) throw userNotFound("user_id");
    const appended = await deps.log.append({
      conversationId,
      event: event(caller, { case: "memberRemoved", value: { userId } }),
      membership: { remove: userId },
    });
    await publish(appended.event);
    return appended.event.sequence;
  }

  return { getOrCreateDirect, createGroup, addMembers, removeMember };
}

export type Conversations = ReturnType<typeof createConversations>;
