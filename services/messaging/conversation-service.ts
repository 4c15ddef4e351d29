// The ConversationService handlers.
import type { ServiceImpl } from "@connectrpc/connect";
import type { ConversationService } from "../../gen/parley/v1/conversations_pb.js";
import { callerOf } from "../shared/auth.ts";
import { conversationNotFound, invalidArgument } from "../shared/errors.ts";
import { pageSize, requireId } from "../shared/validate.ts";
import type { Access } from "./access.ts";
import type { Conversations } from "./conversations.ts";
import { conversationView } from "./mapping.ts";
import type { ConversationStore, UserDirectory } from "./ports.ts";

export interface ConversationServiceDeps {
  conversations: Conversations;
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

export function createConversationService(deps: ConversationServiceDeps): ServiceImpl<typeof ConversationService> {
  const view = (record: Parameters<typeof conversationView>[0]) => conversationView(record, deps.store, deps.users);
  return {
    async getOrCreateDirect(req, ctx) {
      const result = await deps.conversations.getOrCreateDirect(callerOf(ctx), req.peerUserId);
      return { conversation: await view(result.conversation), created: result.created };
    },
    async createGroup(req, ctx) {
      return { conversation: await view(await deps.conversations.createGroup(callerOf(ctx), req)) };
    },
    async getConversation(req, ctx) {
      const conversationId = requireId(req.conversationId, "conversation_id");
      await deps.access.reader(conversationId, callerOf(ctx).userId);
      const record = await deps.store.get(conversationId);
      if (!record) throw conversationNotFound();
      return { conversation: await view(record) };
    },
    async listConversations(req, ctx) {
      const limit = pageSize(req.pageSize, 50, 200);
      const rows = await deps.store.listForUser(callerOf(ctx).userId, limit, decodePageToken(req.pageToken));
      const last = rows.at(-1);
      return {
        conversations: await Promise.all(rows.map(view)),
        nextPageToken:
          rows.length === limit && last ? Buffer.from(`${last.activity}/${last.conversationId}`).toString("base64url") : "",
      };
    },
    async addMembers(req, ctx) {
      return { sequence: await deps.conversations.addMembers(callerOf(ctx), req.conversationId, req.userIds) };
    },
    async removeMember(req, ctx) {
      return { sequence: await deps.conversations.removeMember(callerOf(ctx), req.conversationId, req.userId) };
    },
  };
}
