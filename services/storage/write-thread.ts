// Storage writes off the event loop. node:sqlite is synchronous: on the serving thread every
// commit's statements, BEGIN/COMMIT and WAL writes block the turn that runs it (a third of the
// main thread at 3,200 1:1 msgs/s in bench/, half of that system time). Here the hot writes
// (appends and receipt watermarks) go to a thread with its own connection: a turn's calls leave
// in one message, the thread commits them in one transaction (group commit), and their results
// come back in one message. Reads stay on the serving connection; WAL mode lets them run beside
// the writer, and each read sees every write whose promise has settled.

import type { DatabaseSync } from "node:sqlite";
import { Worker } from "node:worker_threads";
import type { Code } from "@connectrpc/connect";
import { parleyError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { CommitPriority, CommitQueue } from "./group-commit.ts";
import type { SyncMode } from "./sqlite.ts";
import type { Call, FromWriter, ThrownError, ToWriter, WriteThreadData } from "./write-thread-worker.ts";

/** The arguments of an operation after its connection. */
export type OperationArgs<F> = F extends (db: DatabaseSync, ...args: infer A) => unknown ? A : never;
export type Operations = Record<string, (db: DatabaseSync, ...args: never[]) => unknown>;

export interface WriteThread<Ops extends Operations> extends CommitQueue {
  /** Runs `operations[op](db, ...args)` in the thread; settles after the commit that made it durable. */
  call<K extends keyof Ops & string>(op: K, args: OperationArgs<Ops[K]>, priority?: CommitPriority): Promise<ReturnType<Ops[K]>>;
  /** Waits for every call made so far to settle, then stops the thread. */
  close(): Promise<void>;
  /** Calls sent and not yet answered. */
  readonly pending: number;
}

export interface WriteThreadOptions {
  path: string;
  sync: SyncMode;
  /** URL of the module whose `operations` export the thread runs (each arg and result is cloned). */
  operations: URL;
  logger: Logger;
  maxBatch?: number;
  /** A dead thread was replaced (its unanswered calls failed). */
  onRestart?: () => void;
  /** A message of this many calls went to the thread. */
  onBatch?: (calls: number) => void;
}

/** The error a call threw in the thread, as the caller would have caught it there. */
function rebuilt(error: ThrownError): Error {
  if (error.code === undefined) return new Error(error.message);
  return parleyError(error.code as Code, error.reason ?? "", error.message, {
    field: error.field || undefined,
    retryAfterMs: error.retryAfterMs || undefined,
  });
}

interface Pending {
  resolve: (value: never) => void;
  reject: (error: unknown) => void;
}

export function startWriteThread<Ops extends Operations>(options: WriteThreadOptions): WriteThread<Ops> {
  const { logger } = options;
  const workerData: WriteThreadData = {
    path: options.path,
    sync: options.sync,
    operations: options.operations.href,
    maxBatch: options.maxBatch,
  };
  const pending = new Map<number, Pending>();
  const holds: Array<(held: boolean) => void> = [];
  const pragmas: string[] = [];
  let outbox: Call[] = [];
  /** Calls posted to the thread and not yet answered: while there are any, new calls wait here. */
  let posted = 0;
  let scheduled = false;
  let nextId = 1;
  let closing = false;
  let worker = spawn();

  function spawn(): Worker {
    const thread = new Worker(new URL("./write-thread-worker.ts", import.meta.url), { workerData });
    // Ref'd only while calls wait on it: an idle thread does not keep the process alive.
    thread.unref();
    thread.on("message", (message: FromWriter) => {
      if (message.type === "held") return holds.shift()?.(true);
      if (message.type === "pragma-failed") return logger.error("sqlite write thread: a pragma failed", { ...message });
      posted -= message.results.length;
      for (const result of message.results) settle(result.id, result.value, result.error);
      if (posted === 0) flush();
    });
    thread.on("error", (error) => logger.error("sqlite write thread failed", { error: error.message }));
    thread.once("exit", (code) => {
      if (thread !== worker) return;
      // Whatever it had not answered may or may not have committed: the callers get an error
      // (INTERNAL) and retry with their idempotency keys. A new thread takes the next calls.
      outbox = [];
      posted = 0;
      for (const id of [...pending.keys()]) settle(id, undefined, { message: `sqlite write thread exited (${code})` });
      for (const hold of holds.splice(0)) hold(false);
      if (closing) return;
      logger.error("sqlite write thread exited; starting another", { code });
      options.onRestart?.();
      worker = spawn();
      for (const sql of pragmas) post({ type: "pragma", sql });
    });
    return thread;
  }

  function post(message: ToWriter): void {
    worker.postMessage(message);
  }

  function settle(id: number, value: unknown, error: ThrownError | undefined): void {
    const call = pending.get(id);
    if (!call) return;
    pending.delete(id);
    if (pending.size === 0) {
      worker.unref();
      if (closing) drained?.();
    }
    if (error) call.reject(rebuilt(error));
    else call.resolve(value as never);
  }

  function flush(): void {
    scheduled = false;
    const calls = outbox;
    // One message in flight: what comes meanwhile goes in the next, posted when this one is
    // answered, so a busy thread gets fewer, larger messages (and fewer wake-ups).
    if (calls.length === 0 || posted > 0) return;
    outbox = [];
    try {
      post({ type: "calls", calls });
      posted += calls.length;
      options.onBatch?.(calls.length);
    } catch (error) {
      // An argument that cannot be cloned (a bug in an operation's caller) fails its batch, not the process.
      const message = `the write could not be sent to its thread: ${error instanceof Error ? error.message : String(error)}`;
      for (const call of calls) settle(call.id, undefined, { message });
    }
  }

  let drained: (() => void) | undefined;

  return {
    get pending() {
      return pending.size;
    },
    call(op, args, priority = "now") {
      if (closing) return Promise.reject(new Error("the sqlite write thread is closed"));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        if (pending.size === 0) worker.ref();
        pending.set(id, { resolve: resolve as (value: never) => void, reject });
        outbox.push({ id, op, args: args as unknown[], priority });
        if (scheduled) return;
        scheduled = true;
        // The rest of this turn's calls join the message (one post, one transaction).
        setImmediate(flush);
      });
    },
    hold() {
      // Resolves once the thread has stopped committing: no transaction of it is open after that.
      return new Promise((resolve) => {
        holds.push((held) => resolve(held ? () => post({ type: "release" }) : () => {}));
        post({ type: "hold" });
      });
    },
    configure(sql) {
      pragmas.push(sql);
      post({ type: "pragma", sql });
    },
    async close() {
      closing = true;
      if (pending.size > 0) await new Promise<void>((resolve) => (drained = resolve));
      const exited = new Promise((resolve) => worker.once("exit", resolve));
      worker.ref();
      post({ type: "close" });
      await exited;
    },
  };
}
