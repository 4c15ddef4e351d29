// Fills envoy/envoy.yaml's ${NAME} placeholders and writes the result to the edge run folder.
// CLI: `node scripts/edge/render.ts [out.yaml]` reads PARLEY_* / PARLEY_EDGE_* and prints the path.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const templatePath = join(repoRoot, "envoy/envoy.yaml");

/** ${PARLEY_EDGE_CACHE:-~/.cache/parley-edge}: the Envoy virtualenv and the run folder live here. */
export function edgeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PARLEY_EDGE_CACHE || join(homedir(), ".cache/parley-edge");
}

/** Certificates and rendered configs (never inside the repository). */
export function edgeRunDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PARLEY_EDGE_RUN_DIR || join(edgeCacheDir(env), "run");
}

export function envoyBinary(env: NodeJS.ProcessEnv = process.env): string {
  return join(edgeCacheDir(env), "venv/bin/envoy");
}

export interface EdgeSettings {
  listenHost: string;
  listenPort: number;
  upstreamHost: string;
  grpcPort: number;
  wsPort: number;
  certChain: string;
  privateKey: string;
  webOrigin: string;
  /** Envoy duration, e.g. "120s"; must stay above 3 x PARLEY_HEARTBEAT_MS (see docs/edge.md). */
  streamIdleTimeout: string;
  unaryTimeout: string;
  healthCheckInterval: string;
  maxStreams: number;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): EdgeSettings {
  const run = edgeRunDir(env);
  const port = (name: string, fallback: number) => {
    const raw = env[name];
    const value = raw === undefined || raw === "" ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port, got "${raw}"`);
    return value;
  };
  return {
    listenHost: env.PARLEY_EDGE_HOST || "127.0.0.1",
    listenPort: port("PARLEY_EDGE_PORT", 8443),
    upstreamHost: env.PARLEY_EDGE_UPSTREAM_HOST || "127.0.0.1",
    grpcPort: port("PARLEY_PORT", 50051),
    wsPort: port("PARLEY_WS_PORT", 50052),
    certChain: env.PARLEY_EDGE_CERT || join(run, "server.pem"),
    privateKey: env.PARLEY_EDGE_KEY || join(run, "server.key"),
    webOrigin: env.PARLEY_EDGE_WEB_ORIGIN || "https://localhost:5173",
    streamIdleTimeout: env.PARLEY_EDGE_STREAM_IDLE_TIMEOUT || "120s",
    unaryTimeout: env.PARLEY_EDGE_UNARY_TIMEOUT || "30s",
    healthCheckInterval: env.PARLEY_EDGE_HEALTH_CHECK_INTERVAL || "5s",
    maxStreams: Number(env.PARLEY_EDGE_MAX_STREAMS || 100_000),
  };
}

/** The template with every placeholder replaced; an unknown or missing placeholder is an error. */
export function renderEnvoyConfig(settings: EdgeSettings, template = readFileSync(templatePath, "utf8")): string {
  const values: Record<string, string | number> = {
    LISTEN_HOST: settings.listenHost,
    LISTEN_PORT: settings.listenPort,
    UPSTREAM_HOST: settings.upstreamHost,
    GRPC_PORT: settings.grpcPort,
    WS_PORT: settings.wsPort,
    CERT_CHAIN: settings.certChain,
    PRIVATE_KEY: settings.privateKey,
    WEB_ORIGIN: settings.webOrigin,
    STREAM_IDLE_TIMEOUT: settings.streamIdleTimeout,
    UNARY_TIMEOUT: settings.unaryTimeout,
    HEALTH_CHECK_INTERVAL: settings.healthCheckInterval,
    MAX_STREAMS: settings.maxStreams,
  };
  // Comment lines document the placeholders; only the configuration itself is filled in.
  return template
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
      if (!(name in values)) throw new Error(`envoy template: unknown placeholder \${${name}}`);
      return String(values[name]);
    });
}

/** Renders into `out` (default: <run dir>/envoy.yaml) and returns the path. */
export function writeEnvoyConfig(settings: EdgeSettings, out = join(edgeRunDir(), "envoy.yaml")): string {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, renderEnvoyConfig(settings));
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(writeEnvoyConfig(settingsFromEnv(), process.argv[2]));
}
