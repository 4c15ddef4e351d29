// The adapters every port contract runs against. A new adapter (Cassandra, Kafka, Redis) is added
// here with a factory that builds fresh adapters per test and cleans them up; its entry may list
// knownIssues (case title -> bug) while a case fails, and must give reasons for skipped cases.
import { after } from "node:test";
import { createMemoryBus } from "../../services/bus/adapters/memory.ts";
import { MemoryRouteRegistry } from "../../services/gateway/adapters/memory-routes.ts";
import { CachedDeviceStore } from "../../services/identity/adapters/cached-devices.ts";
import {
  SqliteDeviceStore,
  SqliteLoginCodeStore,
  SqliteRefreshTokenStore,
  SqliteUserStore,
} from "../../services/identity/adapters/sqlite.ts";
import type { DeviceStore, LoginCodeStore, RefreshTokenStore, UserStore } from "../../services/identity/ports.ts";
import { routedWrites } from "../../services/messaging/adapters/sqlite/routed-writes.ts";
import { inlineWrites, threadWrites } from "../../services/messaging/adapters/sqlite/writes.ts";
import {
  SqliteConversationStore,
  SqliteEventLog,
  SqliteGroupRetention,
  SqliteInviteLinkStore,
  SqliteJoinRequestStore,
  SqliteReceiptStore,
} from "../../services/messaging/adapters/sqlite.ts";
import { MemoryRateLimiter } from "../../services/shared/adapters/memory-rate-limit.ts";
import { createLogger } from "../../services/shared/logger.ts";
import type { ScratchKeyspace } from "../../services/storage/cassandra/scratch-keyspace.ts";
import type { BusAdapters, BusFactoryOptions, EventBusContractOptions } from "./bus.contract.ts";
import type { LinkTokenAdapters } from "./devices.contract.ts";
import { kafkaBusFixture, kafkaTestRetry, manualClock, redisRateLimitFixture, redisRoutesFixture } from "./engine-fixtures.ts";
import { type Cleanup, type ContractOptions, freshSqlite } from "./harness.ts";
import type { MessagingAdapters } from "./messaging.contract.ts";
import type { PresenceSettingsAdapters, PresenceStoreAdapters, SignalBusAdapters } from "./presence.contract.ts";
import {
  cassandraLinkTokens,
  cassandraPresenceSettings,
  memoryPresenceStore,
  memorySignalBuses,
  redisPresenceStore,
  redisSignalBuses,
  sqliteLinkTokens,
  sqlitePresenceSettings,
} from "./presence.fixtures.ts";
import type { PushAdapters } from "./push.contract.ts";
import type { RateLimitAdapters, RateLimiterContractOptions } from "./rate-limit.contract.ts";
import type { RouteAdapters } from "./routes.contract.ts";

/** Engine adapters (Cassandra, Redis, Kafka) join the suites only with PARLEY_ENGINES=1 (`npm run engines:up` first). */
const withEngines = process.env.PARLEY_ENGINES === "1";

export interface IdentityAdapters extends Cleanup {
  users: UserStore;
  codes: LoginCodeStore;
  devices: DeviceStore;
  refreshTokens: RefreshTokenStore;
}

export interface AdapterEntry<A, O = ContractOptions> {
  name: string;
  make: A;
  /** Options per port suite, keyed by the suite's port name. */
  options?: Record<string, O>;
}

/** The embedded identity stores; `devices` wraps the device store (the all-in-one process caches it). */
async function sqliteIdentity(devices: (store: SqliteDeviceStore) => DeviceStore = (store) => store) {
  const { db, cleanup } = freshSqlite();
  return {
    users: new SqliteUserStore(db),
    codes: new SqliteLoginCodeStore(db),
    devices: devices(new SqliteDeviceStore(db)),
    refreshTokens: new SqliteRefreshTokenStore(db),
    cleanup,
  };
}

export const identityAdapters: AdapterEntry<() => Promise<IdentityAdapters>>[] = [
  { name: "sqlite (node:sqlite, embedded)", make: () => sqliteIdentity() },
  {
    name: "sqlite with the all-in-one device cache",
    make: () => sqliteIdentity((store) => new CachedDeviceStore(store)),
  },
];

/**
 * The embedded messaging stores. Appends and receipts commit on the serving connection ("inline"),
 * in the write thread ("thread"), or routed between the two ("routed"; the all-in-one default),
 * here with the route changing at every write so that both paths and every switch are exercised.
 */
