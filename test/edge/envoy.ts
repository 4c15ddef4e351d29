// Starts the real Envoy (from scripts/edge/install.sh) with a rendered config, for the edge tests.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { ParleyClients } from "../../clients/node/transport.ts";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ConversationService } from "../../gen/parley/v1/conversations_pb.js";
import { IdentityService } from "../../gen/parley/v1/identity_pb.js";
import { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import { SessionService } from "../../gen/parley/v1/session_pb.js";
import { type EdgeSettings, edgeRunDir, envoyBinary, settingsFromEnv, writeEnvoyConfig } from "../../scripts/edge/render.ts";
import { eventuallyAsync } from "../helpers/parley.ts";

/** The dev CA made by scripts/edge/certs.sh. */
export const devCa = (): Buffer => readFileSync(join(edgeRunDir(), "ca.pem"));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const address = server.address();
  await new Promise((ok) => server.close(ok));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Typed clients over gRPC with TLS through the edge, trusting the dev CA. */
export function edgeClients(baseUrl: string, ca: Buffer): ParleyClients {
  const transport = createGrpcTransport({ baseUrl, nodeOptions: { ca } });
  return {
    identity: createClient(IdentityService, transport),
    conversations: createClient(ConversationService, transport),
    messaging: createClient(MessagingService, transport),
    session: createClient(SessionService, transport),
    health: createClient(Health, transport),
  };
}

export interface Envoy {
  child: ChildProcess;
  port: number;
  /** https://127.0.0.1:PORT */
  url: string;
  configPath: string;
  clients: ParleyClients;
  output: string[];
  stop(): Promise<void>;
}

/**
 * Renders the template for one upstream Parley (gRPC port, WebSocket port) and starts Envoy on a
 * free port; resolves once a health check through the edge answers SERVING.
 */
export async function startEnvoy(options: { name: string; grpcPort: number; wsPort: number } & Partial<EdgeSettings>) {
  const port = await freePort();
  const { name, ...overrides } = options;
  const settings: EdgeSettings = { ...settingsFromEnv(), listenPort: port, healthCheckInterval: "1s", ...overrides };
  const configPath = writeEnvoyConfig(settings, join(edgeRunDir(), `envoy-test-${process.pid}-${name}.yaml`));
  const output: string[] = [];
  const child = spawn(envoyBinary(), ["-c", configPath, "--use-dynamic-base-id", "--log-level", "warn"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d) => output.push(String(d)));
  child.stderr?.on("data", (d) => output.push(String(d)));
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  const url = `https://127.0.0.1:${port}`;
  const clients = edgeClients(url, devCa());
  try {
    await eventuallyAsync(
      `envoy ${name} ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`envoy exited ${child.exitCode}:\n${output.join("")}`);
        try {
          const res = await clients.health.check({ service: "" }, { timeoutMs: 1_000 });
          return res.status === HealthCheckResponse_ServingStatus.SERVING;
        } catch {
          return false;
        }
      },
      20_000,
    );
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  const envoy: Envoy = {
    child,
    port,
    url,
    configPath,
    clients,
    output,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(configPath, { force: true });
    },
  };
  return envoy;
}
