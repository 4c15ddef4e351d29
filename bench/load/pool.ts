// The coordinator's side of the load workers: forks them, places devices on them, and sends
// them commands (protocol.ts). Every fork is registered with the bench's process registry so
// nothing outlives the bench.
import { type ChildProcess, fork } from "node:child_process";
import { track } from "../core/processes.ts";
import type { DeviceSpec } from "./device.ts";
import type { Command, CommandResults, Reply, Request } from "./protocol.ts";

const workerEntry = new URL("./worker.ts", import.meta.url).pathname;

class Worker {
  readonly child: ChildProcess;
  readonly index: number;
  #next = 1;
  #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(index: number) {
    this.index = index;
    this.child = fork(workerEntry, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: [] });
    track(this.child, `load-${index}`);
    this.child.on("message", (reply: Reply) => {
      const waiter = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.result);
      else waiter?.reject(new Error(`load worker ${index}: ${reply.error}`));
    });
    this.child.on("exit", (code, signal) => {
      for (const waiter of this.#waiting.values()) waiter.reject(new Error(`load worker ${index} exited (${signal ?? code})`));
      this.#waiting.clear();
    });
  }

  call<K extends Command["kind"]>(command: Extract<Command, { kind: K }>): Promise<CommandResults[K]> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, command } satisfies Request, (error) => {
        if (error) {
          this.#waiting.delete(id);
          reject(error);
        }
      });
    });
  }
}

export class LoadPool {
  readonly workers: Worker[];
  /** Which worker holds each device (global index). */
  readonly placement = new Map<number, number>();
  /** Workers that take devices round-robin (a dedicated sender worker is not one of them). */
  readonly #shared: number;

  /**
   * `dedicated`: devices that get a worker of their own (the last one). Group senders live there, so
   * receiving thousands of copies a second never delays their send clock.
   */
  constructor(size: number, options: { dedicated?: number[] } = {}) {
    const dedicated = options.dedicated ?? [];
    this.#shared = size;
    this.workers = Array.from({ length: size + (dedicated.length > 0 ? 1 : 0) }, (_, i) => new Worker(i));
    for (const index of dedicated) this.placement.set(index, size);
  }

  pids(): number[] {
    return this.workers.map((w) => w.child.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Places devices round-robin (or keeps their earlier worker) and groups them per worker. */
  place(devices: DeviceSpec[]): DeviceSpec[][] {
    const shares: DeviceSpec[][] = this.workers.map(() => []);
    for (const device of devices) {
      const worker = this.placement.get(device.index) ?? device.index % this.#shared;
      this.placement.set(device.index, worker);
      shares[worker]?.push(device);
    }
    return shares;
  }

  workerOf(deviceIndex: number): number {
    const worker = this.placement.get(deviceIndex);
    if (worker === undefined) throw new Error(`device ${deviceIndex} was never placed`);
    return worker;
  }

  /** Runs one command per worker (built from its index) and returns the results in worker order. */
  each<K extends Command["kind"]>(build: (worker: number) => Extract<Command, { kind: K }>): Promise<CommandResults[K][]> {
    return Promise.all(this.workers.map((w) => w.call(build(w.index))));
  }

  all<K extends Command["kind"]>(command: Extract<Command, { kind: K }>): Promise<CommandResults[K][]> {
    return this.each(() => command);
  }

  /** Closes every stream politely (the server sees clients leave), then stops the workers. */
  async close(): Promise<void> {
    try {
      await this.all({ kind: "close", args: { abrupt: false } });
    } finally {
      await this.stop();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
            w.child.once("exit", () => resolve());
            w.child.disconnect();
            setTimeout(() => w.child.kill("SIGKILL"), 5_000).unref();
          }),
      ),
    );
  }
}
