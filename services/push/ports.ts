// Ports of the push service: who has which token and preferences, per-conversation settings,
// where finished pushes and failed ones are recorded, who is connected, and the providers.

/** A device's push token, by provider. */
export type PushToken =
  | { provider: "fcm"; token: string }
  | { provider: "apns"; token: string }
  | { provider: "webpush"; endpoint: string; p256dh: string; auth: string };

export type ProviderName = PushToken["provider"];

export interface DevicePreferences {
  enabled: boolean;
  showPreviews: boolean;
}

export const defaultPreferences: DevicePreferences = { enabled: true, showPreviews: true };

/** One device as push sees it: its token (if any) and its preferences. */
export interface PushDevice {
  userId: string;
  deviceId: string;
  token: PushToken | null;
  /** When the token was registered (ms), null without a token. */
  registeredAt: number | null;
  preferences: DevicePreferences;
}

export interface PushDeviceStore {
  /** Sets the device's token (replacing any other); preferences are kept. */
  register(userId: string, deviceId: string, token: PushToken, at: number): Promise<void>;
  /**
   * Removes the device's token. With `onlyIf`, only when the stored token still equals it (so a
   * provider's "unregistered" answer for an old token never removes a newer one). Returns
   * whether a token was removed.
   */
  unregister(userId: string, deviceId: string, onlyIf?: PushToken): Promise<boolean>;
  /** Writes the device's preferences; its token is kept. */
  setPreferences(userId: string, deviceId: string, preferences: DevicePreferences): Promise<void>;
  /** Every device of these users that has a token or preferences (others have neither). */
  devicesOf(userIds: string[]): Promise<PushDevice[]>;
  /** Forgets the device entirely (it was signed out). Idempotent. */
  forget(userId: string, deviceId: string): Promise<void>;
}

export type NotificationLevel = "all" | "quiet" | "none";

/** A user's settings of one conversation; absent means level "all", not muted. */
export interface ConversationSetting {
  conversationId: string;
  userId: string;
  level: NotificationLevel;
  /** Muted until this time (ms); Infinity is muted forever; null is not muted. */
  mutedUntil: number | null;
}

export interface ConversationSettingStore {
  /** Writes the user's setting of the conversation (last write wins). */
  set(setting: ConversationSetting): Promise<void>;
  /** The settings members stored for this conversation, by user id (bounded by group size). */
  forConversation(conversationId: string): Promise<Map<string, ConversationSetting>>;
}

/** What a push says, provider-neutral. */
export interface Notification {
  conversationId: string;
  /** The newest message announced. */
  sequence: bigint;
  /** Messages announced (a coalesced burst is more than one). */
  count: number;
  title: string;
  body: string;
  /** Without sound (level "quiet"). */
  quiet: boolean;
}

export interface OutboxEntry {
  pushId: string;
  userId: string;
  deviceId: string;
  provider: ProviderName;
  notification: Notification;
  createdAt: number;
}

/** Where pushes go when their provider has no credentials (the embedded default). */
export interface PushOutbox {
  add(entry: OutboxEntry): Promise<void>;
  /** The user's entries, newest first, at most `limit`. */
  listForUser(userId: string, limit: number): Promise<OutboxEntry[]>;
}

export interface DeadLetter {
  pushId: string;
  userId: string;
  deviceId: string;
  provider: ProviderName;
  notification: Notification;
  attempts: number;
  /** The last answer or failure, for whoever inspects it. */
  lastError: string;
  failedAt: number;
}

/** Pushes given up on after bounded retries, kept for inspection. */
export interface DeadLetterStore {
  add(letter: DeadLetter): Promise<void>;
  /** The newest letters failed at or after `since` (ms), newest first, at most `limit`. */
  list(since: number, limit: number): Promise<DeadLetter[]>;
}

/** Which devices have an open session stream right now (a gateway holds them). */
export interface ConnectedDevices {
  /** Device ids of these users with a live stream; best effort (a route may lag by a heartbeat). */
  connected(userIds: string[]): Promise<Set<string>>;
}

/** A provider's answer to one push, as the dispatcher acts on it. */
export type SendResult =
  | { kind: "sent" }
  /** The token is dead (uninstalled app, expired subscription): remove it, do not retry. */
  | { kind: "unregistered"; detail: string }
  /** Throttled or a server error: retry later (after retryAfterMs when the provider said). */
  | { kind: "retry"; detail: string; retryAfterMs?: number }
  /** A request the provider will never accept (bad payload, bad credentials): dead-letter now. */
  | { kind: "rejected"; detail: string };

export interface PushTarget {
  pushId: string;
  userId: string;
  deviceId: string;
  token: PushToken;
}

/** One push service (FCM, APNs, Web Push) or the local outbox. Never throws for an answer. */
export interface PushProvider {
  send(target: PushTarget, notification: Notification, signal: AbortSignal): Promise<SendResult>;
}
