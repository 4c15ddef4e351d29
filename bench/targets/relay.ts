// The bare relay baseline (bench/relay/) as a target: its own process, synthetic accounts (it has
// no sign-in), memberships told to it over IPC. It stores nothing, so it has no history to sync.
import { fork } from "node:child_process";
import { join } from "node:path";
import { stopChild, track } from "../core/processes.ts";
import { profilingFlags, type ServerOptions } from "./parley.ts";
import type { Account, Target } from "./target.ts";

const entry = new URL("../relay/main.ts", import.meta.url).pathname;

export async function startRelay(options: ServerOptions): Promise<Target> {
  const child = fork(entry, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: profilingFlags(options) });
  track(child, `relay-${options.name}`);
  const ports = await new Promise<{ grpcPort: number; wsPort: number }>((resolve, reject) => {
    child.once("message", (message: { grpcPort: number; wsPort: number }) => resolve(message));
    child.once("exit", (code) => reject(new Error(`relay exited (${code}) before listening`)));
  });
  const waiting = new Map<number, () => void>();
  child.on("message", (message: { id?: number }) => {
    if (message.id !== undefined) {
      waiting.get(message.id)?.();
      waiting.delete(message.id);
    }
  });
  let nextId = 1;
  let conversations = 0;
  let users = 0;
  const register = (userIds: string[]) => {
    const id = nextId++;
    const conversationId = `c${++conversations}`;
    return new Promise<string>((resolve) => {
      waiting.set(id, () => resolve(conversationId));
      child.send({ id, conversationId, userIds });
    });
  };
  return {
    kind: "relay",
    label: "bare relay",
    grpcUrls: [`http://127.0.0.1:${ports.grpcPort}`],
    wsUrl: `ws://127.0.0.1:${ports.wsPort}/v1/session`,
    quietCores: 0.1,
    serverPids: () => (child.pid ? [child.pid] : []),
    heap: async () => undefined,
    async accounts(n) {
      return Array.from({ length: n }, () => {
        const i = ++users;
        return { userId: `u${i}`, deviceId: `d${i}`, accessToken: `relay.u${i}.d${i}` } satisfies Account;
      });
    },
    directs: (pairs) => Promise.all(pairs.map(([a, b]) => register([a.userId, b.userId]))),
    group: (owner, members) => register([owner.userId, ...members.map((m) => m.userId)]),
    async sendUnary() {
      throw new Error("the relay stores nothing: it has no history to seed");
    },
    profiles: options.cpuProfileDir ? [join(options.cpuProfileDir, `${options.name}.cpuprofile`)] : [],
    stop: () => stopChild(child),
  };
}
