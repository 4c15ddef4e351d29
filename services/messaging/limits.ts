// Limits that are part of the contract (proto/ERRORS.md names the errors for each).
export interface MessagingLimits {
  /** Largest text body in UTF-8 bytes. */
  maxMessageBytes: number;
  /** Most members a group may have, creator included. */
  maxGroupMembers: number;
  /** Longest group name in characters. */
  maxGroupNameChars: number;
}

export const defaultMessagingLimits: MessagingLimits = {
  maxMessageBytes: 4096,
  maxGroupMembers: 1024,
  maxGroupNameChars: 128,
};
