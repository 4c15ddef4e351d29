// Receipt watermarks and device cursors on Cassandra, without LWTs: each watermark cell is written
// USING TIMESTAMP <its value>, so last-write-wins keeps the highest value whatever the order or
// concurrency of the writes (equal timestamps carry equal values). A watermark never goes back.

import { maxOf } from "../../../shared/bigints.ts";
import { conversationNotFound } from "../../../shared/errors.ts";
import { type CassandraClient, select, selectOne, write } from "../../../storage/cassandra/client.ts";
import type { ReceiptStore, SeenWatermarks } from "../../ports.ts";

export class CassandraReceiptStore implements ReceiptStore {
  readonly #client: CassandraClient;
  constructor(client: CassandraClient) {
    this.#client = client;
  }

  /**
   * The returned watermarks are this call's view (what it read, raised by what it wrote): a
   * concurrent raise may already be higher, and two racing calls may both report a change. Both
   * are harmless: receipt updates are watermarks that clients and the outbox merge with max.
   */
  async advanceDelivered(conversationId: string, userId: string, deviceId: string, through: bigint, seen?: SeenWatermarks) {
    const before = seen ?? (await this.#marks(conversationId, userId));
    const changed = through > before.deliveredThrough;
    await Promise.all([
      write(
        this.#client,
        "UPDATE device_cursors USING TIMESTAMP ? SET sequence = ? WHERE device_id = ? AND conversation_id = ?",
        [through, through, deviceId, conversationId],
      ),
      changed
        ? write(
            this.#client,
            "UPDATE members USING TIMESTAMP ? SET delivered_through = ? WHERE conversation_id = ? AND user_id = ?",
            [through, through, conversationId, userId],
          )
        : undefined,
    ]);
    return { changed, deliveredThrough: maxOf(before.deliveredThrough, through), readThrough: before.readThrough };
  }

  async advanceRead(conversationId: string, userId: string, through: bigint, seen?: SeenWatermarks) {
    const before = seen ?? (await this.#marks(conversationId, userId));
    const changed = through > before.readThrough || through > before.deliveredThrough;
    if (changed) {
      // Delivered rides along at the same timestamp: where it is already higher, that cell wins.
      await write(
        this.#client,
        "UPDATE members USING TIMESTAMP ? SET read_through = ?, delivered_through = ? WHERE conversation_id = ? AND user_id = ?",
        [through, through, through, conversationId, userId],
      );
    }
    return {
      changed,
      deliveredThrough: maxOf(before.deliveredThrough, through),
      readThrough: maxOf(before.readThrough, through),
    };
  }

  async #marks(conversationId: string, userId: string) {
    const row = await selectOne(
      this.#client,
      "SELECT joined_at_seq, delivered_through, read_through FROM members WHERE conversation_id = ? AND user_id = ?",
      [conversationId, userId],
    );
    if (!row || row.joined_at_seq === null) throw conversationNotFound();
    return { deliveredThrough: (row.delivered_through ?? 0n) as bigint, readThrough: (row.read_through ?? 0n) as bigint };
  }

  async deviceCursors(deviceId: string) {
    const rows = await select(this.#client, "SELECT conversation_id, sequence FROM device_cursors WHERE device_id = ?", [
      deviceId,
    ]);
    return new Map(rows.map((r) => [r.conversation_id as string, r.sequence as bigint]));
  }
}
