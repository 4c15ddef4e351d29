// Remembers push devices per user and notification settings per conversation for the push
// dispatcher, which reads both for every message. Each write through these objects drops the
// copies it touches. Where every write goes through them (the all-in-one server) a copy is kept
// until then; where other processes write the same stores (several push processes in distributed
// mode), `maxAgeMs` bounds how long this one may act on a copy older than their writes.
import { AgedCopies, type AgedCopiesOptions } from "../../shared/aged-copies.ts";
import type {
  ConversationSetting,
  ConversationSettingStore,
  DevicePreferences,
  PushDevice,
  PushDeviceStore,
  PushToken,
} from "../ports.ts";

/**
 * `capacity`: users for devices, conversations for settings. `maxAgeMs`: unbounded when every
 * write goes through this object; with other writers, what they write shows here within this long.
 */
export type PushCacheOptions = AgedCopiesOptions;

export class CachedPushDeviceStore implements PushDeviceStore {
  readonly #store: PushDeviceStore;
  readonly #byUser: AgedCopies<string, PushDevice[]>;
  /** Bumped by every write: a read that overlapped one does not keep what it read. */
  #writes = 0;

  constructor(store: PushDeviceStore, options: PushCacheOptions = {}) {
    this.#store = store;
    this.#byUser = new AgedCopies(options, 100_000);
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
    const readAt = this.#byUser.now();
    const read = await this.#store.devicesOf(missing);
    if (this.#writes === writesBefore) {
      const byUser = new Map<string, PushDevice[]>(missing.map((userId) => [userId, []]));
      for (const device of read) byUser.get(device.userId)?.push(device);
      for (const [userId, devices] of byUser) this.#byUser.set(userId, devices, readAt);
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
  readonly #byConversation: AgedCopies<string, Map<string, ConversationSetting>>;
  #writes = 0;

  constructor(store: ConversationSettingStore, options: PushCacheOptions = {}) {
    this.#store = store;
    this.#byConversation = new AgedCopies(options, 10_000);
  }

  async forConversation(conversationId: string): Promise<Map<string, ConversationSetting>> {
    const known = this.#byConversation.get(conversationId);
    // A copy, so a caller that changes its map cannot change the remembered one.
    if (known) return new Map(known);
    const writesBefore = this.#writes;
    const readAt = this.#byConversation.now();
    const read = await this.#store.forConversation(conversationId);
    if (this.#writes === writesBefore) this.#byConversation.set(conversationId, new Map(read), readAt);
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
