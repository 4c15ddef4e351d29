// Storage records to the protos clients see.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Conversation, ConversationKind, ConversationSchema } from "../../gen/parley/v1/conversations_pb.js";
import type { ConversationRecord, ConversationStore, UserDirectory } from "./ports.ts";

/** A conversation with its current members, their names and receipt watermarks. */
export async function conversationView(
  record: ConversationRecord,
  store: ConversationStore,
  users: UserDirectory,
): Promise<Conversation> {
  const members = (await store.members(record.conversationId)).filter((m) => m.leftAtSeq === null);
  const names = new Map((await users.find(members.map((m) => m.userId))).map((u) => [u.userId, u.displayName]));
  return create(ConversationSchema, {
    conversationId: record.conversationId,
    kind: record.kind === "direct" ? ConversationKind.DIRECT : ConversationKind.GROUP,
    name: record.name,
    lastSequence: record.lastSequence,
    createdAt: timestampFromMs(record.createdAt),
    members: members.map((m) => ({
      userId: m.userId,
      displayName: names.get(m.userId) ?? "",
      joinedAtSequence: m.joinedAtSeq,
      deliveredThrough: m.deliveredThrough,
      readThrough: m.readThrough,
    })),
  });
}
