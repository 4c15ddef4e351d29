// Ports of presence and typing. Everything here is ephemeral except the privacy setting: the
// online state lives in memory (embedded) or Redis (engines) and can be lost without harm, since
// every gateway re-asserts the streams it holds on each heartbeat tick.

/** Who may see a user's presence (proto PresenceVisibility). */
export type Visibility = "everyone" | "contacts" | "nobody";

/** A user with no stored setting. */
export const defaultVisibility: Visibility = "contacts";

export interface PresenceSettingsStore {
  /** The visibility of each user asked (the default for users without a stored setting). */
  visibility(userIds: string[]): Promise<Map<string, Visibility>>;
  /** Stores the user's setting; the latest write wins. */
  setVisibility(userId: string, visibility: Visibility, at: number): Promise<void>;
}

/** One device stream: a newer session of the same device replaces an older one. */
export interface StreamKey {
  userId: string;
  deviceId: string;
  sessionId: string;
}

/** A user's presence as stored. */
export interface UserPresence {
  online: boolean;
  /** When the user was last online (set when their last stream ended); null when never seen. */
  lastSeenAt: number | null;
  /** Increases with every change of `online`; tells a late signal from a newer one. */
  version: number;
}

/** A change of a user's online state, to announce. */
export interface Transition extends UserPresence {
  userId: string;
}

/**
 * Which device streams are open, per user, each with a lifetime. A user is online while any of
 * their streams is unexpired. Every method is atomic per user, so concurrent streams of one user
 * on several gateways yield exactly one transition per change.
 */
export interface PresenceStore {
  /**
   * Records a stream (replacing an older session of the device) until now + ttlMs. Returns the
   * transition to online when the user had no live stream before.
   */
  connect(stream: StreamKey, ttlMs: number, now: number): Promise<Transition | undefined>;
  /**
   * Removes the stream if it still names this session. Returns the transition to offline (last
   * seen = now) when the user has no live stream left.
   */
  disconnect(stream: StreamKey, now: number): Promise<Transition | undefined>;
  /**
   * Extends the lifetime of streams a gateway still holds (every heartbeat tick) and re-creates
   * missing ones (a store that lost its data), except where a newer session holds the device.
   * Returns transitions to online for users that had looked offline.
   */
  refresh(streams: StreamKey[], ttlMs: number, now: number): Promise<Transition[]>;
  /**
   * Removes streams whose lifetime ran out (their gateway died without closing them) and returns
   * the users left with no live stream, last seen when their last stream expired. Concurrent
   * sweeps by several gateways report each user once.
   */
  expire(now: number): Promise<Transition[]>;
  /** Current presence; a user never seen is offline with lastSeenAt null and version 0. */
  get(userIds: string[], now: number): Promise<Map<string, UserPresence>>;
}

/** What a receiver may be told about a user (proto Presence); `hidden` is PRESENCE_STATE_UNSPECIFIED. */
export interface PresenceView {
  userId: string;
  state: "online" | "offline" | "hidden";
  lastSeenAt: number | null;
  version: number;
}

/** An ephemeral notice for the connected devices of `recipients`, wherever they are held. */
export type Signal =
  | ({ kind: "presence"; recipients: string[] } & PresenceView)
  | {
      kind: "typing";
      recipients: string[];
      conversationId: string;
      userId: string;
      typing: boolean;
      expiresInMs: number;
    };

/**
 * Broadcast between gateways. Best effort and at most once: a lost signal costs one presence
 * update or typing notice, never a message. Each subscriber gets a publisher's signals in order.
 */
export interface SignalBus {
  publish(signal: Signal): Promise<void>;
  /** Resolves once subscribed; signals published afterwards reach the handler. */
  subscribe(handler: (signal: Signal) => void): Promise<() => Promise<void>>;
}

/** Who shares conversations with whom, read from messaging's membership. */
export interface MembershipDirectory {
  /**
   * Users who are current members of at least one conversation with the user (never the user);
   * with `maxMembers`, only conversations of at most that many current members count.
   */
  contactsOf(userId: string, maxMembers?: number): Promise<Set<string>>;
  /** The current members of a conversation; empty when it does not exist. */
  currentMembers(conversationId: string): Promise<string[]>;
}
