// The ConversationService handlers: creating, reading and listing conversations here; group
// administration in group-service.ts.
import type { ServiceImpl } from "@connectrpc/connect";
import type { ConversationService } from "../../gen/parley/v1/conversations_pb.js";
import { callerOf } from "../shared/auth.ts";
import { conversationNotFound, invalidArgument } from "../shared/errors.ts";
import { pageSize, requireId } from "../shared/validate.ts";
import type { Access } from "./access.ts";
import type { Conversations } from "./conversations.ts";
import type { GroupAdmin } from "./group-admin.ts";
import { createGroupHandlers } from "./group-service.ts";
import type { Invites } from "./invites.ts";
import { conversationView } from "./mapping.ts";
import type { ConversationRecord, ConversationStore, UserDirectory } from "./ports.ts";

export interface ConversationServiceDeps {
  conversations: Conversations;
  admin: GroupAdmin;
  invites: Invites;
  access: Access;
  store: ConversationStore;
  users: UserDirectory;
}

function decodePageToken(token: string): { activity: number; conversationId: string } | undefined {
  if (token === "") return undefined;
  const [activity, conversationId] = Buffer.from(token, "base64url").toString().split("/");
  if (!activity || !conversationId || !/^[0-9]+$/.test(activity)) {
    throw invalidArgument("page_token", "MALFORMED_PAGE_TOKEN", "page_token is not one this server issued");
  }
  return { activity: Number(activity), conversationId };
}

/** The conversation as the user sees it (members, roles, settings and the membership version). */
export async function viewFor(
  deps: Pick<ConversationServiceDeps, "store" | "users">,
  record: ConversationRecord,
  userId: string,
) {
  const roster = await deps.store.roster(record.conversationId);
  if (!roster) throw conversationNotFound();
  const viewer = roster.members.find((m) => m.userId === userId);
  return conversationView(record, roster, viewer, deps.users);
}

export function createConversationService(deps: ConversationServiceDeps): ServiceImpl<typeof ConversationService> {
  return {
    async getOrCreateDirect(req, ctx) {
      const caller = callerOf(ctx);
      const result = await deps.conversations.getOrCreateDirect(caller, req.peerUserId);
      return { conversation: await viewFor(deps, result.conversation, caller.userId), created: result.created };
    },
    async createGroup(req, ctx) {
      const caller = callerOf(ctx);
      return { conversation: await viewFor(deps, await deps.conversations.createGroup(caller, req), caller.userId) };
    },
    async getConversation(req, ctx) {
      const conversationId = requireId(req.conversationId, "conversation_id");
      const caller = callerOf(ctx);
      await deps.access.reader(conversationId, caller.userId);
      const record = await deps.store.get(conversationId);
      if (!record) throw conversationNotFound();
      return { conversation: await viewFor(deps, record, caller.userId) };
    },
    async listConversations(req, ctx) {
      const caller = callerOf(ctx);
      const limit = pageSize(req.pageSize, 50, 200);
      const rows = await deps.store.listForUser(caller.userId, limit, decodePageToken(req.pageToken));
      const last = rows.at(-1);
      return {
        conversations: await Promise.all(rows.map((r) => viewFor(deps, r, caller.userId))),
        nextPageToken:
          rows.length === limit && last ? Buffer.from(`${last.activity}/${last.conversationId}`).toString("base64url") : "",
      };
    },
    ...createGroupHandlers(deps),
  };
}
