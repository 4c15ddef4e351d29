// Presence adapters of the all-in-one process: streams in memory, signals in process, settings
// in the embedded SQLite store, membership from the embedded conversation store.
import type { DatabaseSync } from "node:sqlite";
import type { ConversationStore } from "../messaging/ports.ts";
import { MemoryRateLimiter } from "../shared/adapters/memory-rate-limit.ts";
import type { Clock } from "../shared/clock.ts";
import { conversationDirectory } from "./adapters/conversation-directory.ts";
import { MemoryPresenceStore } from "./adapters/memory-presence.ts";
import { MemorySignalBus } from "./adapters/memory-signals.ts";
import { SqlitePresenceSettingsStore } from "./adapters/sqlite-settings.ts";
import type { PresenceAdapters } from "./compose.ts";

export function embeddedPresenceAdapters(db: DatabaseSync, conversations: ConversationStore, clock: Clock): PresenceAdapters {
  return {
    store: new MemoryPresenceStore(),
    settings: new SqlitePresenceSettingsStore(db),
    directory: conversationDirectory(conversations),
    signals: new MemorySignalBus(),
    limiter: new MemoryRateLimiter({ clock }),
  };
}
