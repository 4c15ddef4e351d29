// The ConversationService handlers of group administration: thin adapters from RPCs to the
// group-admin and invites use cases (docs/groups.md has the rules).
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { type ConversationService, type JoinRequest, JoinRequestSchema } from "../../gen/parley/v1/conversations_pb.js";
import { callerOf } from "../shared/auth.ts";
import { conversationNotFound } from "../shared/errors.ts";
import type { ConversationServiceDeps } from "./conversation-service.ts";
import { viewFor } from "./conversation-service.ts";
import { linkToProto, settingsToProto } from "./mapping.ts";
import type { JoinRequestRecord } from "./ports.ts";

type GroupHandlers = Omit<
  ServiceImpl<typeof ConversationService>,
  "getOrCreateDirect" | "createGroup" | "getConversation" | "listConversations"
>;

export function createGroupHandlers(deps: ConversationServiceDeps): GroupHandlers {
  const { admin, invites } = deps;
  const changed = (r: { sequence: bigint; membershipVersion: bigint }) => ({
    sequence: r.sequence,
    membershipVersion: r.membershipVersion,
  });
  async function requestsView(requests: JoinRequestRecord[]) {
    const names = new Map((await deps.users.find(requests.map((r) => r.userId))).map((u) => [u.userId, u.displayName]));
    return requests.map((r) =>
      create(JoinRequestSchema, {
        conversationId: r.conversationId,
        userId: r.userId,
        displayName: names.get(r.userId) ?? "",
        requestedAt: timestampFromMs(r.requestedAt),
        code: r.code,
      }),
    );
  }

  return {
    async addMembers(req, ctx) {
      return changed(await admin.addMembers(callerOf(ctx), req.conversationId, req.userIds, req.expectedMembershipVersion));
    },
    async removeMember(req, ctx) {
      return changed(
        await admin.removeMember(callerOf(ctx), req.conversationId, req.userId, req.expectedMembershipVersion, req.ban),
      );
    },
    async changeMemberRole(req, ctx) {
      return changed(
        await admin.changeRole(callerOf(ctx), req.conversationId, req.userId, req.role, req.expectedMembershipVersion),
      );
    },
    async unbanMember(req, ctx) {
      return changed(await admin.unban(callerOf(ctx), req.conversationId, req.userId, req.expectedMembershipVersion));
    },
    async listBannedMembers(req, ctx) {
      return { userIds: await admin.listBans(callerOf(ctx), req.conversationId) };
    },
    async updateGroupInfo(req, ctx) {
      const result = await admin.updateInfo(callerOf(ctx), req.conversationId, {
        name: req.name,
        description: req.description,
        pictureRef: req.pictureRef,
      });
      return { sequence: result.sequence };
    },
    async updateGroupSettings(req, ctx) {
      const result = await admin.updateSettings(callerOf(ctx), req.conversationId, req, req.expectedMembershipVersion);
      return { ...changed(result), settings: settingsToProto(result.settings) };
    },
    async deleteGroup(req, ctx) {
      return { sequence: (await admin.deleteGroup(callerOf(ctx), req.conversationId)).sequence };
    },
    async createInviteLink(req, ctx) {
      return { link: linkToProto(await invites.createLink(callerOf(ctx), req.conversationId, req.expiresAt, req.maxUses)) };
    },
    async listInviteLinks(req, ctx) {
      return { links: (await invites.listLinks(callerOf(ctx), req.conversationId)).map(linkToProto) };
    },
    async revokeInviteLink(req, ctx) {
      return { link: linkToProto(await invites.revokeLink(callerOf(ctx), req.conversationId, req.code)) };
    },
    async joinByInviteLink(req, ctx) {
      const caller = callerOf(ctx);
      const outcome = await invites.join(caller, req.code);
      if (outcome.kind === "requested") {
        const [request] = await requestsView([outcome.request]);
        return { outcome: { case: "requested", value: request as JoinRequest }, sequence: 0n };
      }
      const record = await deps.store.get(outcome.conversationId);
      if (!record) throw conversationNotFound();
      return { outcome: { case: "joined", value: await viewFor(deps, record, caller.userId) }, sequence: outcome.sequence };
    },
    async listJoinRequests(req, ctx) {
      return { requests: await requestsView(await invites.listRequests(callerOf(ctx), req.conversationId)) };
    },
    async approveJoinRequest(req, ctx) {
      return changed(await invites.approve(callerOf(ctx), req.conversationId, req.userId, req.expectedMembershipVersion));
    },
    async denyJoinRequest(req, ctx) {
      await invites.deny(callerOf(ctx), req.conversationId, req.userId);
      return {};
    },
  };
}
