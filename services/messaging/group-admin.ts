// Group administration: adding, removing, banning, roles, info, settings and deletion. Each use
// case validates its input, then plans its change against the roster inside membership.change,
// so permissions are checked at the very membership version the change is decided at.
import { GroupPermission, JoinMethod, type MemberRole, RemovalReason } from "../../gen/parley/v1/events_pb.js";
import type { Caller } from "../shared/auth.ts";
import { invalidArgument } from "../shared/errors.ts";
import { requireId, requireText } from "../shared/validate.ts";
import type { Access } from "./access.ts";
import { groupTooLarge, requireUsers } from "./conversations.ts";
import { notAGroup, targetIsOwner, userBanned, userNotFound } from "./group-errors.ts";
import { isCurrent, requireOutranks, requirePermission, requireRole, successorOf } from "./group-rules.ts";
import type { MessagingLimits } from "./limits.ts";
import { permissionFromProto, roleFromProto, roleToProto, settingsToProto } from "./mapping.ts";
import type { MembershipChanges, Planned } from "./membership.ts";
import type { ConversationStore, GroupSettings, Permission, UserDirectory } from "./ports.ts";

export interface GroupAdminDeps {
  access: Access;
  store: ConversationStore;
  users: UserDirectory;
  changes: MembershipChanges;
  limits: MessagingLimits;
}

export interface SettingsUpdate {
  addMembers: GroupPermission;
  editInfo: GroupPermission;
  sendMessages: GroupPermission;
  approveJoinRequests: GroupPermission;
  joinRequiresApproval?: boolean;
  historyVisibleToNewMembers?: boolean;
}

/** An enum field: UNSPECIFIED keeps the current value, an unknown number is INVALID_ARGUMENT. */
function permissionField(value: GroupPermission, current: Permission, field: string): Permission {
  if (value === GroupPermission.UNSPECIFIED) return current;
  const p = permissionFromProto(value);
  if (!p) throw invalidArgument(field, "INVALID_PERMISSION", `${field} must be MEMBERS, ADMINS or OWNER`);
  return p;
}

function optionalText(value: string | undefined, field: string, max: number): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed.length > max) throw invalidArgument(field, "TOO_LONG", `${field} must be at most ${max} characters`);
  return trimmed;
}

