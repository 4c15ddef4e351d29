// The one Cassandra client factory the adapters share: connection settings from the environment,
// consistency levels, and small helpers that keep every statement prepared.
import cassandra from "cassandra-driver";

export type CassandraClient = cassandra.Client;
export type Row = cassandra.types.Row;
type Params = unknown[];

export interface CassandraSettings {
  /** host:port of one or more contact points. */
  contactPoints: string[];
  keyspace: string;
  localDataCenter: string;
}

/** PARLEY_CASSANDRA_CONTACT (comma separated, default 127.0.0.1:19042) and PARLEY_CASSANDRA_KEYSPACE. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): CassandraSettings {
  const contact = env.PARLEY_CASSANDRA_CONTACT ?? "127.0.0.1:19042";
  return {
    contactPoints: contact
      .split(",")
      .map((c) => c.trim())
      .filter(Boolean),
    keyspace: checkKeyspaceName(env.PARLEY_CASSANDRA_KEYSPACE ?? "parley"),
    localDataCenter: "datacenter1",
  };
}

/** Keyspace names are spliced into DDL, so they must be plain identifiers. */
export function checkKeyspaceName(name: string): string {
  if (!/^[a-z][a-z0-9_]{0,47}$/.test(name)) throw new Error(`invalid Cassandra keyspace name: ${name}`);
  return name;
}

const { consistencies } = cassandra.types;

/**
 * Plain reads and writes use LOCAL_QUORUM: a write acknowledged at LOCAL_QUORUM is seen by every
 * later LOCAL_QUORUM read (the replica sets overlap), which the allocation and idempotency checks
 * rely on. LWTs use LOCAL_SERIAL (Paxos among the local datacenter's replicas). With one node and
 * RF 1 both mean "that node"; with RF 3 they tolerate one replica down.
 */
export const consistency = {
  read: consistencies.localQuorum,
  write: consistencies.localQuorum,
  serial: consistencies.localSerial,
} as const;

/** Opens a client; without `keyspace` it is unbound (for creating keyspaces). */
export async function connectCassandra(settings: Omit<CassandraSettings, "keyspace"> & { keyspace?: string }) {
  const client = new cassandra.Client({
    contactPoints: settings.contactPoints,
    localDataCenter: settings.localDataCenter,
    ...(settings.keyspace ? { keyspace: settings.keyspace } : {}),
    // Sequences and times are bigint on the wire; BigInt keeps them exact.
    encoding: { useBigIntAsLong: true, useUndefinedAsUnset: true },
    queryOptions: { prepare: true, consistency: consistency.write, serialConsistency: consistency.serial },
  });
  await client.connect();
  return client;
}

/**
 * Every statement goes through these, prepared. `idempotent` lets the driver retry a write that timed
 * out; it is false for LWTs and anything whose repetition could change the outcome.
 */
export async function select(client: CassandraClient, cql: string, params: Params): Promise<Row[]> {
  const rows: Row[] = [];
  let pageState: string | undefined;
  do {
    const result = await client.execute(cql, params, {
      prepare: true,
      isIdempotent: true,
      consistency: consistency.read,
      ...(pageState ? { pageState } : {}),
    });
    rows.push(...result.rows);
    pageState = result.pageState ?? undefined;
  } while (pageState);
  return rows;
}

export async function selectOne(client: CassandraClient, cql: string, params: Params): Promise<Row | undefined> {
  const result = await client.execute(cql, params, { prepare: true, isIdempotent: true, consistency: consistency.read });
  return result.first() ?? undefined;
}

/** A plain write that may be repeated safely (upserts with fixed values or explicit timestamps). */
export async function write(client: CassandraClient, cql: string, params: Params): Promise<void> {
  await client.execute(cql, params, { prepare: true, isIdempotent: true, consistency: consistency.write });
}

/** A lightweight transaction: returns whether it applied and the current values when it did not. */
export async function conditional(
  client: CassandraClient,
  cql: string,
  params: Params,
): Promise<{ applied: boolean; current: Row | undefined }> {
  const result = await client.execute(cql, params, {
    prepare: true,
    isIdempotent: false,
    consistency: consistency.write,
    serialConsistency: consistency.serial,
  });
  return { applied: result.wasApplied(), current: result.first() ?? undefined };
}

/** A conditional batch (all statements in one partition): one Paxos decision. */
export async function conditionalBatch(
  client: CassandraClient,
  queries: { query: string; params: Params }[],
): Promise<{ applied: boolean; rows: Row[] }> {
  const result = await client.batch(queries, {
    prepare: true,
    isIdempotent: false,
    consistency: consistency.write,
    serialConsistency: consistency.serial,
  });
  return { applied: result.wasApplied(), rows: result.rows ?? [] };
}

/**
 * Timeouts and unavailability leave an LWT's outcome unknown (it may still be decided). Callers that
 * can find out by re-reading (the allocation loop) retry on these instead of failing.
 */
export function isUnknownOutcome(error: unknown): boolean {
  if (error instanceof cassandra.errors.OperationTimedOutError) return true;
  if (!(error instanceof cassandra.errors.ResponseError)) return false;
  const { responseErrorCodes } = cassandra.types;
  return [responseErrorCodes.writeTimeout, responseErrorCodes.readTimeout, responseErrorCodes.unavailableException].includes(
    error.code,
  );
}

/** Maps with at most `limit` calls in flight (a 1024-member group is 2048 writes; keep the queue bounded). */
export async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
