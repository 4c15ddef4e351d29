// The engines cluster under test: the launcher of scripts/cluster (1 identity, 1 messaging, 2
// gateways, 2 fanout workers, as `npm run cluster` starts it) on the running Cassandra, Kafka and
// Redis, all on the same machine. Its CPU is every Parley process plus the engines' own processes
// (found by their pidfiles), since on two cores they all compete. Accounts are signed in fresh per
// run with run-unique phone numbers (the shared keyspace keeps earlier runs' users).
import { execFileSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { bearer } from "../../clients/node/transport.ts";
import { ConversationService } from "../../gen/parley/v1/conversations_pb.js";
import { IdentityService } from "../../gen/parley/v1/identity_pb.js";
import { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import type { startCluster as StartCluster } from "../../scripts/cluster/launcher.ts";
import { coresOver } from "../core/meter.ts";
import { track } from "../core/processes.ts";
import { progress } from "../core/progress.ts";
import { scrapeHopAges } from "./hop-ages.ts";
import type { ServerOptions } from "./parley.ts";
import { codeBox, signInMany } from "./sign-in.ts";
import { serverRoot } from "./spawn-server.ts";
import type { Account, Target } from "./target.ts";

const engineRun = process.env.PARLEY_ENGINES_RUN ?? "/tmp/parley-engines";

/** An engine's process, from the pidfile the engines script writes; undefined when it is not running. */
export function enginePid(engine: "redis" | "cassandra" | "kafka"): number | undefined {
  try {
    const pid = Number(readFileSync(`${engineRun}/${engine}/${engine}.pid`, "utf8").trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The running engines' processes (one not running is simply not counted). */
function enginePids(): number[] {
  return (["redis", "cassandra", "kafka"] as const).map(enginePid).filter((pid): pid is number => pid !== undefined);
}

/** True when all three engines answer (scripts/engines/engines.sh status). */
export function enginesUp(): boolean {
  try {
    const status = execFileSync("bash", ["scripts/engines/engines.sh", "status"], { cwd: serverRoot(), encoding: "utf8" });
    return status.split("\n").filter((line) => /\bup\b/.test(line)).length >= 3;
  } catch {
    return false;
  }
}

function prepareEngines(): void {
  for (const script of ["cassandra:migrate", "kafka:topics"]) {
    progress("engines", { step: script });
    execFileSync("npm", ["run", "-s", script], { cwd: serverRoot(), stdio: ["ignore", "ignore", "inherit"] });
  }
}

export async function startEngines(options: ServerOptions): Promise<Target> {
  prepareEngines();
  const launcher = (await import(`${serverRoot()}scripts/cluster/launcher.ts`)) as { startCluster: typeof StartCluster };
  const box = codeBox();
  const cluster = await launcher.startCluster({
    messaging: 1,
    gateways: 2,
    fanout: 2,
    // Profiles (one per process, named by pid) through NODE_OPTIONS, since the launcher owns the command line.
    env: options.cpuProfileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${options.cpuProfileDir}/${options.name}` } : {},
    onLog: (name, entry) => {
      if (entry.msg === "dev mode: sign-in code") box.add(entry);
      else if (entry.level === "error") progress("server-log", { server: name, line: JSON.stringify(entry).slice(0, 300) });
    },
  });
  for (const p of cluster.processes.values()) track(p.child, `cluster-${p.name}`);
  const transport = (url: string) => createGrpcTransport({ baseUrl: url });
  const identity = createClient(IdentityService, transport(cluster.get("identity").url));
  const messagingTransport = transport(cluster.get("messaging-1").url);
  const conversations = createClient(ConversationService, messagingTransport);
  const messaging = createClient(MessagingService, messagingTransport);
  const runTag = String(randomInt(0, 10_000)).padStart(4, "0");
  let signedIn = 0;
  const serverPids = () => [...[...cluster.processes.values()].map((p) => p.child.pid as number), ...enginePids()];
  // The JVMs are never idle: "quiet" is measured against the cluster's own idle baseline.
  const idle = await coresOver(serverPids, 5_000);
  progress("engines", { step: "cluster up", idleCores: Math.round(idle * 100) / 100 });
  return {
    kind: "parley-engines",
    label: "Parley (engines cluster)",
    grpcUrls: cluster.urls("gateway"),
    wsUrl: undefined,
    quietCores: idle + 0.25,
    serverPids,
    heap: async () => undefined,
    hopAges: () => scrapeHopAges([...cluster.processes.values()].map((p) => p.metricsPort).filter((port) => port > 0)),
    async accounts(n) {
      const phones = Array.from({ length: n }, (_, i) => `+1998${runTag}${String(signedIn + i).padStart(6, "0")}`);
      signedIn += n;
      return signInMany({ identity, box, phones, label: "engines", concurrency: 16 });
    },
    async directs(pairs) {
      const ids: string[] = [];
      for (const [a, b] of pairs) {
        const res = await conversations.getOrCreateDirect({ peerUserId: b.userId }, { headers: bearer(a.accessToken) });
        ids.push(res.conversation?.conversationId ?? "");
      }
      return ids;
    },
    async group(owner: Account, members: Account[]) {
      const res = await conversations.createGroup(
        { name: "bench", memberUserIds: members.map((m) => m.userId), clientRequestId: `bench-${runTag}-${Date.now()}` },
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
    profiles: options.cpuProfileDir ? [`${options.cpuProfileDir}/${options.name}`] : [],
    async stop() {
      const names = new Map([...cluster.processes.values()].map((p) => [String(p.child.pid), p.name]));
      await cluster.stop();
      if (options.cpuProfileDir) nameProfiles(`${options.cpuProfileDir}/${options.name}`, names);
    },
  };
}

/** Node names profiles CPU.<date>.<time>.<pid>.<n>.cpuprofile; the cluster's names say more. */
function nameProfiles(dir: string, names: Map<string, string>): void {
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir)) {
    const pid = /^CPU\.\d+\.\d+\.(\d+)\./.exec(file)?.[1];
    const name = pid ? names.get(pid) : undefined;
    if (name) renameSync(`${dir}/${file}`, `${dir}/${name}.cpuprofile`);
  }
}
