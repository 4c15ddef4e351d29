// Starts Parley's distributed processes on this machine against running engines: one identity
// service, messaging instances, gateways, fanout workers and push, each its own Node process. Used by
// `npm run cluster` and by the engine suite, which kills and restarts processes through it.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { streamHolderNodeFlags } from "../../services/runtime/node-flags.ts";
import { spawnLogged } from "./spawn-logged.ts";

export type Role = "identity" | "messaging" | "gateway" | "fanout" | "push";

export interface ClusterProcess {
  name: string;
  role: Role;
  child: ChildProcess;
  url: string;
  metricsPort: number;
  /** The environment it was started with beyond the cluster's, so a restart can reuse it. */
  extraEnv: Record<string, string>;
  logs: Record<string, unknown>[];
  exited: Promise<number | string>;
}

export interface ClusterOptions {
  messaging?: number;
  gateways?: number;
  fanout?: number;
  /** Push processes (default 1). */
  push?: number;
  env?: Record<string, string>;
  /** Called with every log line of every process (for example to print them). */
  onLog?: (name: string, entry: Record<string, unknown>) => void;
}

export class Cluster {
  readonly processes = new Map<string, ClusterProcess>();
  readonly env: Record<string, string>;
  readonly #onLog: ClusterOptions["onLog"];

  constructor(env: Record<string, string>, onLog?: ClusterOptions["onLog"]) {
    this.env = env;
    this.#onLog = onLog;
  }

  urls(role: Role): string[] {
    return [...this.processes.values()].filter((p) => p.role === role && p.child.exitCode === null).map((p) => p.url);
  }

  get(name: string): ClusterProcess {
    const found = this.processes.get(name);
    if (!found) throw new Error(`no process named ${name}`);
    return found;
  }

  /** Every dev-mode sign-in code logged by the identity service, by phone number. */
  codes(): Map<string, string> {
    const codes = new Map<string, string>();
    for (const entry of this.processes.get("identity")?.logs ?? []) {
      if (entry.msg === "dev mode: sign-in code") codes.set(entry.phoneNumber as string, entry.code as string);
    }
    return codes;
  }

  async start(name: string, role: Role, extraEnv: Record<string, string> = {}): Promise<ClusterProcess> {
    const { child, listening, logs, exited } = await spawnLogged(
      `services/${role}/main.ts`,
      // The instance name tells spans of the two gateways apart in a trace.
      { ...this.env, OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${name}`, ...extraEnv },
      {
        onLog: (entry) => this.#onLog?.(name, entry),
        supervised: true,
        nodeFlags: role === "gateway" ? streamHolderNodeFlags : [],
      },
    );
    const url = listening.url as string;
    const metricsPort = (listening.metricsPort as number | undefined) ?? -1;
    const started = { name, role, child, url, metricsPort, extraEnv, logs, exited };
    this.processes.set(name, started);
    return started;
  }

  /** Starts a process again under its name, with the environment it had. */
  restart(name: string): Promise<ClusterProcess> {
    const previous = this.get(name);
    return this.start(name, previous.role, previous.extraEnv);
  }

  /** Reads one Prometheus sample (summed over labels; only samples with `label`, e.g. `hop="offered"`, if given) from a process's /metrics. */
  async metric(name: string, metric: string, label?: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.get(name).metricsPort}/metrics`)).text();
    let total = 0;
    for (const line of text.split("\n")) {
      if (!(line.startsWith(`${metric} `) || line.startsWith(`${metric}{`))) continue;
      if (label && !line.slice(0, line.lastIndexOf(" ")).includes(label)) continue;
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return total;
  }

  async kill(name: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const target = this.get(name);
    target.child.kill(signal);
    await target.exited;
  }

  async stop(): Promise<void> {
    // Gateways first (their devices get GoAway), then workers, then the services they call.
    for (const role of ["gateway", "fanout", "push", "messaging", "identity"] as const) {
      await Promise.all(
        [...this.processes.values()]
          .filter((p) => p.role === role && p.child.exitCode === null && p.child.signalCode === null)
          .map(async (p) => {
            p.child.kill("SIGTERM");
            const timer = setTimeout(() => p.child.kill("SIGKILL"), 10_000);
            await p.exited;
            clearTimeout(timer);
          }),
      );
    }
  }
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const env = {
    PARLEY_TOKEN_SECRET: randomBytes(32).toString("base64"),
    PARLEY_DEV_MODE: "true",
    PARLEY_METRICS_PORT: "0",
    PARLEY_EXIT_WITH_PARENT: "1",
    ...options.env,
  };
  const cluster = new Cluster(env, options.onLog);
  try {
    await cluster.start("identity", "identity");
    for (let i = 1; i <= (options.messaging ?? 1); i++) await cluster.start(`messaging-${i}`, "messaging");
    const messagingUrls = cluster.urls("messaging").join(",");
    for (let i = 1; i <= (options.gateways ?? 2); i++) {
      await cluster.start(`gateway-${i}`, "gateway", { PARLEY_MESSAGING_URLS: messagingUrls });
    }
    for (let i = 1; i <= (options.fanout ?? 2); i++) await cluster.start(`fanout-${i}`, "fanout");
    for (let i = 1; i <= (options.push ?? 1); i++) await cluster.start(`push-${i}`, "push");
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