async function sqliteMessaging(writesOn: "inline" | "thread" | "routed"): Promise<MessagingAdapters> {
  const { db, path, cleanup } = freshSqlite();
  const users = new SqliteUserStore(db);
  const thread =
    writesOn === "inline" ? undefined : threadWrites({ path, sync: "normal", logger: createLogger({ level: "error" }) });
  let routed = 0;
  const alternating = {
    get offload() {
      return routed++ % 2 === 0;
    },
    stop() {},
  };
  const writes = !thread
    ? inlineWrites(db)
    : writesOn === "routed"
      ? routedWrites(inlineWrites(db), thread, alternating)
      : thread;
  return {
    conversations: new SqliteConversationStore(db),
    log: new SqliteEventLog(db, writes),
    receipts: new SqliteReceiptStore(db, writes),
    links: new SqliteInviteLinkStore(db),
    joinRequests: new SqliteJoinRequestStore(db),
    retention: new SqliteGroupRetention(db),
    // members.user_id references users(user_id), with foreign keys on.
    async seedUsers(userIds) {
      for (const userId of userIds) {
        await users.getOrCreate({ userId, phoneNumber: `phone-of-${userId}`, displayName: userId, createdAt: 0 });
      }
    },
    async cleanup() {
      await thread?.close();
      await cleanup();
    },
  };
}

export const messagingAdapters: AdapterEntry<() => Promise<MessagingAdapters>>[] = [
  { name: "sqlite (node:sqlite, embedded)", make: () => sqliteMessaging("inline") },
  { name: "sqlite with the write thread", make: () => sqliteMessaging("thread") },
  { name: "sqlite with writes routed to either (the all-in-one default)", make: () => sqliteMessaging("routed") },
];

/** One migrated Cassandra keyspace per test process (creating one takes seconds); cases use unique ids. */
let cassandraKeyspace: Promise<ScratchKeyspace> | undefined;
async function cassandraClient() {
  cassandraKeyspace ??= import("../../services/storage/cassandra/scratch-keyspace.ts").then((m) => m.openScratchKeyspace());
  return (await cassandraKeyspace).client;
}

if (withEngines) {
  after(async () => {
    if (cassandraKeyspace) await (await cassandraKeyspace).drop();
  });
  identityAdapters.push({
    name: "cassandra (cassandra-driver 4.10, Cassandra 5)",
    make: async () => {
      const client = await cassandraClient();
      const m = await import("../../services/identity/adapters/cassandra.ts");
      return {
        users: new m.CassandraUserStore(client),
        codes: new m.CassandraLoginCodeStore(client),
        devices: new m.CassandraDeviceStore(client),
        refreshTokens: new m.CassandraRefreshTokenStore(client),
        cleanup: async () => {},
      };
    },
  });
  messagingAdapters.push({
    name: "cassandra (cassandra-driver 4.10, Cassandra 5)",
    make: async () => {
      const client = await cassandraClient();
      const m = await import("../../services/messaging/adapters/cassandra.ts");
      return {
        conversations: new m.CassandraConversationStore(client),
        log: new m.CassandraEventLog(client),
        receipts: new m.CassandraReceiptStore(client),
        links: new m.CassandraInviteLinkStore(client),
        joinRequests: new m.CassandraJoinRequestStore(client),
        retention: new m.CassandraGroupRetention(client),
        // Cassandra checks no references: members need no user rows.
        seedUsers: async () => {},
        cleanup: async () => {},
      };
    },
  });
}

export interface BusEntry {
  name: string;
  make: (options: BusFactoryOptions) => Promise<BusAdapters>;
  options: EventBusContractOptions;
}

export const busAdapters: BusEntry[] = [
  {
    name: "memory (in-process)",
    make: async ({ logger, capacity }) => {
      const bus = createMemoryBus({ logger, capacity });
      return { bus, cleanup: () => bus.close() };
    },
    options: {
      // 1 is the smallest queue (it exposes races at close); 4 a more usual small one.
      backpressure: { capacities: [1, 4] },
      deadLetter: { skip: "the in-process bus has no dead-letter queue: it logs a failure and moves on" },
    },
  },
];

if (withEngines) {
  busAdapters.push({
    name: "kafka (kafkajs 2.2.4, Kafka 4 KRaft)",
    make: kafkaBusFixture,
    options: {
      backpressure: {
        skip: "Kafka's publish waits for the brokers' ack, not for consumers: the log absorbs a slow consumer (its lag grows)",
      },
      deadLetter: { attempts: kafkaTestRetry.attempts },
    },
  });
}

/** The embedded push stores; `cached` wraps devices and settings as the all-in-one process does. */
async function sqlitePush(cached: boolean): Promise<PushAdapters> {
  const { db, cleanup } = freshSqlite();
  const m = await import("../../services/push/adapters/sqlite.ts");
  const c = await import("../../services/push/adapters/cached.ts");
  const devices = new m.SqlitePushDeviceStore(db);
  const settings = new m.SqliteConversationSettingStore(db);
  return {
    devices: cached ? new c.CachedPushDeviceStore(devices) : devices,
    settings: cached ? new c.CachedConversationSettingStore(settings) : settings,
    outbox: new m.SqlitePushOutbox(db),
    deadLetters: new m.SqliteDeadLetterStore(db),
    cleanup,
  };
}

