// What a scenario needs from the system under test: where devices connect, which processes to
// meter, accounts to sign devices in with, and conversations among them. Implemented by the
// embedded Parley server, the Parley engines cluster and the bare relay baseline.

import type { HopAges } from "./hop-ages.ts";

export interface Account {
  userId: string;
  deviceId: string;
  accessToken: string;
}

export type TargetKind = "parley" | "parley-engines" | "relay";

export interface Target {
  kind: TargetKind;
  /** Human-readable, for tables and progress. */
  label: string;
  /** gRPC endpoints devices connect to (several gateways in the cluster; devices spread over them). */
  grpcUrls: string[];
  /** ws://host:port/v1/session, when the target serves the WebSocket stream. */
  wsUrl: string | undefined;
  /** The server's Prometheus port, when it has one. */
  metricsPort?: number;
  /** Below this CPU use (cores) the server counts as quiet between steps. */
  quietCores: number;
  /** Processes whose CPU and RSS count as the server's. */
  serverPids(): number[];
  /** The server's JS heap (used, total) from its metrics endpoint, when it has one. */
  heap(): Promise<{ usedBytes: number; totalBytes: number } | undefined>;
  /** n signed-in devices, each of its own user. */
  accounts(n: number): Promise<Account[]>;
  /** The direct conversation of each pair (created as the first account of the pair). */
  directs(pairs: [Account, Account][]): Promise<string[]>;
  group(owner: Account, members: Account[]): Promise<string>;
  /** Stores messages through the unary SendMessage (seeding history, not measured). */
  sendUnary(from: Account, conversationId: string, clientMessageId: string, body: string): Promise<void>;
  /** The server's per-hop message ages (Parley's), to difference around a step. */
  hopAges?(): Promise<HopAges>;
  /** Where the server's CPU profile went, when --cpu-prof is on. */
  profiles: string[];
  stop(): Promise<void>;
}
