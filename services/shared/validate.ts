// Request validation shared by every entry point (unary RPCs and the session stream).
import { invalidArgument } from "./errors.ts";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const clientIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const phonePattern = /^\+[1-9][0-9]{6,14}$/;

/** Ids issued by Parley are lowercase UUIDs; anything else is INVALID_ARGUMENT naming the field. */
export function requireId(value: string, field: string): string {
  if (!uuidPattern.test(value)) throw invalidArgument(field, "MALFORMED_ID", `${field} must be a Parley id (UUID)`);
  return value;
}

export function requireClientId(value: string, field: string): string {
  if (!clientIdPattern.test(value)) {
    throw invalidArgument(field, "MALFORMED_ID", `${field} must be 1..64 characters of [A-Za-z0-9_-]`);
  }
  return value;
}

export function requirePhoneNumber(value: string, field: string): string {
  if (!phonePattern.test(value))
    throw invalidArgument(field, "MALFORMED_PHONE_NUMBER", `${field} must be E.164, like +15551234567`);
  return value;
}

export function requireText(value: string, field: string, maxChars: number): string {
  const trimmed = value.trim();
  if (trimmed.length === 0) throw invalidArgument(field, "EMPTY", `${field} must not be empty`);
  if (trimmed.length > maxChars) throw invalidArgument(field, "TOO_LONG", `${field} must be at most ${maxChars} characters`);
  return trimmed;
}

/** Clamps a requested page size: 0 means the default, larger than max is lowered to max. */
export function pageSize(requested: number, fallback: number, max: number): number {
  if (requested === 0) return fallback;
  return Math.min(requested, max);
}
