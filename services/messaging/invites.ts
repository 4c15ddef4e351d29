// Invite links and join requests. A link is a secret code with an optional expiry and use limit;
// joining with it adds the caller at once, or files a join request when the group asks for
// approval. A use is taken atomically before the join and given back if the join fails.
import { randomBytes } from "node:crypto";
import { type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import { JoinMethod } from "../../gen/parley/v1/events_pb.js";
import type { Caller } from "../shared/auth.ts";
import type { Clock } from "../shared/clock.ts";
import { invalidArgument } from "../shared/errors.ts";
import { requireId } from "../shared/validate.ts";
import type { Access } from "./access.ts";
import { groupFull, inviteLinkNotFound, inviteLinkUnusable, joinRequestNotFound, notAGroup, userBanned } from "./group-errors.ts";
import { isCurrent, requirePermission } from "./group-rules.ts";
import type { MessagingLimits } from "./limits.ts";
import { unusableAt } from "./link-state.ts";
import type { MembershipChanges } from "./membership.ts";
import type {
  ClaimOutcome,
  ConversationStore,
  InviteLinkRecord,
  InviteLinkStore,
  JoinRequestStore,
  Permission,
  Seat,
} from "./ports.ts";

export interface InviteDeps {
  access: Access;
  store: ConversationStore;
  links: InviteLinkStore;
  requests: JoinRequestStore;
  changes: MembershipChanges;
  clock: Clock;
  limits: MessagingLimits;
}

const codePattern = /^[A-Za-z0-9_-]{22}$/;

/** 128 random bits as base64url, re-drawn while it starts with "-" so no shell or CLI reads it as an option. */
function newInviteCode(): string {
  for (;;) {
    const code = randomBytes(16).toString("base64url");
    if (!code.startsWith("-")) return code;
  }
}

function requireCode(code: string): string {
  if (!codePattern.test(code))
    throw invalidArgument("code", "MALFORMED_INVITE_CODE", "code must be 22 characters of [A-Za-z0-9_-]");
  return code;
}

function refuse(outcome: Exclude<ClaimOutcome, "claimed">): never {
  throw outcome === "missing" ? inviteLinkNotFound() : inviteLinkUnusable(outcome);
}

/** Raised inside a join's plan when the group started asking for approval since the link was read. */
class NeedsApproval extends Error {}

export type JoinOutcome =
  | { kind: "joined"; conversationId: string; sequence: bigint }
  | { kind: "requested"; request: { conversationId: string; userId: string; code: string; requestedAt: number } };

export function createInvites(deps: InviteDeps) {
  /** The caller's seat in a group whose `permission` setting they satisfy. */
  async function authorized(
    caller: Caller,
    conversationId: string,
    pick: (s: Seat["group"]["settings"]) => Permission,
    what: string,
  ) {
    const seat = await deps.access.writer(conversationId, caller.userId);
    if ((await deps.store.get(conversationId))?.kind !== "group") throw notAGroup();
    requirePermission(pick(seat.group.settings), seat.member.role, what);
    return seat;
  }

  async function createLink(caller: Caller, conversationIdRaw: string, expiresAtRaw: Timestamp | undefined, maxUses: number) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    if (maxUses > deps.limits.maxInviteUses) {
      throw invalidArgument("max_uses", "OUT_OF_RANGE", `max_uses must be at most ${deps.limits.maxInviteUses}`);
    }
    const now = deps.clock.now();
    const expiresAt = expiresAtRaw ? timestampMs(expiresAtRaw) : null;
    if (expiresAt !== null && expiresAt <= now)
      throw invalidArgument("expires_at", "OUT_OF_RANGE", "expires_at must be in the future");
    if (expiresAt !== null && expiresAt > now + deps.limits.maxInviteLifetimeMs) {
      throw invalidArgument("expires_at", "OUT_OF_RANGE", "expires_at must be within a year");
    }
    await authorized(caller, conversationId, (s) => s.addMembers, "create invite links");
    const link: InviteLinkRecord = {
      code: newInviteCode(),
      conversationId,
      createdBy: caller.userId,
      createdAt: now,
      expiresAt,
      maxUses,
      uses: 0,
      revokedAt: null,
    };
    await deps.links.create(link);
    return link;
  }

  async function listLinks(caller: Caller, conversationIdRaw: string) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    await authorized(caller, conversationId, (s) => s.addMembers, "list invite links");
    return deps.links.list(conversationId);
  }

  async function revokeLink(caller: Caller, conversationIdRaw: string, codeRaw: string) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    const code = requireCode(codeRaw);
    await authorized(caller, conversationId, (s) => s.addMembers, "revoke invite links");
    const link = await deps.links.find(code);
    if (!link || link.conversationId !== conversationId) throw inviteLinkNotFound();
    return (await deps.links.revoke(code, deps.clock.now())) ?? link;
  }

  async function requestToJoin(caller: Caller, link: InviteLinkRecord): Promise<JoinOutcome> {
    const pending = await deps.requests.find(link.conversationId, caller.userId);
    if (pending) return { kind: "requested", request: pending };
    const claimed = await deps.links.claim(link.code, deps.clock.now());
    if (claimed !== "claimed") refuse(claimed);
    const { request, created } = await deps.requests.put({
      conversationId: link.conversationId,
      userId: caller.userId,
      code: link.code,
      requestedAt: deps.clock.now(),
    });
    if (!created) await deps.links.release(link.code);
    return { kind: "requested", request };
  }

  async function join(caller: Caller, codeRaw: string): Promise<JoinOutcome> {
    const code = requireCode(codeRaw);
    const link = await deps.links.find(code);
    if (!link) throw inviteLinkNotFound();
    const conversationId = link.conversationId;
    const roster = await deps.store.roster(conversationId);
    if (!roster || roster.deletedAt !== null) throw inviteLinkNotFound();
    const me = roster.members.find((m) => m.userId === caller.userId);
    if (me && isCurrent(me)) return { kind: "joined", conversationId, sequence: 0n };
    if (me?.banned) throw userBanned("code");
    const unusableNow = unusableAt(link, deps.clock.now());
    if (unusableNow) refuse(unusableNow);
    if (roster.settings.joinRequiresApproval) return requestToJoin(caller, link);
    if (roster.members.filter(isCurrent).length >= deps.limits.maxGroupMembers) throw groupFull(deps.limits.maxGroupMembers);
    const claimed = await deps.links.claim(code, deps.clock.now());
    if (claimed !== "claimed") refuse(claimed);
    try {
      const result = await deps.changes.change(
        caller,
        conversationId,
        undefined,
        ({ roster: now, self, next }) => {
          if (self) return undefined;
          if (now.members.some((m) => m.userId === caller.userId && m.banned)) throw userBanned("code");
          if (now.settings.joinRequiresApproval) throw new NeedsApproval();
          if (now.members.filter(isCurrent).length >= deps.limits.maxGroupMembers) throw groupFull(deps.limits.maxGroupMembers);
          const historyVisible = now.settings.historyVisibleToNewMembers;
          return {
            body: {
              case: "membersAdded",
              value: { userIds: [caller.userId], method: JoinMethod.INVITE_LINK, membershipVersion: next, historyVisible },
            },
            membership: { add: [{ userId: caller.userId, role: "member" }], historyVisible },
          };
        },
        { joining: true },
      );
      if (result.sequence === 0n) await deps.links.release(code);
      return { kind: "joined", conversationId, sequence: result.sequence };
    } catch (error) {
      await deps.links.release(code);
      if (error instanceof NeedsApproval) return requestToJoin(caller, link);
      throw error;
    }
  }

  async function listRequests(caller: Caller, conversationIdRaw: string) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    await authorized(caller, conversationId, (s) => s.approveJoinRequests, "see join requests");
    return deps.requests.list(conversationId);
  }

  async function approve(caller: Caller, conversationIdRaw: string, userIdRaw: string, expected?: bigint) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    const userId = requireId(userIdRaw, "user_id");
    await authorized(caller, conversationId, (s) => s.approveJoinRequests, "approve join requests");
    if (!(await deps.requests.find(conversationId, userId))) throw joinRequestNotFound();
    const result = await deps.changes.change(caller, conversationId, expected, ({ roster, self, next }) => {
      requirePermission(roster.settings.approveJoinRequests, self?.role ?? "member", "approve join requests");
      const target = roster.members.find((m) => m.userId === userId);
      if (target && isCurrent(target)) return undefined;
      if (target?.banned) throw userBanned("user_id");
      if (roster.members.filter(isCurrent).length >= deps.limits.maxGroupMembers) throw groupFull(deps.limits.maxGroupMembers);
      const historyVisible = roster.settings.historyVisibleToNewMembers;
      return {
        body: {
          case: "membersAdded",
          value: { userIds: [userId], method: JoinMethod.JOIN_REQUEST, membershipVersion: next, historyVisible },
        },
        membership: { add: [{ userId, role: "member" }], historyVisible },
      };
    });
    await deps.requests.remove(conversationId, userId);
    return result;
  }

  async function deny(caller: Caller, conversationIdRaw: string, userIdRaw: string) {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    const userId = requireId(userIdRaw, "user_id");
    await authorized(caller, conversationId, (s) => s.approveJoinRequests, "deny join requests");
    if (!(await deps.requests.remove(conversationId, userId))) throw joinRequestNotFound();
  }

  return { createLink, listLinks, revokeLink, join, listRequests, approve, deny };
}

export type Invites = ReturnType<typeof createInvites>;