export function createGroupAdmin(deps: GroupAdminDeps) {
  const { changes, limits } = deps;

  async function addMembers(caller: Caller, conversationIdRaw: string, userIdsRaw: string[], expected?: bigint) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    const userIds = [...new Set(userIdsRaw.map((id, i) => requireId(id, `user_ids[${i}]`)))];
    await requireUsers(deps.users, userIds, "user_ids");
    return changes.change(caller, conversationId, expected, ({ roster, self, next }) => {
      requirePermission(roster.settings.addMembers, self?.role ?? "member", "add members");
      const byId = new Map(roster.members.map((m) => [m.userId, m]));
      const banned = userIds.findIndex((id) => byId.get(id)?.banned);
      if (banned >= 0) throw userBanned(`user_ids[${banned}]`);
      const newcomers = userIds.filter((id) => !isCurrentId(byId, id));
      if (newcomers.length === 0) return undefined;
      if (roster.members.filter(isCurrent).length + newcomers.length > limits.maxGroupMembers) {
        throw groupTooLarge(limits.maxGroupMembers, "user_ids");
      }
      const historyVisible = roster.settings.historyVisibleToNewMembers;
      return {
        body: {
          case: "membersAdded",
          value: { userIds: newcomers, method: JoinMethod.ADDED, membershipVersion: next, historyVisible },
        },
        membership: { add: newcomers.map((userId) => ({ userId, role: "member" as const })), historyVisible },
      };
    });
  }

  async function removeMember(caller: Caller, conversationIdRaw: string, userIdRaw: string, expected?: bigint, ban = false) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    const userId = requireId(userIdRaw, "user_id");
    if (ban && userId === caller.userId)
      throw invalidArgument("ban", "CANNOT_BAN_SELF", "you cannot ban yourself; leave instead");
    return changes.change(caller, conversationId, expected, ({ roster, self, next }): Planned | undefined => {
      const actor = self?.role ?? "member";
      if (userId === caller.userId) {
        // Leaving: the owner's role passes on in the same event; the last one out deletes the group.
        const successor = actor === "owner" ? successorOf(roster.members, userId) : undefined;
        const last = roster.members.filter(isCurrent).length === 1;
        return {
          body: {
            case: "memberRemoved",
            value: { userId, reason: RemovalReason.LEFT, newOwnerUserId: successor?.userId ?? "", membershipVersion: next },
          },
          membership: { remove: userId, newOwner: successor?.userId },
          group: last ? { deleted: true } : undefined,
        };
      }
      const target = roster.members.find((m) => m.userId === userId);
      if (!target || (!isCurrent(target) && !ban)) throw userNotFound("user_id");
      if (!isCurrent(target)) {
        // Banning a former member keeps them out without a removal.
        requireRole(actor, "admin", "ban users");
        if (target.banned) return undefined;
        return { body: { case: "memberBanned", value: { userId, membershipVersion: next } }, membership: { ban: userId } };
      }
      requireOutranks(actor, target.role, ban ? "ban this member" : "remove this member");
      return {
        body: {
          case: "memberRemoved",
          value: { userId, reason: ban ? RemovalReason.BANNED : RemovalReason.REMOVED, membershipVersion: next },
        },
        membership: { remove: userId, ban },
      };
    });
  }

  async function changeRole(
    caller: Caller,
    conversationIdRaw: string,
    userIdRaw: string,
    roleRaw: MemberRole,
    expected?: bigint,
  ) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    const userId = requireId(userIdRaw, "user_id");
    const role = roleFromProto(roleRaw);
    if (!role) throw invalidArgument("role", "INVALID_ROLE", "role must be MEMBER, ADMIN or OWNER");
    return changes.change(caller, conversationId, expected, ({ roster, self, next }): Planned | undefined => {
      const actor = self?.role ?? "member";
      const target = roster.members.find((m) => m.userId === userId && isCurrent(m));
      if (!target) throw userNotFound("user_id");
      if (target.role === role) return undefined;
      const changed = (previousOwnerUserId = "") => ({
        case: "memberRoleChanged" as const,
        value: { userId, role: roleRaw, previousRole: roleToProto(target.role), previousOwnerUserId, membershipVersion: next },
      });
      if (role === "owner") {
        requireRole(actor, "owner", "transfer ownership");
        return {
          body: changed(caller.userId),
          membership: {
            roles: [
              { userId, role: "owner" },
              { userId: caller.userId, role: "admin" },
            ],
          },
        };
      }
      if (target.role === "owner") throw targetIsOwner();
      if (role === "admin") requireRole(actor, "admin", "promote members");
      else if (userId !== caller.userId) requireRole(actor, "owner", "demote admins");
      return { body: changed(), membership: { roles: [{ userId, role }] } };
    });
  }

  async function unban(caller: Caller, conversationIdRaw: string, userIdRaw: string, expected?: bigint) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    const userId = requireId(userIdRaw, "user_id");
    return changes.change(caller, conversationId, expected, ({ self, roster, next }) => {
      requireRole(self?.role ?? "member", "admin", "unban users");
      const target = roster.members.find((m) => m.userId === userId);
      if (!target) throw userNotFound("user_id");
      if (!target.banned) return undefined;
      return { body: { case: "memberUnbanned", value: { userId, membershipVersion: next } }, membership: { unban: userId } };
    });
  }

  async function listBans(caller: Caller, conversationIdRaw: string) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    const { member } = await deps.access.writer(conversationId, caller.userId);
    if ((await deps.store.get(conversationId))?.kind !== "group") throw notAGroup();
    requireRole(member.role, "admin", "list bans");
    const roster = await deps.store.roster(conversationId);
    return (roster?.members ?? []).filter((m) => m.banned).map((m) => m.userId);
  }

  async function updateInfo(
    caller: Caller,
    conversationIdRaw: string,
    input: { name?: string; description?: string; pictureRef?: string },
  ) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    const name = input.name === undefined ? undefined : requireText(input.name, "name", limits.maxGroupNameChars);
    const description = optionalText(input.description, "description", limits.maxDescriptionChars);
    const pictureRef = optionalText(input.pictureRef, "picture_ref", limits.maxPictureRefChars);
    if (name === undefined && description === undefined && pictureRef === undefined) {
      throw invalidArgument("name", "EMPTY", "set at least one of name, description and picture_ref");
    }
    return changes.change(caller, conversationId, undefined, ({ conversation, roster, self }) => {
      requirePermission(roster.settings.editInfo, self?.role ?? "member", "edit the group's info");
      const info = {
        name: name ?? conversation.name,
        description: description ?? conversation.description,
        pictureRef: pictureRef ?? conversation.pictureRef,
      };
      const same =
        info.name === conversation.name &&
        info.description === conversation.description &&
        info.pictureRef === conversation.pictureRef;
      return same ? undefined : { body: { case: "groupInfoChanged", value: info }, group: { info } };
    });
  }

  async function updateSettings(caller: Caller, conversationIdRaw: string, update: SettingsUpdate, expected?: bigint) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    let settings: GroupSettings | undefined;
    const merge = (current: GroupSettings): GroupSettings => ({
      addMembers: permissionField(update.addMembers, current.addMembers, "add_members"),
      editInfo: permissionField(update.editInfo, current.editInfo, "edit_info"),
      sendMessages: permissionField(update.sendMessages, current.sendMessages, "send_messages"),
      approveJoinRequests: permissionField(update.approveJoinRequests, current.approveJoinRequests, "approve_join_requests"),
      joinRequiresApproval: update.joinRequiresApproval ?? current.joinRequiresApproval,
      historyVisibleToNewMembers: update.historyVisibleToNewMembers ?? current.historyVisibleToNewMembers,
    });
    const result = await changes.change(caller, conversationId, expected, ({ roster, self, next }) => {
      const merged = merge(roster.settings);
      requireRole(self?.role ?? "member", "admin", "change the group's settings");
      settings = merged;
      if (JSON.stringify(merged) === JSON.stringify(roster.settings)) return undefined;
      return {
        body: { case: "groupSettingsChanged", value: { settings: settingsToProto(merged), membershipVersion: next } },
        group: { settings: merged },
      };
    });
    return { ...result, settings: settings as GroupSettings };
  }

  async function deleteGroup(caller: Caller, conversationIdRaw: string) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    return changes.change(caller, conversationId, undefined, ({ self }) => {
      requireRole(self?.role ?? "member", "owner", "delete the group");
      return { body: { case: "groupDeleted", value: {} }, group: { deleted: true } };
    });
  }

  return { addMembers, removeMember, changeRole, unban, listBans, updateInfo, updateSettings, deleteGroup };
}

const isCurrentId = (byId: Map<string, { leftAtSeq: bigint | null }>, id: string) => {
  const m = byId.get(id);
  return m !== undefined && m.leftAtSeq === null;
};

export type GroupAdmin = ReturnType<typeof createGroupAdmin>;
