// Whether an invite link can be used: shared by the join use case (a first check) and the stores
// (the atomic check that takes a use).
import type { ClaimOutcome, InviteLinkRecord } from "./ports.ts";

/** Why a link cannot be used at `now`, or undefined when it can. */
export function unusableAt(link: InviteLinkRecord, now: number): Exclude<ClaimOutcome, "claimed" | "missing"> | undefined {
  if (link.revokedAt !== null) return "revoked";
  if (link.expiresAt !== null && now >= link.expiresAt) return "expired";
  if (link.maxUses > 0 && link.uses >= link.maxUses) return "exhausted";
  return undefined;
}
