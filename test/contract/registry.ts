// The adapters every port contract runs against. A new adapter (Cassandra, Kafka, Redis) is added
// here with a factory that builds fresh adapters per test and cleans them up; its entry may list
// knownIssues (case title -> bug) while a case fails, and must give reasons for skipped cases.
import { createMemoryBus } from "../../services/bus/adapters/memory.ts";
import {
  SqliteDeviceStore,
  SqliteLoginCodeStore,
  SqliteRefreshTokenStore,
  SqliteUserStore,
} from "../../services/identity/adapters/sqlite.ts";
import type { DeviceStore, LoginCodeStore, RefreshTokenStore, UserStore } from "../../services/identity/ports.ts";
import { SqliteConversationStore, SqliteEventLog, SqliteReceiptStore } from "../../services/messaging/adapters/sqlite.ts";
import type { BusAdapters, BusFactoryOptions, EventBusContractOptions } from "./bus.contract.ts";
import { type Cleanup, type ContractOptions, freshSqlite } from "./harness.ts";
import type { MessagingAdapters } from "./messaging.contract.ts";

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

export const identityAdapters: AdapterEntry<() => Promise<IdentityAdapters>>[] = [
  {
    name: "sqlite (node:sqlite, embedded)",
    make: async () => {
      const { db, cleanup } = freshSqlite();
      return {
        users: new SqliteUserStore(db),
        codes: new SqliteLoginCodeStore(db),
        devices: new SqliteDeviceStore(db),
        refreshTokens: new SqliteRefreshTokenStore(db),
        cleanup,
      };
    },
  },
];

export const messagingAdapters: AdapterEntry<() => Promise<MessagingAdapters>>[] = [
  {
    name: "sqlite (node:sqlite, embedded)",
    make: async () => {
      const { db, cleanup } = freshSqlite();
      const users = new SqliteUserStore(db);
      return {
        conversations: new SqliteConversationStore(db),
        log: new SqliteEventLog(db),
        receipts: new SqliteReceiptStore(db),
        // members.user_id references users(user_id), with foreign keys on.
        async seedUsers(userIds) {
          for (const userId of userIds) {
            await users.getOrCreate({ userId, phoneNumber: `phone-of-${userId}`, displayName: userId, createdAt: 0 });
          }
        },
        cleanup,
      };
    },
  },
];

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
    },
  },
];
