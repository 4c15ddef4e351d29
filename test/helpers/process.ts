// Runs `node services/all-in-one/main.ts` as a real child process, reading its structured log
// for the listening port and the dev-mode sign-in codes.
import type { ChildProcess } from "node:child_process";
import { createParleyClients, type ParleyClients } from "../../clients/node/transport.ts";
import { spawnLogged } from "../../scripts/cluster/spawn-logged.ts";

export interface ParleyProcess {
  child: ChildProcess;
  url: string;
  port: number;
  metricsPort: number;
  /** The WebSocket device-stream port. */
  wsPort: number;
  clients: ParleyClients;
  codes: Map<string, string>;
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): Promise<number | string>;
}

export async function spawnParley(options: {
  dataDir: string;
  port?: number;
  env?: Record<string, string>;
}): Promise<ParleyProcess> {
  const codes = new Map<string, string>();
  const { child, listening, logs, exited } = await spawnLogged(
    "services/all-in-one/main.ts",
    {
      PARLEY_DATA_DIR: options.dataDir,
      PARLEY_PORT: String(options.port ?? 0),
      PARLEY_METRICS_PORT: "0",
      PARLEY_WS_PORT: "0",
      PARLEY_LOG_LEVEL: "info",
      ...options.env,
    },
    { onLog: (entry) => entry.msg === "dev mode: sign-in code" && codes.set(entry.phoneNumber as string, entry.code as string) },
  );
  const port = listening.port as number;
  const url = `http://127.0.0.1:${port}`;
  return {
    child,
    url,
    port,
    metricsPort: listening.metricsPort as number,
    wsPort: listening.wsPort as number,
    clients: createParleyClients(url),
    codes,
    logs,
    exited,
    kill(signal) {
      child.kill(signal);
      return exited;
    },
  };
}
