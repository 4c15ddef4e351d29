// Presence and typing settings from PARLEY_* variables, shared by the all-in-one process and the
// gateway process; a bad value stops the process at start.
import { positiveNumber, positiveWholeNumber, wholeNumber } from "../shared/env-settings.ts";

export interface PresenceConfig {
  /** Per receiving device, at most one presence update per user per window (last state wins). */
  coalesceMs: number;
  /** A typing notice holds this long unless repeated. */
  typingTtlMs: number;
  /** Typing frames a device may send at once, and refilled per second, across its conversations. */
  typingBurst: number;
  typingPerSecond: number;
  /**
   * Presence is pushed (and put in the snapshot) only between users who share a direct chat or a
   * group of at most this many current members: in a larger group every member's connect would
   * reach every member, O(members²) frames when a big group comes online together.
   */
  liveMaxMembers: number;
}

export const defaultPresenceConfig: PresenceConfig = {
  coalesceMs: 1_000,
  typingTtlMs: 5_000,
  typingBurst: 5,
  typingPerSecond: 1,
  liveMaxMembers: 100,
};

export function presenceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PresenceConfig {
  const d = defaultPresenceConfig;
  return {
    coalesceMs: positiveWholeNumber(env, "PARLEY_PRESENCE_COALESCE_MS", d.coalesceMs),
    typingTtlMs: positiveWholeNumber(env, "PARLEY_TYPING_TTL_MS", d.typingTtlMs),
    typingBurst: positiveWholeNumber(env, "PARLEY_TYPING_BURST", d.typingBurst),
    typingPerSecond: positiveNumber(env, "PARLEY_TYPING_PER_SECOND", d.typingPerSecond),
    // At least 2, so direct chats always carry presence: below that it would turn presence off.
    liveMaxMembers: wholeNumber(env, "PARLEY_LIVE_PRESENCE_MAX_MEMBERS", d.liveMaxMembers, { min: 2 }),
  };
}
