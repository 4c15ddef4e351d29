// Sequence allocation on Cassandra. Per conversation, appends queue in this process and go in
// groups: read the head and its stage, settle the appends already decided (retries, duplicates),
// then ONE conditional batch on the head partition decides the next sequences and stages the
// events (and deletes stage rows known complete). The proof and costs are in docs/cassandra.md.
import { clone } from "@bufbuild/protobuf";
import { ConversationEventSchema } from "../../../../gen/parley/v1/events_pb.js";
import { maxOf, minOf } from "../../../shared/bigints.ts";
import { conversationNotFound } from "../../../shared/errors.ts";
import { type CassandraClient, conditionalBatch, isUnknownOutcome } from "../../../storage/cassandra/client.ts";
import { membershipVersionConflict } from "../../group-errors.ts";
import { encodeGroupStaging } from "./group-state.ts";
import { type AppendRequest, type AppendResult, fail, keyOf, type Lane, Lanes, settle, takeGroup, type Waiter } from "./lanes.ts";
import { encodeEvent, encodeMembership } from "./rows.ts";
import {
  completeStage,
  type Head,
  isStageComplete,
  readEventRow,
  readHead,
  readMessageId,
  readStage,
  type StageRow,
} from "./stage.ts";

/** Appends decided by one LWT at most (the batch is one mutation of the head partition). */
const maxGroup = 100;
const maxGroupBytes = 1 << 20;
/** A stage row older than this whose owner has not completed it is completed by whoever sees it. */
const staleStageMs = 2_000;
/** Rounds before an append gives up (each lost round means another append was decided). */
const maxRounds = 500;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Sequencer {
  readonly #client: CassandraClient;
  readonly #lanes = new Lanes();
  constructor(client: CassandraClient) {
    this.#client = client;
  }

  append(conversationId: string, request: AppendRequest): Promise<AppendResult> {
    const lane = this.#lanes.get(conversationId);
    const result = new Promise<AppendResult>((resolve, reject) => {
      lane.queue.push({ request, followers: [], proposed: [], resolve, reject });
    });
    if (!lane.running) void this.#drain(conversationId, lane);
    return result;
  }

  /**
   * Completes a stage row for a reader that found its sequence missing (or an append that found it
   * decided or stale), and remembers it. A row that changes the group first has every earlier
   * such row completed, so the members partition's statics never get ahead of its member cells.
   */
  async repair(conversationId: string, row: StageRow): Promise<void> {
    const lane = this.#lanes.get(conversationId);
    if (row.group) {
      const view = await readStage(this.#client, conversationId, (lane.completedThrough ?? 0n) + 1n);
      await this.#completeChanges(
        conversationId,
        lane,
        (view?.stage ?? []).filter((r) => r.sequence < row.sequence),
      );
    }
    await completeStage(this.#client, conversationId, row);
    lane.completed.add(row.sequence);
  }

  /** Completes the group-changing rows among `stage` that this process has not seen complete, in order. */
  async #completeChanges(conversationId: string, lane: Lane, stage: StageRow[]) {
    for (const row of stage) {
      if (!row.group || lane.completed.has(row.sequence)) continue;
      await completeStage(this.#client, conversationId, row);
      lane.completed.add(row.sequence);
    }
  }

  async #drain(conversationId: string, lane: Lane) {
    lane.running = true;
    try {
      while (lane.queue.length > 0) {
        const group = takeGroup(lane.queue, maxGroup, maxGroupBytes);
        try {
          await this.#allocate(conversationId, lane, group);
        } catch (error) {
          for (const waiter of group) fail(waiter, error);
        }
      }
    } finally {
      lane.running = false;
    }
  }

  /** Returns once every append of the group is decided (completion goes on in the background). */
  async #allocate(conversationId: string, lane: Lane, group: Waiter[]) {
    let pending = group;
    // What this process's last decision left (docs/cassandra.md): exact unless another decision
    // came since, which only the LWT's condition can tell. So it may lead to a decision, never to
    // a refusal: where it would refuse an append, the next round reads the real view.
    let known = lane.known;
    lane.known = undefined;
    for (let round = 0; pending.length > 0; round++) {
      if (round >= maxRounds) throw new Error(`append to ${conversationId}: no decision after ${maxRounds} rounds`);
      if (round > 0) await sleep(Math.random() * Math.min(round, 10) * 2);
      // Order matters for the proof: head and stage first, then idempotency rows, then the LWT.
      const view = known ?? (await this.#view(conversationId, lane));
      const provisional = known !== undefined;
      known = undefined;
      if (!view) {
        for (const waiter of pending) fail(waiter, conversationNotFound());
        return;
      }
      pending = await this.#settleDecided(conversationId, view.head.lastSequence, view.stage, pending);
      if (pending.length === 0) return;
      const checked = await this.#checkVersions(conversationId, lane, view, pending, provisional);
      if (!checked) continue;
      pending = checked.accepted;
      if (pending.length === 0) return;
      const deletable = await this.#deletable(conversationId, lane, view.stage);
      if (await this.#propose(conversationId, lane, view.head, view.stage, deletable, pending, checked.versions)) return;
    }
  }

  /**
   * The compare-and-set of membership versions: walks the group in order with the head's decided
   * version, failing each append that expects another version (MEMBERSHIP_VERSION_CONFLICT) and
   * counting up for each that changes it. Returns the rest with the version each leaves behind;
   * undefined, failing none, when the view is provisional and would fail one.
   */
  async #checkVersions(
    conversationId: string,
    lane: Lane,
    view: { head: Head; stage: StageRow[] },
    pending: Waiter[],
    provisional: boolean,
  ) {
    let version = view.head.membershipVersion;
    const accepted: Waiter[] = [];
    const versions: bigint[] = [];
    const rejected: Waiter[] = [];
    for (const waiter of pending) {
      const expected = waiter.request.expectedMembershipVersion;
      if (expected !== undefined && expected !== version) {
        rejected.push(waiter);
        continue;
      }
      if (waiter.request.bumps) version++;
      accepted.push(waiter);
      versions.push(version);
    }
    if (rejected.length > 0) {
      if (provisional) return undefined;
      // The losers may have read the members partition before a decided change reached it:
      // complete those changes so the callers' next read sees the version the head has.
      await this.#completeChanges(conversationId, lane, view.stage);
      for (const waiter of rejected) fail(waiter, membershipVersionConflict());
    }
    return { accepted, versions };
  }

  async #view(conversationId: string, lane: Lane) {
    if (lane.completedThrough === undefined) {
      // One point read instead of a slice over tombstones the first time this process sees it.
      const head = await readHead(this.#client, conversationId);
      if (!head) return undefined;
      lane.completedThrough = head.completedThrough;
    }
    const view = await readStage(this.#client, conversationId, lane.completedThrough + 1n);
    if (!view) return undefined;
    lane.completedThrough = maxOf(lane.completedThrough, view.head.completedThrough);
    for (const s of lane.completed) if (s <= lane.completedThrough) lane.completed.delete(s);
    return view;
  }

  /** Settles the appends that already have a sequence; returns those that still need one. */
  async #settleDecided(conversationId: string, lastSequence: bigint, stage: StageRow[], pending: Waiter[]) {
    const byAttempt = new Map(stage.map((row) => [row.attempt, row]));
    const byKey = new Map(stage.filter((row) => row.keyed).map((row) => [keyOf(row), row]));
    const decided = await Promise.all(
      pending.map(async (waiter) => {
        const r = waiter.request;
        const staged = byAttempt.get(r.attempt) ?? (r.keyed ? byKey.get(keyOf(r)) : undefined);
        if (staged) {
          await this.repair(conversationId, staged);
          settle(waiter, staged.event, staged.attempt !== r.attempt);
          return true;
        }
        // A timed-out proposal of this call that was decided, completed and unstaged since.
        for (const s of waiter.proposed.filter((p) => p <= lastSequence)) {
          const row = await readEventRow(this.#client, conversationId, s);
          if (row?.attempt === r.attempt) {
            settle(waiter, row.event, false);
            return true;
          }
        }
        if (!r.keyed) return false;
        const idem = await readMessageId(this.#client, conversationId, r.senderUserId, r.clientMessageId);
        if (!idem) return false;
        const row = await readEventRow(this.#client, conversationId, idem.sequence);
        if (!row) throw new Error(`message id ${r.clientMessageId} points at missing event ${idem.sequence}`);
        settle(waiter, row.event, idem.attempt !== r.attempt);
        return true;
      }),
    );
    return pending.filter((_, i) => !decided[i]);
  }

  /** Stage rows whose completion is visible (or that this call completes now because they are stale). */
  async #deletable(conversationId: string, lane: Lane, stage: StageRow[]): Promise<Set<bigint>> {
    const out = new Set<bigint>();
    const stale: StageRow[] = [];
    await Promise.all(
      stage.map(async (row) => {
        if (lane.completing.has(row.sequence)) return;
        if (!lane.completed.has(row.sequence) && !(await isStageComplete(this.#client, conversationId, row))) {
          if (Date.now() - row.stagedAt >= staleStageMs) stale.push(row);
          return;
        }
        out.add(row.sequence);
      }),
    );
    // One at a time in sequence order (stage is ascending): group changes complete in order.
    for (const row of stage.filter((r) => stale.includes(r))) {
      await this.repair(conversationId, row);
      out.add(row.sequence);
    }
    return out;
  }

  /** One Paxos decision: true when the group got its sequences. */
  async #propose(
    conversationId: string,
    lane: Lane,
    head: Head,
    stage: StageRow[],
    deletable: Set<bigint>,
    pending: Waiter[],
    versions: bigint[],
  ): Promise<boolean> {
    const lastSequence = head.lastSequence;
    const staged = pending.map((waiter, i) => {
      const event = clone(ConversationEventSchema, waiter.request.draft);
      event.sequence = lastSequence + 1n + BigInt(i);
      const r = waiter.request;
      const group = r.bumps
        ? {
            version: versions[i] as bigint,
            settings: r.group?.settings,
            deletedAt: r.group?.deleted ? r.activity : undefined,
          }
        : undefined;
      return {
        waiter,
        row: { ...r, sequence: event.sequence, event, group, stagedAt: Date.now() } satisfies StageRow,
      };
    });
    const kept = stage.filter((row) => !deletable.has(row.sequence)).map((row) => row.sequence);
    // Every stage row at or below completedThrough is gone after this batch.
    const completedThrough = kept.length > 0 ? kept.reduce(minOf) - 1n : lastSequence;
    const newLast = lastSequence + BigInt(pending.length);
    const activity = BigInt((pending.at(-1) as Waiter).request.activity);
    const newVersion = versions.at(-1) ?? head.membershipVersion;
    // One statement per static cell: writes in a batch share a timestamp, so two values for one cell would be a tie.
    const info = pending.findLast((w) => w.request.group?.info)?.request.group?.info;
    const deletion = pending.find((w) => w.request.group?.deleted);
    const queries = [
      {
        query: `UPDATE conversation_heads SET last_sequence = ?, last_activity = ?, completed_through = ?, membership_version = ?
                  WHERE conversation_id = ? IF last_sequence = ?`,
        params: [newLast, activity, completedThrough, newVersion, conversationId, lastSequence],
      },
      ...(info
        ? [
            {
              query: "UPDATE conversation_heads SET name = ?, description = ?, picture_ref = ? WHERE conversation_id = ?",
              params: [info.name, info.description, info.pictureRef, conversationId],
            },
          ]
        : []),
      ...(deletion
        ? [
            {
              query: "UPDATE conversation_heads SET deleted_at = ? WHERE conversation_id = ?",
              params: [BigInt(deletion.request.activity), conversationId],
            },
          ]
        : []),
      ...staged.map(({ row }) => ({
        query: `INSERT INTO conversation_heads (conversation_id, sequence, keyed, sender_user_id, client_message_id, attempt,
                  payload, membership, group_change, staged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        params: [
          conversationId,
          row.sequence,
          row.keyed,
          row.senderUserId,
          row.clientMessageId,
          row.attempt,
          encodeEvent(row.event),
          encodeMembership(row.membership),
          encodeGroupStaging(row.group),
          BigInt(row.stagedAt),
        ],
      })),
      ...[...deletable].map((sequence) => ({
        query: "DELETE FROM conversation_heads WHERE conversation_id = ? AND sequence = ?",
        params: [conversationId, sequence],
      })),
    ];
    try {
      const { applied } = await conditionalBatch(this.#client, queries);
      if (!applied) return false;
    } catch (error) {
      if (!isUnknownOutcome(error)) throw error;
      // Maybe decided: the next round finds these sequences by attempt if they were.
      for (const { waiter, row } of staged) waiter.proposed.push(row.sequence);
      await sleep(10 + Math.random() * 40);
      return false;
    }
    for (const s of deletable) lane.completed.delete(s);
    lane.completedThrough = maxOf(lane.completedThrough ?? 0n, completedThrough);
    lane.known = {
      head: { lastSequence: newLast, lastActivity: Number(activity), completedThrough, membershipVersion: newVersion },
      stage: [...stage.filter((row) => !deletable.has(row.sequence)), ...staged.map(({ row }) => row)],
    };
    if (staged.some(({ row }) => row.group)) {
      this.#completeInOrder(
        conversationId,
        lane,
        stage.filter((row) => row.group),
        staged,
      );
    } else {
      for (const { waiter, row } of staged) this.#complete(conversationId, lane, waiter, row);
    }
    return true;
  }

  /**
   * Completes a decided group that changes the group state one row at a time, after every earlier
   * group change this process knows of (queued on the lane, or seen in the stage): the members
   * statics then move forward only once the member cells of every version up to theirs are written.
   */
  #completeInOrder(conversationId: string, lane: Lane, earlier: StageRow[], staged: { waiter: Waiter; row: StageRow }[]) {
    for (const { row } of staged) lane.completing.add(row.sequence);
    const run = async () => {
      try {
        await this.#completeChanges(conversationId, lane, earlier);
        for (const { waiter, row } of staged) {
          await completeStage(this.#client, conversationId, row);
          lane.completing.delete(row.sequence);
          lane.completed.add(row.sequence);
          settle(waiter, row.event, false);
        }
      } catch (error) {
        // Decided but not completed: the stage rows stay for a reader or a later append to complete.
        for (const { waiter, row } of staged) if (lane.completing.delete(row.sequence)) fail(waiter, error);
      }
    };
    lane.changes = lane.changes.then(run);
  }

  /** Completes a decided append off the decision path, so the next group's LWT need not wait. */
  #complete(conversationId: string, lane: Lane, waiter: Waiter, row: StageRow) {
    lane.completing.add(row.sequence);
    completeStage(this.#client, conversationId, row).then(
      () => {
        lane.completing.delete(row.sequence);
        lane.completed.add(row.sequence);
        settle(waiter, row.event, false);
      },
      (error) => {
        // Decided but not completed: the stage row stays, and a reader or a later append completes it.
        lane.completing.delete(row.sequence);
        fail(waiter, error);
      },
    );
  }
}
