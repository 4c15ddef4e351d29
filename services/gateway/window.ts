// The delivery window: how many events a stream may have sent and not yet acked. Hello asks for
// one (0 takes the server's default, PARLEY_WINDOW); a larger ask is cut to this, and
// PARLEY_WINDOW may not exceed it either.
export const maxWindow = 1024;
