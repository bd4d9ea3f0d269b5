/**
 * The budgets every face reads checkpoints with unless told otherwise: a header read that takes longer,
 * or pulls in more bytes, fails with the reason. The editor's settings default to the same numbers (the
 * protocol module imports this file, which imports nothing, so the client bundle stays small).
 */
export const DEFAULT_READ_LIMITS = { timeoutMs: 10_000, maxHeaderBytes: 256 * 2 ** 20 } as const;
