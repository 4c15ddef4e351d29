// A local stand-in for Google's OAuth2 token endpoint and the FCM HTTP v1 API. It checks each
// request as Google would (the service-account JWT's RS256 signature against the account's public
// key and its claims; the bearer token; the message JSON) and answers as FCM does, or as scripted.
import { generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { type Answer, readBody, Script } from "./answers.ts";

export const fcmScope = "https://www.googleapis.com/auth/firebase.messaging";

export interface FcmPayload {
  title: string;
  body: string;
  data: Record<string, string>;
  android: { priority?: string; notification?: { sound?: string; notification_count?: number } };
}

export interface FakeFcm {
  baseUrl: string;
  tokenUri: string;
  projectId: string;
  /** A service-account key file for this fake (private key and token_uri). */
  serviceAccountFile: string;
  script: Script<FcmPayload>;
  /** Access tokens issued so far. */
  tokensIssued: number;
  close(): Promise<void>;
}

/** FCM's error body: status plus FcmError code (and a BadRequest field violation for a bad token). */
export function fcmError(code: number, status: string, errorCode?: string, field?: string): Answer {
  const details: unknown[] = [];
  if (errorCode) details.push({ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode });
  if (field)
    details.push({ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field, description: "invalid" }] });
  return { status: code, body: { error: { code, message: `${status} (fake)`, status, details } } };
}

export const fcm = {
  unregistered: () => fcmError(404, "NOT_FOUND", "UNREGISTERED"),
  invalidToken: () => fcmError(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "message.token"),
  throttled: (retryAfterSeconds: number) => ({
    ...fcmError(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
    headers: { "retry-after": String(retryAfterSeconds) },
  }),
  unavailable: () => fcmError(503, "UNAVAILABLE", "UNAVAILABLE"),
  internal: () => fcmError(500, "INTERNAL", "INTERNAL"),
};

export async function startFakeFcm(dir: string, projectId = "parley-test"): Promise<FakeFcm> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const clientEmail = `push@${projectId}.iam.gserviceaccount.com`;
  const keyId = randomBytes(8).toString("hex");
  const script = new Script<FcmPayload>();
  const issued = new Set<string>();
  const state = { tokensIssued: 0 };
  let tokenUri = "";

  const send = (res: ServerResponse, answer: Answer) => {
    res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8", ...answer.headers });
    res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
  };

  async function token(req: IncomingMessage, res: ServerResponse) {
    const form = new URLSearchParams((await readBody(req)).toString("utf8"));
    const problem = await checkAssertion(form, publicKey, { clientEmail, tokenUri, keyId });
    if (problem) {
      script.problems.push(`token endpoint: ${problem}`);
      return send(res, { status: 400, body: { error: "invalid_grant", error_description: problem } });
    }
    const accessToken = `ya29.fake-${randomBytes(12).toString("hex")}`;
    issued.add(accessToken);
    state.tokensIssued++;
    send(res, { status: 200, body: { access_token: accessToken, expires_in: 3599, token_type: "Bearer" } });
  }

  async function messagesSend(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req);
    if (!issued.has((req.headers.authorization ?? "").replace(/^Bearer /, ""))) {
      return send(res, fcmError(401, "UNAUTHENTICATED"));
    }
    if (!String(req.headers["content-type"]).startsWith("application/json")) return send(res, script.problem("content-type"));
    let message: Record<string, unknown>;
    try {
      message = (JSON.parse(raw.toString("utf8")) as { message: Record<string, unknown> }).message;
    } catch {
      return send(res, script.problem("body is not JSON"));
    }
    const problem = checkMessage(message);
    if (problem) return send(res, script.problem(problem));
    const key = message.token as string;
    const notification = message.notification as { title: string; body: string };
    const answer = script.next(key, { status: 200, body: { name: `projects/${projectId}/messages/${Date.now()}` } });
    script.received.push({
      key,
      at: Date.now(),
      status: answer.status,
      payload: {
        ...notification,
        data: message.data as Record<string, string>,
        android: message.android as FcmPayload["android"],
      },
    });
    send(res, answer);
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const handle =
      req.method === "POST" && path === "/token"
        ? token(req, res)
        : req.method === "POST" && path === `/v1/projects/${projectId}/messages:send`
          ? messagesSend(req, res)
          : Promise.resolve(send(res, script.problem(`unexpected ${req.method} ${path}`)));
    handle.catch((error) => send(res, script.problem(String(error))));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tokenUri = `${baseUrl}/token`;
  const serviceAccountFile = join(dir, "fcm-service-account.json");
  writeFileSync(
    serviceAccountFile,
    JSON.stringify({
      type: "service_account",
      project_id: projectId,
      private_key_id: keyId,
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
      client_email: clientEmail,
      token_uri: tokenUri,
    }),
  );
  return {
    baseUrl,
    tokenUri,
    projectId,
    serviceAccountFile,
    script,
    get tokensIssued() {
      return state.tokensIssued;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The JWT-bearer grant: RS256 signature by the account's key, and Google's required claims. */
async function checkAssertion(
  form: URLSearchParams,
  publicKey: KeyObject,
  expected: { clientEmail: string; tokenUri: string; keyId: string },
): Promise<string | undefined> {
  if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return "grant_type";
  const assertion = form.get("assertion") ?? "";
  try {
    const header = decodeProtectedHeader(assertion);
    if (header.alg !== "RS256" || header.kid !== expected.keyId) return `header ${JSON.stringify(header)}`;
    const { payload } = await jwtVerify(assertion, publicKey, {
      algorithms: ["RS256"],
      issuer: expected.clientEmail,
      audience: expected.tokenUri,
    });
    if (payload.scope !== fcmScope) return `scope ${payload.scope}`;
    if (typeof payload.iat !== "number" || typeof payload.exp !== "number" || payload.exp - payload.iat > 3600) return "iat/exp";
  } catch (error) {
    return `assertion: ${String(error)}`;
  }
  return undefined;
}

/** The v1 message shape: a token, a notification, string-only data, a valid android block. */
function checkMessage(message: Record<string, unknown> | undefined): string | undefined {
  if (!message || typeof message.token !== "string" || message.token === "") return "message.token";
  const n = message.notification as Record<string, unknown> | undefined;
  if (!n || typeof n.title !== "string" || typeof n.body !== "string") return "message.notification";
  const data = message.data as Record<string, unknown> | undefined;
  if (!data || Object.values(data).some((v) => typeof v !== "string")) return "message.data values must be strings";
  for (const field of ["conversation_id", "sequence", "count"]) if (!data[field]) return `message.data.${field}`;
  const android = message.android as Record<string, unknown> | undefined;
  if (android && !["NORMAL", "HIGH"].includes(String(android.priority))) return "message.android.priority";
  const known = new Set(["token", "notification", "data", "android", "apns", "webpush", "fcm_options", "name"]);
  const unknown = Object.keys(message).filter((k) => !known.has(k));
  if (unknown.length > 0) return `unknown message fields ${unknown.join(",")}`;
  return undefined;
}
