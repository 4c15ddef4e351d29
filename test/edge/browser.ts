// The web client (clients/web) in headless Chromium, for the edge tests: its static server and a
// browser profile that trusts the dev CA.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { edgeRunDir, repoRoot } from "../../scripts/edge/render.ts";
import { tempDataDir } from "../helpers/parley.ts";
import { type ParleyProcess, spawnParley } from "../helpers/process.ts";
import { type Envoy, freePort, startEnvoy } from "./envoy.ts";

// playwright-core lives in clients/web's own node_modules; only the calls used here are typed.
export interface Locator {
  waitFor(options?: { state?: "visible" | "attached"; timeout?: number }): Promise<void>;
  click(): Promise<void>;
  fill(value: string): Promise<void>;
  textContent(): Promise<string | null>;
  count(): Promise<number>;
}
export interface Page {
  goto(url: string): Promise<unknown>;
  locator(selector: string, options?: { hasText?: string }): Locator;
  /** Evaluates a JavaScript expression in the page (a string, so the root type check needs no DOM types). */
  evaluate(expression: string): Promise<unknown>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  on(event: "console" | "pageerror", listener: (value: { toString(): string }) => void): void;
}
export interface Browser {
  newContext(options?: { viewport?: { width: number; height: number } }): Promise<{ newPage(): Promise<Page> }>;
  close(): Promise<void>;
}
export interface Playwright {
  chromium: {
    launch(options: {
      executablePath: string;
      headless: boolean;
      env?: Record<string, string>;
      args?: string[];
    }): Promise<Browser>;
  };
}

export const webDir = join(repoRoot, "clients/web");
export const dist = join(webDir, "dist");
export const shots = join(repoRoot, "test-results/web");

/** Serves clients/web/dist over HTTPS with the edge's dev certificate (valid for localhost). */
export async function serveClient(port: number): Promise<Server> {
  const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
  const server = createServer(
    { cert: readFileSync(join(edgeRunDir(), "server.pem")), key: readFileSync(join(edgeRunDir(), "server.key")) },
    (req, res) => {
      const path = new URL(req.url ?? "/", "https://localhost").pathname;
      const file = join(dist, normalize(path === "/" ? "/index.html" : path));
      if (!file.startsWith(dist) || !existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
    },
  );
  await new Promise<void>((ok) => server.listen(port, "127.0.0.1", ok));
  return server;
}

/** A HOME whose ~/.pki/nssdb trusts the dev CA: Chromium on Linux reads its trust store there. */
export function homeTrustingDevCa(): string {
  const home = mkdtempSync(join(tmpdir(), "parley-web-home-"));
  const db = join(home, ".pki/nssdb");
  mkdirSync(db, { recursive: true });
  execFileSync("certutil", ["-d", `sql:${db}`, "-N", "--empty-password"]);
  execFileSync("certutil", [
    "-d",
    `sql:${db}`,
    "-A",
    "-t",
    "C,,",
    "-n",
    "Parley dev edge CA",
    "-i",
    join(edgeRunDir(), "ca.pem"),
  ]);
  return home;
}

export interface WebStack {
  parley: ParleyProcess;
  edge: Envoy;
  /** The origin the built client is served from (and the edge's allowed CORS origin). */
  siteOrigin: string;
  browser: Browser;
  stop(): Promise<void>;
}

/** Parley, Envoy allowing the client's origin, the built client over HTTPS, and headless Chromium. */
export async function startWebStack(name: string): Promise<WebStack> {
  assert.ok(existsSync(join(dist, "index.html")), "clients/web/dist is missing: run bash scripts/edge/web.sh");
  const sitePort = await freePort();
  const siteOrigin = `https://localhost:${sitePort}`;
  const parley = await spawnParley({ dataDir: tempDataDir() });
  const edge = await startEnvoy({ name, grpcPort: parley.port, wsPort: parley.wsPort, webOrigin: siteOrigin });
  const site = await serveClient(sitePort);
  const { chromium } = createRequire(join(webDir, "package.json"))("playwright-core") as Playwright;
  const browserHome = homeTrustingDevCa();
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    env: { ...(process.env as Record<string, string>), HOME: browserHome },
  });
  mkdirSync(shots, { recursive: true });
  return {
    parley,
    edge,
    siteOrigin,
    browser,
    async stop() {
      await browser.close();
      await new Promise((ok) => site.close(ok));
      await edge.stop();
      await parley.kill("SIGTERM");
      rmSync(browserHome, { recursive: true, force: true });
    },
  };
}
