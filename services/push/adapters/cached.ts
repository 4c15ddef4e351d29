// Remembers push devices per user and notification settings per conversation for the push
// dispatcher, which reads both for every message. Only for a process where every write to these
// stores goes through these very objects (the all-in-one server): each write drops the copies it
// touches. Processes that share the stores with others (distributed mode) must not use them.
import { LruMap } from "../../shared/lru-map.ts";
import type {
  ConversationSetting,
  ConversationSettingStore,
  DevicePreferences,
  PushDevice,
  PushDeviceStore,
  PushToken,
} from "../ports.ts";

export class CachedPushDeviceStore implements PushDeviceStore {
  readonly #store: PushDeviceStore;
  readonly #byUser: LruMap<string, PushDevice[]>;
  /** Bumped by every write: a read that overlapped one does not keep what it read. */
  #writes = 0;

  constructor(store: PushDeviceStore, capacity = 100_000) {
    this.#store = store;
    this.#byUser = new LruMap(capacity);
  }

  async devicesOf(userIds: string[]): Promise<PushDevice[]> {
    const found: PushDevice[] = [];
    const missing: string[] = [];
    for (const userId of new Set(userIds)) {
      const devices = this.#byUser.get(userId);
      if (devices) found.push(...devices);
      else missing.push(userId);
    }
    if (missing.length === 0) return found;
    const writesBefore = this.#writes;
    const read = await this.#store.devicesOf(missing);
    if (this.#writes === writesBefore) {
      const byUser = new Map<string, PushDevice[]>(missing.map((userId) => [userId, []]));
      for (const device of read) byUser.get(device.userId)?.push(device);
      for (const [userId, devices] of byUser) this.#byUser.set(userId, devices);
    }
    return found.concat(read);
  }

  register(userId: string, deviceId: string, token: PushToken, at: number): Promise<void> {
    return this.#write(userId, () => this.#store.register(userId, deviceId, token, at));
  }

  unregister(userId: string, deviceId: string, onlyIf?: PushToken): Promise<boolean> {
    return this.#write(userId, () => this.#store.unregister(userId, deviceId, onlyIf));
  }

  setPreferences(userId: string, deviceId: string, preferences: DevicePreferences): Promise<void> {
    return this.#write(userId, () => this.#store.setPreferences(userId, deviceId, preferences));
  }

  forget(userId: string, deviceId: string): Promise<void> {
    return this.#write(userId, () => this.#store.forget(userId, deviceId));
  }

  async #write<T>(userId: string, write: () => Promise<T>): Promise<T> {
    this.#writes++;
    this.#byUser.delete(userId);
    try {
      return await write();
    } finally {
      this.#writes++;
      this.#byUser.delete(userId);
    }
  }
}

export class CachedConversationSettingStore implements ConversationSettingStore {
  readonly #store: ConversationSettingStore;
  readonly #byConversation: LruMap<string, Map<string, ConversationSetting>>;
  #writes = 0;

  constructor(store: ConversationSettingStore, capacity = 10_000) {
    this.#store = store;
    this.#byConversation = new LruMap(capacity);
  }

  async forConversation(conversationId: string): Promise<Map<string, ConversationSetting>> {
    const known = this.#byConversation.get(conversationId);
    // A copy, so a caller that changes its map cannot change the remembered one.
    if (known) return new Map(known);
    const writesBefore = this.#writes;
    const read = await this.#store.forConversation(conversationId);
    if (this.#writes === writesBefore) this.#byConversation.set(conversationId, new Map(read));
    return read;
  }

  async set(setting: ConversationSetting): Promise<void> {
    this.#writes++;
    this.#byConversation.delete(setting.conversationId);
    try {
      await this.#store.set(setting);
    } finally {
      this.#writes++;
      this.#byConversation.delete(setting.conversationId);
    }
  }
}
