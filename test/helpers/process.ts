// Runs `node services/all-in-one/main.ts` as a real child process, reading its structured log
// for the listening port and the dev-mode sign-in codes.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { createParleyClients, type ParleyClients } from "../../clients/node/transport.ts";

export interface ParleyProcess {
  child: ChildProcess;
  url: string;
  port: number;
  metricsPort: number;
  clients: ParleyClients;
  codes: Map<string, string>;
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): Promise<number | string>;
}

const root = new URL("../../", import.meta.url).pathname;

export async function spawnParley(options: {
  dataDir: string;
  port?: number;
  env?: Record<string, string>;
}): Promise<ParleyProcess> {
  const child = spawn(process.execPath, ["services/all-in-one/main.ts"], {
    cwd: root,
    env: {
      ...process.env,
      PARLEY_DATA_DIR: options.dataDir,
      PARLEY_PORT: String(options.port ?? 0),
      PARLEY_METRICS_PORT: "0",
      PARLEY_LOG_LEVEL: "info",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const codes = new Map<string, string>();
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code ?? -1)));
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === "dev mode: sign-in code") codes.set(entry.phoneNumber as string, entry.code as string);
      if (entry.msg === "parley listening") resolve(entry);
    });
    exited.then((code) => reject(new Error(`parley exited (${code}) before listening: ${stderr}`)));
  });
  const ready = await listening;
  const port = ready.port as number;
  const url = `http://127.0.0.1:${port}`;
  const clients = createParleyClients(url);
  return {
    child,
    url,
    port,
    metricsPort: ready.metricsPort as number,
    clients,
    codes,
    logs,
    exited,
    kill(signal) {
      child.kill(signal);
      return exited;
    },
  };
}
