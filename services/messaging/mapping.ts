// Storage records to the protos clients see, and the enums of roles and permissions both ways.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Conversation,
  ConversationKind,
  ConversationSchema,
  type InviteLink,
  InviteLinkSchema,
} from "../../gen/parley/v1/conversations_pb.js";
import {
  GroupPermission,
  type GroupSettings as GroupSettingsProto,
  GroupSettingsSchema,
  MemberRole,
} from "../../gen/parley/v1/events_pb.js";
import { isCurrent } from "./group-rules.ts";
import type {
  ConversationRecord,
  GroupSettings,
  InviteLinkRecord,
  MemberRecord,
  Permission,
  Role,
  Roster,
  UserDirectory,
} from "./ports.ts";

const roles: [Role, MemberRole][] = [
  ["member", MemberRole.MEMBER],
  ["admin", MemberRole.ADMIN],
  ["owner", MemberRole.OWNER],
];
const permissions: [Permission, GroupPermission][] = [
  ["members", GroupPermission.MEMBERS],
  ["admins", GroupPermission.ADMINS],
  ["owner", GroupPermission.OWNER],
];

export const roleToProto = (role: Role): MemberRole => (roles.find(([r]) => r === role) as [Role, MemberRole])[1];
/** undefined for UNSPECIFIED or an unknown number. */
export const roleFromProto = (role: MemberRole): Role | undefined => roles.find(([, p]) => p === role)?.[0];

export const permissionToProto = (p: Permission): GroupPermission =>
  (permissions.find(([x]) => x === p) as [Permission, GroupPermission])[1];
/** undefined for UNSPECIFIED or an unknown number. */
export const permissionFromProto = (p: GroupPermission): Permission | undefined => permissions.find(([, x]) => x === p)?.[0];

export const settingsToProto = (s: GroupSettings): GroupSettingsProto =>
  create(GroupSettingsSchema, {
    addMembers: permissionToProto(s.addMembers),
    editInfo: permissionToProto(s.editInfo),
    sendMessages: permissionToProto(s.sendMessages),
    approveJoinRequests: permissionToProto(s.approveJoinRequests),
    joinRequiresApproval: s.joinRequiresApproval,
    historyVisibleToNewMembers: s.historyVisibleToNewMembers,
  });

export const linkToProto = (l: InviteLinkRecord): InviteLink =>
  create(InviteLinkSchema, {
    code: l.code,
    conversationId: l.conversationId,
    createdByUserId: l.createdBy,
    createdAt: timestampFromMs(l.createdAt),
    expiresAt: l.expiresAt === null ? undefined : timestampFromMs(l.expiresAt),
    maxUses: l.maxUses,
    useCount: l.uses,
    revokedAt: l.revokedAt === null ? undefined : timestampFromMs(l.revokedAt),
  });

/**
 * A conversation as `viewer` sees it. A current member sees the members, settings, info and
 * membership version. A former member sees nothing that may have changed after their removal: the
 * id, kind, creation time and last_sequence = their removal (their devices got the info and members
 * up to then as events).
 */
export async function conversationView(
  record: ConversationRecord,
  roster: Roster,
  viewer: MemberRecord | undefined,
  users: UserDirectory,
): Promise<Conversation> {
  const current = viewer !== undefined && isCurrent(viewer);
  const members = current ? roster.members.filter(isCurrent) : [];
  const names = new Map((await users.find(members.map((m) => m.userId))).map((u) => [u.userId, u.displayName]));
  const group = record.kind === "group" && current;
  return create(ConversationSchema, {
    conversationId: record.conversationId,
    kind: record.kind === "direct" ? ConversationKind.DIRECT : ConversationKind.GROUP,
    name: current ? record.name : "",
    description: current ? record.description : "",
    pictureRef: current ? record.pictureRef : "",
    lastSequence: viewer?.leftAtSeq ?? record.lastSequence,
    createdAt: timestampFromMs(record.createdAt),
    settings: group ? settingsToProto(roster.settings) : undefined,
    membershipVersion: current ? roster.membershipVersion : 0n,
    viewerRole: current ? roleToProto(viewer.role) : MemberRole.UNSPECIFIED,
    members: members.map((m) => ({
      userId: m.userId,
      displayName: names.get(m.userId) ?? "",
      joinedAtSequence: m.joinedAtSeq,
      deliveredThrough: m.deliveredThrough,
      readThrough: m.readThrough,
      role: roleToProto(m.role),
    })),
  });
}
