// The group state a decided change leaves behind in the members partition's static cells: the
// membership version its member cells reflect, the settings and the deletion time. Written after
// the change's member cells and USING TIMESTAMP <sequence>, and (by the sequencer) in sequence
// order, so one read of a member row with these statics is consistent: every change up to that
// version is applied to it, and a later change still being applied has a later version that the
// head already carries (the next compare-and-set fails and the caller reads again).
import { type CassandraClient, write } from "../../../storage/cassandra/client.ts";
import type { GroupSettings } from "../../ports.ts";

export interface GroupStaging {
  /** The membership version after the change. */
  version: bigint;
  settings?: GroupSettings;
  deletedAt?: number;
}

export const encodeGroupStaging = (g: GroupStaging | undefined) =>
  g ? JSON.stringify({ ...g, version: g.version.toString() }) : null;

export function decodeGroupStaging(text: string | null): GroupStaging | undefined {
  if (!text) return undefined;
  const parsed = JSON.parse(text) as Omit<GroupStaging, "version"> & { version: string };
  return { ...parsed, version: BigInt(parsed.version) };
}

export async function applyGroupState(client: CassandraClient, conversationId: string, sequence: bigint, g: GroupStaging) {
  if (g.deletedAt !== undefined) {
    await write(client, "INSERT INTO deleted_conversations (shard, conversation_id, deleted_at) VALUES (0, ?, ?)", [
      conversationId,
      BigInt(g.deletedAt),
    ]);
  }
  await write(
    client,
    "UPDATE members USING TIMESTAMP ? SET membership_version = ?, settings = ?, deleted_at = ? WHERE conversation_id = ?",
    [
      sequence,
      g.version,
      g.settings ? JSON.stringify(g.settings) : undefined,
      g.deletedAt === undefined ? undefined : BigInt(g.deletedAt),
      conversationId,
    ],
  );
}
