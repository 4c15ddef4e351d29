// The ordered log on Cassandra: appends go through the Sequencer; reads walk the 1000-sequence
// buckets and complete any decided-but-unwritten event they find missing, so no hole is ever served.
import { randomUUID } from "node:crypto";
import { clone, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type ConversationEvent, ConversationEventSchema } from "../../../../gen/parley/v1/events_pb.js";
import { maxOf, minOf } from "../../../shared/bigints.ts";
import { type CassandraClient, select } from "../../../storage/cassandra/client.ts";
import { type AppendInput, bumpsVersion, type EventLog } from "../../ports.ts";
import { bucketOf, decodeEvent } from "./rows.ts";
import { Sequencer } from "./sequencer.ts";
import { readHead, readStage } from "./stage.ts";

/** Reads that still miss a sequence after this many repairs signal a bug, not a race. */
const maxRepairs = 3;

export class CassandraEventLog implements EventLog {
  readonly #client: CassandraClient;
  readonly #sequencer: Sequencer;
  constructor(client: CassandraClient) {
    this.#client = client;
    this.#sequencer = new Sequencer(client);
  }

  async append(input: AppendInput) {
    const sentAt = input.event.sentAt ? Number(input.event.sentAt.seconds) * 1000 + input.event.sentAt.nanos / 1e6 : Date.now();
    const draft = clone(ConversationEventSchema, input.event);
    draft.conversationId = input.conversationId;
    draft.sentAt ??= timestampFromMs(sentAt);
    const attempt = randomUUID();
    return this.#sequencer.append(input.conversationId, {
      draft,
      activity: Math.floor(sentAt),
      bytes: toBinary(ConversationEventSchema, draft).length,
      keyed: input.clientMessageId !== undefined,
      senderUserId: draft.senderUserId,
      // Unkeyed events never collide: their stage identity is the attempt itself.
      clientMessageId: input.clientMessageId ?? attempt,
      membership: input.membership,
      group: input.group,
      bumps: bumpsVersion(input),
      expectedMembershipVersion: input.expectedMembershipVersion,
      attempt,
    });
  }

  async readAfter(conversationId: string, after: bigint, upTo: bigint, limit: number) {
    if (limit <= 0) return [];
    const head = await readHead(this.#client, conversationId);
    if (!head) return [];
    const from = after + 1n;
    const to = minOf(minOf(upTo, head.lastSequence), after + BigInt(limit));
    return from <= to ? this.#readRange(conversationId, from, to) : [];
  }

  async readBefore(conversationId: string, before: bigint, limit: number) {
    if (limit <= 0) return [];
    const head = await readHead(this.#client, conversationId);
    if (!head) return [];
    const to = minOf(before - 1n, head.lastSequence);
    const from = maxOf(1n, to - BigInt(limit) + 1n);
    return from <= to ? this.#readRange(conversationId, from, to) : [];
  }

  /**
   * Every sequence in [from, to] is at most the head's last_sequence, so each has an event row or
   * a stage row (a stage row is deleted only after its event is written). Missing ones are
   * completed from the stage, then read again.
   */
  async #readRange(conversationId: string, from: bigint, to: bigint): Promise<ConversationEvent[]> {
    const found = new Map<bigint, ConversationEvent>();
    for (let pass = 0; ; pass++) {
      const missing = await this.#readBuckets(conversationId, from, to, found);
      if (missing.length === 0) break;
      if (pass >= maxRepairs) throw new Error(`${conversationId}: sequences ${missing.join(", ")} missing after repair`);
      const view = await readStage(this.#client, conversationId, missing[0] as bigint);
      const wanted = new Set(missing);
      for (const row of view?.stage ?? []) {
        if (!wanted.has(row.sequence)) continue;
        await this.#sequencer.repair(conversationId, row);
        found.set(row.sequence, row.event);
      }
    }
    return [...found.values()].sort((a, b) => (a.sequence < b.sequence ? -1 : 1));
  }

  /** Reads [from, to] minus what `found` holds into it; returns the sequences still missing. */
  async #readBuckets(conversationId: string, from: bigint, to: bigint, found: Map<bigint, ConversationEvent>) {
    const buckets: bigint[] = [];
    for (let b = bucketOf(from); b <= bucketOf(to); b++) buckets.push(b);
    const pages = await Promise.all(
      buckets.map((bucket) =>
        select(
          this.#client,
          "SELECT sequence, payload FROM events WHERE conversation_id = ? AND bucket = ? AND sequence >= ? AND sequence <= ?",
          [conversationId, bucket, from, to],
        ),
      ),
    );
    for (const row of pages.flat()) found.set(row.sequence, decodeEvent(row.payload));
    const missing: bigint[] = [];
    for (let s = from; s <= to; s++) if (!found.has(s)) missing.push(s);
    return missing;
  }
}
