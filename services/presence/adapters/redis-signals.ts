// Signals between gateways over Redis pub/sub, one channel for all of them: each gateway hears
// every signal and delivers it to the recipients it holds streams for. Pub/sub is at most once
// and unbuffered, which suits presence and typing: nothing is stored, a missed notice is only a
// missed notice. A subscribed connection cannot run commands, so subscribing takes its own.
import type { Redis } from "ioredis";
import type { Logger } from "../../shared/logger.ts";
import type { Signal, SignalBus } from "../ports.ts";

export class RedisSignalBus implements SignalBus {
  readonly #client: Redis;
  readonly #channel: string;
  readonly #logger: Logger;

  /** `prefix` ("parley:") namespaces the channel; tests use a fresh one. */
  constructor(client: Redis, options: { logger: Logger; prefix?: string }) {
    this.#client = client;
    this.#channel = `${options.prefix ?? "parley:"}signals`;
    this.#logger = options.logger;
  }

  async publish(signal: Signal): Promise<void> {
    await this.#client.publish(this.#channel, JSON.stringify(signal));
  }

  async subscribe(handler: (signal: Signal) => void) {
    const subscriber = this.#client.duplicate({ lazyConnect: true });
    subscriber.on("error", (error: Error) => this.#logger.debug("redis signal subscriber error", { error: error.message }));
    subscriber.on("message", (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      let signal: Signal;
      try {
        signal = JSON.parse(message) as Signal;
      } catch {
        this.#logger.warn("dropped a signal that is not JSON", { channel });
        return;
      }
      handler(signal);
    });
    await subscriber.connect();
    // ioredis re-subscribes by itself after a reconnect.
    await subscriber.subscribe(this.#channel);
    return async () => {
      await subscriber.quit().catch(() => subscriber.disconnect());
    };
  }
}
