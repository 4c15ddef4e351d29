// The embedded default under test: `node services/all-in-one/main.ts` in its own process, with the
// node flags of `npm start`, on a fresh copy of the seeded data directory, with its production
// defaults except ports (free ones) and the seed's token lifetime. --cpu-prof makes it write a .cpuprofile when it stops.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { bearer } from "../../clients/node/transport.ts";
import { ConversationService } from "../../gen/parley/v1/conversations_pb.js";
import { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import { stopChild } from "../core/processes.ts";
import { scrapeHopAges } from "./hop-ages.ts";
import { metricsHeap } from "./metrics.ts";
import { embeddedSeed, seedEnv } from "./seed.ts";
import { serverRoot, spawnServer } from "./spawn-server.ts";
import type { Account, Target } from "./target.ts";

export interface ServerOptions {
  /** Directory for .cpuprofile files; undefined = no profiling. */
  cpuProfileDir?: string;
  /** Directory for heap snapshots taken on SIGUSR2; undefined = none. */
  heapSnapshotDir?: string;
  /** Profile and snapshot file names start with this. */
  name: string;
  env?: Record<string, string>;
}

export function profilingFlags(options: ServerOptions): string[] {
  const flags: string[] = [];
  if (options.cpuProfileDir) {
    flags.push("--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`, `--cpu-prof-name=${options.name}.cpuprofile`);
  }
  if (options.heapSnapshotDir) flags.push("--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${options.heapSnapshotDir}`);
  return flags;
}

/**
 * The node flags `npm start` gives the server (the `start` script of the server's package.json),
 * so the bench runs it as users do, and a --server-rev run as that revision did.
 */
function startFlags(): string[] {
  const manifest = JSON.parse(readFileSync(join(serverRoot(), "package.json"), "utf8")) as { scripts?: { start?: string } };
  const words = (manifest.scripts?.start ?? "").split(/\s+/);
  const entry = words.indexOf("services/all-in-one/main.ts");
  if (words[0] !== "node" || entry < 0)
    throw new Error(`npm start is not "node [flags] services/all-in-one/main.ts": ${words.join(" ")}`);
  return words.slice(1, entry).filter((word) => word.startsWith("--"));
}

/** Starts the embedded server with `accountsNeeded` signed-in devices available. */
export async function startParley(accountsNeeded: number, options: ServerOptions): Promise<Target> {
  const seed = await embeddedSeed(accountsNeeded);
  const server = await spawnServer({
    name: `parley-${options.name}`,
    entry: "services/all-in-one/main.ts",
    env: { ...seedEnv(seed.dataDir), ...options.env },
    nodeFlags: [...startFlags(), ...profilingFlags(options)],
  });
  const url = `http://127.0.0.1:${server.listening.port}`;
  const transport = createGrpcTransport({ baseUrl: url });
  const conversations = createClient(ConversationService, transport);
  const messaging = createClient(MessagingService, transport);
  const metricsPort = server.listening.metricsPort as number;
  let handed = 0;
  const pid = server.child.pid as number;
  return {
    kind: "parley",
    label: "Parley (embedded)",
    metricsPort,
    grpcUrls: [url],
    wsUrl: `ws://127.0.0.1:${server.listening.wsPort}/v1/session`,
    quietCores: 0.15,
    serverPids: () => [pid],
    heap: () => metricsHeap(metricsPort),
    hopAges: () => scrapeHopAges([metricsPort]),
    async accounts(n) {
      // Each call hands out accounts nobody in this server's run has used yet.
      const slice = seed.accounts.slice(handed, handed + n);
      if (slice.length < n) throw new Error(`only ${seed.accounts.length} seeded accounts; asked for ${handed + n}`);
      handed += n;
      return slice;
    },
    async directs(pairs) {
      const ids: string[] = new Array(pairs.length);
      let next = 0;
      const lane = async () => {
        while (next < pairs.length) {
          const i = next++;
          const [a, b] = pairs[i] as [Account, Account];
          const res = await conversations.getOrCreateDirect({ peerUserId: b.userId }, { headers: bearer(a.accessToken) });
          ids[i] = res.conversation?.conversationId ?? "";
        }
      };
      await Promise.all(Array.from({ length: Math.min(16, pairs.length) }, lane));
      return ids;
    },
    async group(owner, members) {
      const res = await conversations.createGroup(
        {
          name: `bench ${members.length + 1}`,
          memberUserIds: members.map((m) => m.userId),
          clientRequestId: `bench-${Date.now()}`,
        },
        { headers: bearer(owner.accessToken) },
      );
      return res.conversation?.conversationId ?? "";
    },
    async sendUnary(from, conversationId, clientMessageId, body) {
      await messaging.sendMessage(
        { conversationId, clientMessageId, content: { kind: { case: "text", value: { body } } } },
        { headers: bearer(from.accessToken) },
      );
    },
    profiles: options.cpuProfileDir ? [join(options.cpuProfileDir, `${options.name}.cpuprofile`)] : [],
    async stop() {
      await stopChild(server.child);
      rmSync(seed.dataDir, { recursive: true, force: true });
    },
  };
}
