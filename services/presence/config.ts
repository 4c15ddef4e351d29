// Presence and typing settings from PARLEY_* variables, shared by the all-in-one process and the
// gateway process; a bad value stops the process at start.
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

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** A member bound that keeps direct chats (two members) in: below 2 it would turn presence off. */
function atLeastTwo(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = positive(env, name, fallback);
  if (!Number.isInteger(value) || value < 2) throw new Error(`${name} must be a whole number of at least 2, got "${env[name]}"`);
  return value;
}

export function presenceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PresenceConfig {
  const d = defaultPresenceConfig;
  return {
    coalesceMs: positive(env, "PARLEY_PRESENCE_COALESCE_MS", d.coalesceMs),
    typingTtlMs: positive(env, "PARLEY_TYPING_TTL_MS", d.typingTtlMs),
    typingBurst: positive(env, "PARLEY_TYPING_BURST", d.typingBurst),
    typingPerSecond: positive(env, "PARLEY_TYPING_PER_SECOND", d.typingPerSecond),
    liveMaxMembers: atLeastTwo(env, "PARLEY_LIVE_PRESENCE_MAX_MEMBERS", d.liveMaxMembers),
  };
}
