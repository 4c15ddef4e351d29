// Per-device coalescing: the first message for a device opens a window; messages that arrive
// before it closes join the same pending push, which then announces them all with a count. A
// push that may not go yet (rate limit) is put back with a delay and keeps collecting.

/** One message a device should hear about. */
export interface PendingMessage {
  userId: string;
  deviceId: string;
  conversationId: string;
  sequence: bigint;
  senderName: string;
  /** The group's name; empty for a direct conversation. */
  groupName: string;
  text: string;
  /** The recipient set this conversation to "quiet". */
  quiet: boolean;
}

/** What one push announces. */
export interface Batch {
  userId: string;
  deviceId: string;
  /** Messages in arrival order, each (conversation, sequence) once. */
  messages: PendingMessage[];
}

interface Pending {
  batch: Batch;
  keys: Set<string>;
  timer: NodeJS.Timeout;
}

export class Coalescer {
  readonly #pending = new Map<string, Pending>();
  readonly #windowMs: number;
  readonly #onFlush: (batch: Batch) => void;

  constructor(options: { windowMs: number; onFlush: (batch: Batch) => void }) {
    this.#windowMs = options.windowMs;
    this.#onFlush = options.onFlush;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Adds a message; returns false when it joined a push already pending for the device. */
  add(message: PendingMessage): boolean {
    const pending = this.#pending.get(message.deviceId);
    if (pending) {
      this.#append(pending, [message]);
      return false;
    }
    this.#open({ userId: message.userId, deviceId: message.deviceId, messages: [] }, [message], this.#windowMs);
    return true;
  }

  /** Puts a batch back to be flushed after delayMs, merged with whatever is pending for the device. */
  defer(batch: Batch, delayMs: number): void {
    const pending = this.#pending.get(batch.deviceId);
    if (!pending) {
      this.#open({ ...batch, messages: [] }, batch.messages, delayMs);
      return;
    }
    // Older messages first, so the newest stays last.
    const newer = pending.batch.messages;
    pending.batch.messages = [];
    pending.keys.clear();
    this.#append(pending, [...batch.messages, ...newer]);
    clearTimeout(pending.timer);
    pending.timer = this.#schedule(batch.deviceId, delayMs);
  }

  /** Flushes every pending push now (graceful stop). */
  flushAll(): void {
    for (const deviceId of [...this.#pending.keys()]) this.#flush(deviceId);
  }

  /** Drops every pending push; returns how many there were. */
  clear(): number {
    const count = this.#pending.size;
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
    this.#pending.clear();
    return count;
  }

  #open(batch: Batch, messages: PendingMessage[], delayMs: number): void {
    const pending: Pending = { batch, keys: new Set(), timer: this.#schedule(batch.deviceId, delayMs) };
    this.#pending.set(batch.deviceId, pending);
    this.#append(pending, messages);
  }

  #append(pending: Pending, messages: PendingMessage[]): void {
    for (const message of messages) {
      // The bus delivers at least once: a redelivered event must not count twice.
      const key = `${message.conversationId}:${message.sequence}`;
      if (pending.keys.has(key)) continue;
      pending.keys.add(key);
      pending.batch.messages.push(message);
    }
  }

  #schedule(deviceId: string, delayMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.#flush(deviceId), Math.max(0, delayMs));
    timer.unref();
    return timer;
  }

  #flush(deviceId: string): void {
    const pending = this.#pending.get(deviceId);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pending.delete(deviceId);
    this.#onFlush(pending.batch);
  }
}
