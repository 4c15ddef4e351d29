// Storage and delivery ports of the identity service.

export interface UserRecord {
  userId: string;
  phoneNumber: string;
  displayName: string;
  createdAt: number;
}

export interface DeviceRecord {
  deviceId: string;
  userId: string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
}

/** A pending one-time code and the send-rate window of its phone number. */
export interface LoginCodeRecord {
  phoneNumber: string;
  codeHash: string;
  expiresAt: number;
  attempts: number;
  windowStart: number;
  sentInWindow: number;
}

export interface UserStore {
  /** Creates the user unless the phone number already has one; returns whichever exists. */
  getOrCreate(candidate: UserRecord): Promise<{ user: UserRecord; created: boolean }>;
  findByPhones(phoneNumbers: string[]): Promise<UserRecord[]>;
  findByIds(userIds: string[]): Promise<UserRecord[]>;
}

export interface LoginCodeStore {
  get(phoneNumber: string): Promise<LoginCodeRecord | undefined>;
  /** Replaces any pending code for the number. */
  put(record: LoginCodeRecord): Promise<void>;
  /** Counts one failed attempt atomically and returns the new count. */
  countFailedAttempt(phoneNumber: string): Promise<number>;
  /** Makes the pending code unusable (after success, expiry or too many attempts). */
  consume(phoneNumber: string): Promise<void>;
}

export interface DeviceStore {
  create(device: DeviceRecord): Promise<void>;
  get(deviceId: string): Promise<DeviceRecord | undefined>;
  listActive(userId: string): Promise<DeviceRecord[]>;
  /** Marks the device revoked; idempotent. */
  revoke(deviceId: string, at: number): Promise<void>;
}

export interface RefreshTokenStore {
  /** Records a newly issued refresh token (by hash; the token itself is never stored). */
  issue(tokenHash: string, deviceId: string, at: number): Promise<void>;
  /**
   * Marks the token spent, atomically. Returns its device and whether it had been spent before
   * (a reuse, which means the token leaked); undefined for a token never issued.
   */
  spend(tokenHash: string, at: number): Promise<{ deviceId: string; alreadySpent: boolean } | undefined>;
}

/** Delivers one-time codes (SMS in production; the log in dev mode). */
export interface CodeSender {
  send(phoneNumber: string, code: string): Promise<void>;
}

/** What history a linked device's stream replays: everything, or only what happens after the link. */
export type HistoryPolicyName = "full" | "from_link";

/** A device link token, stored by hash (the token itself is shown once to the linking device). */
export interface LinkTokenRecord {
  tokenHash: string;
  userId: string;
  /** The signed-in device that created it; a token of a since-revoked device is refused. */
  createdByDeviceId: string;
  history: HistoryPolicyName;
  createdAt: number;
  expiresAt: number;
}

export interface LinkTokenStore {
  /** Records a new token; the store may forget it any time after expiresAt. */
  put(record: LinkTokenRecord): Promise<void>;
  /**
   * Spends the token, atomically: of concurrent calls exactly one sees alreadySpent=false.
   * Undefined for a token never issued (or forgotten after expiry).
   */
  spend(tokenHash: string, at: number): Promise<{ record: LinkTokenRecord; alreadySpent: boolean } | undefined>;
}

/**
 * Where a new device's stream starts. `fromNow` places the device's cursors at the current end of
 * every conversation the user is in, so its first stream replays nothing older (the from-link
 * history policy); it writes cursors only, never the member's delivered watermark. Idempotent.
 */
export interface HistoryStart {
  fromNow(userId: string, deviceId: string): Promise<void>;
}