export const pushAdapters: AdapterEntry<() => Promise<PushAdapters>>[] = [
  { name: "sqlite (node:sqlite, embedded)", make: () => sqlitePush(false) },
  { name: "sqlite with the all-in-one caches", make: () => sqlitePush(true) },
  ...(withEngines
    ? [
        {
          name: "cassandra (cassandra-driver 4.10, Cassandra 5)",
          make: async (): Promise<PushAdapters> => {
            const client = await cassandraClient();
            const m = await import("../../services/push/adapters/cassandra.ts");
            return {
              devices: new m.CassandraPushDeviceStore(client),
              settings: new m.CassandraConversationSettingStore(client),
              outbox: new m.CassandraPushOutbox(client),
              deadLetters: new m.CassandraDeadLetterStore(client),
              cleanup: async () => {},
            };
          },
        },
        {
          name: "cassandra with the push process's caches (copies up to 10 s old)",
          make: async (): Promise<PushAdapters> => {
            const client = await cassandraClient();
            const m = await import("../../services/push/adapters/cassandra.ts");
            const c = await import("../../services/push/adapters/cached.ts");
            const maxAgeMs = 10_000;
            return {
              devices: new c.CachedPushDeviceStore(new m.CassandraPushDeviceStore(client), { maxAgeMs }),
              settings: new c.CachedConversationSettingStore(new m.CassandraConversationSettingStore(client), { maxAgeMs }),
              outbox: new m.CassandraPushOutbox(client),
              deadLetters: new m.CassandraDeadLetterStore(client),
              cleanup: async () => {},
            };
          },
        },
      ]
    : []),
];

export const routeAdapters: AdapterEntry<() => Promise<RouteAdapters>>[] = [
  {
    name: "memory (in-process, manual clock)",
    make: async () => {
      const { clock, wait } = manualClock();
      return { routes: new MemoryRouteRegistry(clock), wait, cleanup: async () => {} };
    },
  },
  ...(withEngines ? [{ name: "redis (ioredis, Redis 7)", make: redisRoutesFixture }] : []),
];

export interface RateLimiterEntry {
  name: string;
  make: () => Promise<RateLimitAdapters>;
  options: RateLimiterContractOptions;
}

export const rateLimiterAdapters: RateLimiterEntry[] = [
  {
    name: "memory (in-process, manual clock)",
    make: async () => {
      const { clock, wait } = manualClock();
      return { limiter: new MemoryRateLimiter({ clock }), wait, cleanup: async () => {} };
    },
    options: { exactClock: "controlled" },
  },
  ...(withEngines
    ? [
        {
          name: "redis (Lua, injected clock)",
          make: () => redisRateLimitFixture("manual"),
          options: { exactClock: "controlled" as const },
        },
        {
          name: "redis (Lua, Redis TIME)",
          make: () => redisRateLimitFixture("redis"),
          options: {
            exactClock: { skip: "the Redis server's clock cannot be moved; the injected-clock entry runs the same script" },
          },
        },
      ]
    : []),
];

const cassandraName = "cassandra (cassandra-driver 4.10, Cassandra 5)";

export const presenceStoreAdapters: AdapterEntry<() => Promise<PresenceStoreAdapters>>[] = [
  { name: "memory (in-process)", make: memoryPresenceStore },
  ...(withEngines ? [{ name: "redis (Lua, Redis 7)", make: redisPresenceStore }] : []),
];

export const signalBusAdapters: AdapterEntry<() => Promise<SignalBusAdapters>>[] = [
  { name: "memory (in-process)", make: memorySignalBuses },
  ...(withEngines ? [{ name: "redis (pub/sub, Redis 7)", make: redisSignalBuses }] : []),
];

export const presenceSettingsAdapters: AdapterEntry<() => Promise<PresenceSettingsAdapters>>[] = [
  { name: "sqlite (node:sqlite, embedded)", make: sqlitePresenceSettings },
  ...(withEngines ? [{ name: cassandraName, make: async () => cassandraPresenceSettings(await cassandraClient()) }] : []),
];

export const linkTokenAdapters: AdapterEntry<() => Promise<LinkTokenAdapters>>[] = [
  { name: "sqlite (node:sqlite, embedded)", make: sqliteLinkTokens },
  ...(withEngines ? [{ name: cassandraName, make: async () => cassandraLinkTokens(await cassandraClient()) }] : []),
];
