// Device streams and last seen in process memory, for the all-in-one process and tests. Same
// rules as the Redis adapter: a stream counts while unexpired; a user's version counts changes.
import type { PresenceStore, StreamKey, Transition, UserPresence } from "../ports.ts";

interface Held {
  deviceId: string;
  sessionId: string;
  expiresAt: number;
}

interface UserEntry {
  /**
   * At most one per device. A short array rather than a Map: a user holds a few streams at most,
   * mostly one, and a Map with its hash table cost every idle stream about 190 bytes.
   */
  streams: Held[];
  lastSeenAt: number | null;
  version: number;
}

function indexOf(entry: UserEntry, deviceId: string): number {
  return entry.streams.findIndex((held) => held.deviceId === deviceId);
}

function heldOf(entry: UserEntry, deviceId: string): Held | undefined {
  const at = indexOf(entry, deviceId);
  return at === -1 ? undefined : entry.streams[at];
}

/** Records the device's stream, replacing the one it held before. */
function hold(entry: UserEntry, held: Held): void {
  const at = indexOf(entry, held.deviceId);
  // concat, not push: push onto an empty array reserves room for 17.
  if (at === -1) entry.streams = entry.streams.concat(held);
  else entry.streams[at] = held;
}

export class MemoryPresenceStore implements PresenceStore {
  readonly #users = new Map<string, UserEntry>();
  /** Users holding at least one stream entry: the expiry sweep visits only these. */
  readonly #holding = new Set<string>();

  #entry(userId: string): UserEntry {
    let entry = this.#users.get(userId);
    if (!entry) {
      entry = { streams: [], lastSeenAt: null, version: 0 };
      this.#users.set(userId, entry);
    }
    return entry;
  }

  #live(entry: UserEntry, now: number): boolean {
    for (const held of entry.streams) if (held.expiresAt > now) return true;
    return false;
  }

  #transition(userId: string, entry: UserEntry, online: boolean): Transition {
    entry.version++;
    return { userId, online, lastSeenAt: entry.lastSeenAt, version: entry.version };
  }

  async connect(stream: StreamKey, ttlMs: number, now: number) {
    const entry = this.#entry(stream.userId);
    const wasOnline = this.#live(entry, now);
    hold(entry, { deviceId: stream.deviceId, sessionId: stream.sessionId, expiresAt: now + ttlMs });
    this.#holding.add(stream.userId);
    return wasOnline ? undefined : this.#transition(stream.userId, entry, true);
  }

  async disconnect(stream: StreamKey, now: number) {
    const entry = this.#users.get(stream.userId);
    const held = entry && heldOf(entry, stream.deviceId);
    if (!entry || held?.sessionId !== stream.sessionId) return undefined;
    entry.streams = entry.streams.filter((h) => h !== held);
    if (this.#live(entry, now)) return undefined;
    entry.streams = [];
    this.#holding.delete(stream.userId);
    entry.lastSeenAt = now;
    return this.#transition(stream.userId, entry, false);
  }

  async refresh(streams: StreamKey[], ttlMs: number, now: number) {
    const transitions: Transition[] = [];
    for (const stream of streams) {
      const entry = this.#entry(stream.userId);
      const held = heldOf(entry, stream.deviceId);
      if (held && held.sessionId !== stream.sessionId) continue;
      const wasOnline = this.#live(entry, now);
      hold(entry, { deviceId: stream.deviceId, sessionId: stream.sessionId, expiresAt: now + ttlMs });
      this.#holding.add(stream.userId);
      if (!wasOnline) transitions.push(this.#transition(stream.userId, entry, true));
    }
    return transitions;
  }

  async expire(now: number) {
    const transitions: Transition[] = [];
    for (const userId of this.#holding) {
      const entry = this.#entry(userId);
      let lastExpiry = 0;
      for (const held of entry.streams) if (held.expiresAt <= now) lastExpiry = Math.max(lastExpiry, held.expiresAt);
      if (lastExpiry > 0) entry.streams = entry.streams.filter((held) => held.expiresAt > now);
      if (entry.streams.length === 0) this.#holding.delete(userId);
      if (lastExpiry > 0 && !this.#live(entry, now)) {
        entry.lastSeenAt = lastExpiry;
        transitions.push(this.#transition(userId, entry, false));
      }
    }
    return transitions;
  }

  async get(userIds: string[], now: number) {
    const found = new Map<string, UserPresence>();
    for (const userId of userIds) {
      const entry = this.#users.get(userId);
      found.set(userId, {
        online: entry ? this.#live(entry, now) : false,
        lastSeenAt: entry?.lastSeenAt ?? null,
        version: entry?.version ?? 0,
      });
    }
    return found;
  }
}
