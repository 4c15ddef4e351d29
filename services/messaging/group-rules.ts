// The rules of group administration as pure functions over a roster: who may do what, who is
// acted upon, who becomes owner. docs/groups.md states them as a permission matrix.
import { notGroupAdmin, notGroupOwner, targetIsOwner } from "./group-errors.ts";
import type { MemberRecord, Permission, Role } from "./ports.ts";

const rank: Record<Role, number> = { member: 0, admin: 1, owner: 2 };
const needed: Record<Permission, Role> = { members: "member", admins: "admin", owner: "owner" };

export const isCurrent = (m: MemberRecord) => m.leftAtSeq === null;

export const atLeast = (role: Role, minimum: Role) => rank[role] >= rank[minimum];

/** Whether a member with `role` may do what `permission` governs. */
export const permits = (permission: Permission, role: Role) => atLeast(role, needed[permission]);

/** Throws PERMISSION_DENIED naming the role the action needs. */
export function requireRole(role: Role, minimum: Role, what: string): void {
  if (atLeast(role, minimum)) return;
  throw minimum === "owner" ? notGroupOwner(what) : notGroupAdmin(what);
}

export function requirePermission(permission: Permission, role: Role, what: string): void {
  requireRole(role, needed[permission], what);
}

/**
 * Acting on another member (remove, ban, demote): admins act on members, only the owner acts on
 * admins, and nobody acts on the owner (the owner leaves instead).
 */
export function requireOutranks(actor: Role, target: Role, what: string): void {
  if (target === "owner") throw targetIsOwner();
  requireRole(actor, target === "admin" ? "owner" : "admin", what);
}

/**
 * Who becomes owner when the owner leaves: the longest-standing admin, else the longest-standing
 * member (earliest join; ties by user id). Undefined when nobody else is left.
 */
export function successorOf(members: MemberRecord[], leaving: string): MemberRecord | undefined {
  const others = members.filter((m) => isCurrent(m) && m.userId !== leaving);
  const byTenure = (a: MemberRecord, b: MemberRecord) =>
    a.joinedAtSeq !== b.joinedAtSeq ? (a.joinedAtSeq < b.joinedAtSeq ? -1 : 1) : a.userId < b.userId ? -1 : 1;
  const admins = others.filter((m) => m.role === "admin").sort(byTenure);
  return admins[0] ?? others.sort(byTenure)[0];
}
