// A local stand-in for APNs over HTTP/2 (cleartext h2c here; APNs itself is TLS-only). It checks
// each request as APNs would (the ES256 provider token against the key's public half, kid and
// iss; path, apns-* headers and the JSON payload) and answers as APNs does, or as scripted.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { type Answer, readBody, Script } from "./answers.ts";

export interface ApnsPayload {
  title: string;
  body: string;
  sound: string | undefined;
  priority: string;
  collapseId: string;
  data: Record<string, unknown>;
}

export interface FakeApns {
  url: string;
  keyFile: string;
  keyId: string;
  teamId: string;
  topic: string;
  script: Script<ApnsPayload>;
  close(): Promise<void>;
}

export const apns = {
  unregistered: (): Answer => ({ status: 410, body: { reason: "Unregistered", timestamp: Date.now() } }),
  badDeviceToken: (): Answer => ({ status: 400, body: { reason: "BadDeviceToken" } }),
  throttled: (retryAfterSeconds?: number): Answer => ({
    status: 429,
    body: { reason: "TooManyRequests" },
    ...(retryAfterSeconds === undefined ? {} : { headers: { "retry-after": String(retryAfterSeconds) } }),
  }),
  unavailable: (): Answer => ({ status: 503, body: { reason: "ServiceUnavailable" } }),
  internal: (): Answer => ({ status: 500, body: { reason: "InternalServerError" } }),
  expiredProviderToken: (): Answer => ({ status: 403, body: { reason: "ExpiredProviderToken" } }),
  badPayload: (): Answer => ({ status: 400, body: { reason: "PayloadEmpty" } }),
};

export async function startFakeApns(dir: string): Promise<FakeApns> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const keyId = randomBytes(5).toString("hex").toUpperCase();
  const teamId = "TEAM123456";
  const topic = "chat.parley.ios";
  const script = new Script<ApnsPayload>();
  const keyFile = join(dir, `AuthKey_${keyId}.p8`);
  writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }));

  const respond = (stream: ServerHttp2Stream, answer: Answer) => {
    stream.respond({ ":status": answer.status, "apns-id": randomBytes(16).toString("hex"), ...answer.headers });
    stream.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
  };

  async function check(headers: IncomingHttpHeaders, raw: Buffer): Promise<string | { key: string; payload: ApnsPayload }> {
    if (headers[":method"] !== "POST") return "method";
    const match = /^\/3\/device\/([0-9a-f]{64,200})$/.exec(String(headers[":path"]));
    if (!match) return `path ${headers[":path"]}`;
    const jwt = String(headers.authorization ?? "").replace(/^bearer /, "");
    try {
      const header = decodeProtectedHeader(jwt);
      if (header.alg !== "ES256" || header.kid !== keyId) return `token header ${JSON.stringify(header)}`;
      const { payload } = await jwtVerify(jwt, publicKey, { algorithms: ["ES256"], issuer: teamId });
      if (typeof payload.iat !== "number" || Math.abs(payload.iat - Date.now() / 1000) > 3600) return "iat";
    } catch (error) {
      return `provider token: ${String(error)}`;
    }
    if (headers["apns-topic"] !== topic) return `apns-topic ${headers["apns-topic"]}`;
    if (headers["apns-push-type"] !== "alert") return "apns-push-type";
    if (!["5", "10"].includes(String(headers["apns-priority"]))) return "apns-priority";
    if (!/^\d+$/.test(String(headers["apns-expiration"])) || Number(headers["apns-expiration"]) * 1000 < Date.now())
      return "apns-expiration";
    const collapseId = String(headers["apns-collapse-id"] ?? "");
    if (Buffer.byteLength(collapseId) > 64) return "apns-collapse-id over 64 bytes";
    if (raw.length > 4096) return "payload over 4 KiB";
    let body: { aps?: { alert?: { title?: string; body?: string }; sound?: string } } & Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      return "payload is not JSON";
    }
    const alert = body.aps?.alert;
    if (typeof alert?.title !== "string" || typeof alert.body !== "string") return "aps.alert";
    const { aps: _aps, ...data } = body;
    return {
      key: match[1] as string,
      payload: {
        title: alert.title,
        body: alert.body,
        sound: body.aps?.sound,
        priority: String(headers["apns-priority"]),
        collapseId,
        data,
      },
    };
  }

  const server = createServer();
  server.on("stream", (stream, headers) => {
    readBody(stream)
      .then(async (raw) => {
        const checked = await check(headers, raw);
        if (typeof checked === "string") {
          script.problem(checked);
          return respond(stream, { status: 400, body: { reason: "BadRequest" } });
        }
        const answer = script.next(checked.key, { status: 200 });
        script.received.push({ key: checked.key, at: Date.now(), payload: checked.payload, status: answer.status });
        respond(stream, answer);
      })
      .catch((error) => respond(stream, { status: 500, body: { reason: String(error) } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const sessions = new Set<import("node:http2").ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    keyFile,
    keyId,
    teamId,
    topic,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}
