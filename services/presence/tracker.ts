// The streams this gateway holds, as presence sees them: each open and close goes to the
// PresenceStore (in order per stream), and every heartbeat interval the held streams are
// re-asserted and streams of dead gateways are swept. Store failures are logged, never thrown:
// presence heals on the next tick.
import type { Clock } from "../shared/clock.ts";
import type { Logger } from "../shared/logger.ts";
import type { Announcer } from "./announcer.ts";
import type { PresenceStore, StreamKey, Transition } from "./ports.ts";

export interface TrackerDeps {
  store: PresenceStore;
  announcer: Announcer;
  clock: Clock;
  logger: Logger;
  /** How often held streams are refreshed and dead ones swept (the heartbeat interval). */
  intervalMs: number;
}

export class PresenceTracker {
  readonly #deps: TrackerDeps;
  /** A stream outlives two missed refreshes, like a route. */
  readonly #ttlMs: number;
  readonly #held = new Map<string, StreamKey>();
  /** The store operations of each stream, in order (a close never overtakes its open). */
  readonly #chains = new Map<string, Promise<void>>();

  constructor(deps: TrackerDeps) {
    this.#deps = deps;
    this.#ttlMs = 3 * deps.intervalMs;
  }

  opened(stream: StreamKey): void {
    this.#held.set(stream.sessionId, stream);
    this.#chain(stream.sessionId, "connect", async () => {
      await this.#announce(await this.#deps.store.connect(stream, this.#ttlMs, this.#deps.clock.now()));
    });
  }

  closed(stream: StreamKey): void {
    this.#held.delete(stream.sessionId);
    this.#chain(stream.sessionId, "disconnect", async () => {
      await this.#announce(await this.#deps.store.disconnect(stream, this.#deps.clock.now()));
    });
  }

  /** Ticks every interval until the signal aborts. */
  run(signal: AbortSignal): void {
    const timer = setInterval(() => void this.tick(), this.#deps.intervalMs);
    timer.unref();
    signal.addEventListener("abort", () => clearInterval(timer), { once: true });
  }

  async tick(): Promise<void> {
    const now = this.#deps.clock.now();
    const held = [...this.#held.values()];
    try {
      if (held.length > 0) {
        for (const t of await this.#deps.store.refresh(held, this.#ttlMs, now)) await this.#announce(t);
        // A stream that closed while the refresh was in flight may have been re-created by it.
        for (const stream of held) if (!this.#held.has(stream.sessionId)) this.closed(stream);
      }
      for (const t of await this.#deps.store.expire(now)) await this.#announce(t);
    } catch (error) {
      this.#deps.logger.warn("presence refresh failed", { error: String(error) });
    }
  }

  /** Resolves once every open and close handed over so far has reached the store. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#chains.values()]);
  }

  async #announce(transition: Transition | undefined): Promise<void> {
    if (transition) await this.#deps.announcer.transition(transition);
  }

  #chain(sessionId: string, what: string, operation: () => Promise<void>): void {
    const next = (this.#chains.get(sessionId) ?? Promise.resolve())
      .then(operation)
      .catch((error) => this.#deps.logger.warn("presence update failed", { what, error: String(error) }));
    this.#chains.set(sessionId, next);
    void next.finally(() => {
      if (this.#chains.get(sessionId) === next) this.#chains.delete(sessionId);
    });
  }
}
