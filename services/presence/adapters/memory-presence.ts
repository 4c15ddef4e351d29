// Device streams and last seen in process memory, for the all-in-one process and tests. Same
// rules as the Redis adapter: a stream counts while unexpired; a user's version counts changes.
import type { PresenceStore, StreamKey, Transition, UserPresence } from "../ports.ts";

interface Held {
  sessionId: string;
  expiresAt: number;
}

interface UserEntry {
  streams: Map<string, Held>;
  lastSeenAt: number | null;
  version: number;
}

export class MemoryPresenceStore implements PresenceStore {
  readonly #users = new Map<string, UserEntry>();
  /** Users holding at least one stream entry: the expiry sweep visits only these. */
  readonly #holding = new Set<string>();

  #entry(userId: string): UserEntry {
    let entry = this.#users.get(userId);
    if (!entry) {
      entry = { streams: new Map(), lastSeenAt: null, version: 0 };
      this.#users.set(userId, entry);
    }
    return entry;
  }

  #live(entry: UserEntry, now: number): boolean {
    for (const held of entry.streams.values()) if (held.expiresAt > now) return true;
    return false;
  }

  #transition(userId: string, entry: UserEntry, online: boolean): Transition {
    entry.version++;
    return { userId, online, lastSeenAt: entry.lastSeenAt, version: entry.version };
  }

  async connect(stream: StreamKey, ttlMs: number, now: number) {
    const entry = this.#entry(stream.userId);
    const wasOnline = this.#live(entry, now);
    entry.streams.set(stream.deviceId, { sessionId: stream.sessionId, expiresAt: now + ttlMs });
    this.#holding.add(stream.userId);
    return wasOnline ? undefined : this.#transition(stream.userId, entry, true);
  }

  async disconnect(stream: StreamKey, now: number) {
    const entry = this.#users.get(stream.userId);
    if (entry?.streams.get(stream.deviceId)?.sessionId !== stream.sessionId) return undefined;
    entry.streams.delete(stream.deviceId);
    if (this.#live(entry, now)) return undefined;
    entry.streams.clear();
    this.#holding.delete(stream.userId);
    entry.lastSeenAt = now;
    return this.#transition(stream.userId, entry, false);
  }

  async refresh(streams: StreamKey[], ttlMs: number, now: number) {
    const transitions: Transition[] = [];
    for (const stream of streams) {
      const entry = this.#entry(stream.userId);
      const held = entry.streams.get(stream.deviceId);
      if (held && held.sessionId !== stream.sessionId) continue;
      const wasOnline = this.#live(entry, now);
      entry.streams.set(stream.deviceId, { sessionId: stream.sessionId, expiresAt: now + ttlMs });
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
      for (const [deviceId, held] of entry.streams) {
        if (held.expiresAt > now) continue;
        entry.streams.delete(deviceId);
        lastExpiry = Math.max(lastExpiry, held.expiresAt);
      }
      if (entry.streams.size === 0) this.#holding.delete(userId);
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
