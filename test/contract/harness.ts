// Shared helpers of the port contract suites: per-test resources, known-issue bookkeeping, event
// builders and scheduling helpers. Nothing here measures time: waiting is done on promises.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { type ConversationEvent, ConversationEventSchema } from "../../gen/parley/v1/events_pb.js";
import { closeDatabase, databasePath, openDatabase } from "../../services/storage/sqlite.ts";

/** Every adapter set built for one test releases what it holds (connections, files) here. */
export interface Cleanup {
  cleanup(): Promise<void>;
}

/**
 * Per adapter, the contract cases it is known to fail, by case title, each with the bug it shows.
 * Such a case still runs, as a TODO (reported, not failing the run), until the bug is fixed and the
 * entry removed. An entry naming no case fails the run, so stale entries cannot pile up.
 */
export interface ContractOptions {
  knownIssues?: Record<string, string>;
}

/** A guard against hangs (a broken adapter that never resolves); never an assertion on speed. */
const hangGuardMs = 60_000;

/**
 * Declares the cases of one suite against one adapter set: every case gets fresh adapters from
 * `make`, and their cleanup runs whatever the outcome.
 */
export function contractCases<A extends Cleanup>(make: () => Promise<A>, options: ContractOptions = {}) {
  const known = new Map(Object.entries(options.knownIssues ?? {}));
  const declared = new Set<string>();
  const run = async (body: (adapters: A) => Promise<void>, build: () => Promise<A>) => {
    const adapters = await build();
    try {
      await body(adapters);
    } finally {
      await adapters.cleanup();
    }
  };
  return {
    /** A contract case; `makeFor` builds its adapters differently (e.g. with a small capacity). */
    test(title: string, body: (adapters: A) => Promise<void>, makeFor: () => Promise<A> = make) {
      declared.add(title);
      const issue = known.get(title);
      test(title, { timeout: hangGuardMs, ...(issue ? { todo: `known adapter bug: ${issue}` } : {}) }, () => run(body, makeFor));
    },
    /** A case this adapter cannot run, with the reason (shown in the test report). */
    skip(title: string, reason: string) {
      declared.add(title);
      test(title, { skip: reason }, () => {});
    },
    /** Call after the last case: fails when a known-issue entry names no case. */
    end() {
      const stale = [...known.keys()].filter((title) => !declared.has(title));
      if (stale.length > 0) {
        test("known-issue entries name existing cases", () => {
          throw new Error(`knownIssues name no case of this suite: ${stale.join(", ")}`);
        });
      }
    },
  };
}

/** A fresh embedded SQLite store in its own temporary directory, removed on cleanup. */
export function freshSqlite() {
  const dataDir = mkdtempSync(join(tmpdir(), "parley-contract-"));
  const db = openDatabase({ dataDir });
  return {
    db,
    path: databasePath(dataDir),
    async cleanup() {
      closeDatabase(db);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let idCounter = 0;
/** An id unique within this process, with a readable prefix. */
export function uid(prefix: string): string {
  idCounter++;
  return `${prefix}-${process.pid}-${idCounter}`;
}

/** A promise with its resolver exposed. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lets every pending callback and I/O completion run, `turns` times over (no timers involved). */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Tracks whether a promise has settled, without awaiting it. */
export function track<T>(promise: Promise<T>) {
  const state = { settled: false, rejected: false };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
      state.rejected = true;
    },
  );
  return state;
}

/** A deterministic shuffle (so that a failure reproduces). */
export function shuffled<T>(items: T[], seed = 42): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export const isNotFound = (error: unknown) => error instanceof ConnectError && error.code === Code.NotFound;

/** A chat message event, as the send path drafts it (no conversation id or sequence yet). */
export function messageEvent(input: { sender: string; clientMessageId: string; text: string; sentAtMs?: number }) {
  return create(ConversationEventSchema, {
    eventId: uid("event"),
    senderUserId: input.sender,
    senderDeviceId: `${input.sender}-device`,
    sentAt: timestampFromMs(input.sentAtMs ?? 1_700_000_000_000),
    body: {
      case: "message",
      value: { clientMessageId: input.clientMessageId, content: { kind: { case: "text", value: { body: input.text } } } },
    },
  });
}

/** The ConversationCreated event, as conversations.ts builds it (conversation id and sequence 1 set). */
export function createdEvent(conversationId: string, sender: string, memberUserIds: string[], sentAtMs = 1_700_000_000_000) {
  return create(ConversationEventSchema, {
    conversationId,
    sequence: 1n,
    eventId: uid("event"),
    senderUserId: sender,
    senderDeviceId: `${sender}-device`,
    sentAt: timestampFromMs(sentAtMs),
    body: { case: "conversationCreated", value: { memberUserIds, name: "" } },
  });
}

export function membersAddedEvent(sender: string, userIds: string[], sentAtMs = 1_700_000_000_000): ConversationEvent {
  return create(ConversationEventSchema, {
    eventId: uid("event"),
    senderUserId: sender,
    sentAt: timestampFromMs(sentAtMs),
    body: { case: "membersAdded", value: { userIds } },
  });
}

export function memberRemovedEvent(sender: string, userId: string, sentAtMs = 1_700_000_000_000): ConversationEvent {
  return create(ConversationEventSchema, {
    eventId: uid("event"),
    senderUserId: sender,
    sentAt: timestampFromMs(sentAtMs),
    body: { case: "memberRemoved", value: { userId } },
  });
}

/** The text of a message event (empty for other kinds). */
export function textOf(event: ConversationEvent): string {
  return event.body.case === "message" && event.body.value.content?.kind.case === "text"
    ? event.body.value.content.kind.value.body
    : "";
}

/** 1n..n as bigints. */
export function range(from: bigint, to: bigint): bigint[] {
  const out: bigint[] = [];
  for (let s = from; s <= to; s++) out.push(s);
  return out;
}
