// Signals within one process (the all-in-one server): every subscriber gets every signal, after
// the publisher's current turn, in publish order.
import type { Signal, SignalBus } from "../ports.ts";

export class MemorySignalBus implements SignalBus {
  readonly #handlers = new Set<(signal: Signal) => void>();

  async publish(signal: Signal): Promise<void> {
    const handlers = [...this.#handlers];
    queueMicrotask(() => {
      for (const handler of handlers) handler(signal);
    });
  }

  async subscribe(handler: (signal: Signal) => void) {
    this.#handlers.add(handler);
    return async () => {
      this.#handlers.delete(handler);
    };
  }
}
