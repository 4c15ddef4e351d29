// Limits that are part of the contract (proto/ERRORS.md names the errors for each). The group size
// is configurable with PARLEY_MAX_GROUP_MEMBERS; the rest are fixed.
import { wholeNumber } from "../shared/env-settings.ts";

export interface MessagingLimits {
  /** Largest text body in UTF-8 bytes. */
  maxMessageBytes: number;
  /** Most members a group may have, creator included. */
  maxGroupMembers: number;
  /** Longest group name in characters. */
  maxGroupNameChars: number;
  /** Longest group description in characters. */
  maxDescriptionChars: number;
  /** Longest picture reference in characters. */
  maxPictureRefChars: number;
  /** Most uses an invite link may allow (0 means unlimited). */
  maxInviteUses: number;
  /** Furthest an invite link's expiry may be from its creation. */
  maxInviteLifetimeMs: number;
}

export const defaultMessagingLimits: MessagingLimits = {
  maxMessageBytes: 4096,
  maxGroupMembers: 1024,
  maxGroupNameChars: 128,
  maxDescriptionChars: 512,
  maxPictureRefChars: 512,
  maxInviteUses: 100_000,
  maxInviteLifetimeMs: 365 * 24 * 3600_000,
};

/** The defaults with PARLEY_MAX_GROUP_MEMBERS applied; a bad value is an error at start. */
export function messagingLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): MessagingLimits {
  const d = defaultMessagingLimits;
  const maxGroupMembers = wholeNumber(env, "PARLEY_MAX_GROUP_MEMBERS", d.maxGroupMembers, { min: 2, max: 100_000 });
  return maxGroupMembers === d.maxGroupMembers ? d : { ...d, maxGroupMembers };
}
