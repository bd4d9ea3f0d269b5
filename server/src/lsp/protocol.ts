/**
 * Tensor Port's custom LSP messages, one place for both sides (the client imports this file; it
 * imports nothing, so the client bundle stays free of server code).
 */

/** Request: the tensors of one checkpoint, as `tensorport keys --json` prints them. */
export const KEYS_REQUEST = 'tensorport/keys';
export interface KeysParams { path: string }
export type KeysResult =
  | { ok: true; keys: { file: string; format: string; framework?: string; shapeOrder?: string; tensors: { key: string; dtype: string; shape: number[] }[]; notes?: string[] } }
  | { ok: false; message: string };

/** Request: the model diff of two checkpoints, as unified-diff-like text. */
export const DIFF_REQUEST = 'tensorport/diff';
export interface DiffParams { a: string; b: string }
export type DiffResult = { ok: true; text: string; differs: boolean } | { ok: false; message: string };

/** Request: propose a mapping between two checkpoints and write it as a `.tpmap` (refuses to overwrite unless asked). */
export const GENERATE_MAPPING_REQUEST = 'tensorport/generateMapping';
export interface GenerateMappingParams { source: string; target: string; output: string; overwrite?: boolean }
export type GenerateMappingResult =
  | { ok: true; output: string; rules: number; lowConfidence: number; unmappedSource: number; unmappedTarget: number }
  | { ok: false; message: string };

/** Request: the workspace's checkpoints and mapping files with their status, for the Explorer view. */
export const WORKSPACE_REQUEST = 'tensorport/workspace';
export interface WorkspaceEntry { path: string; kind: 'checkpoint' | 'mapping'; ok: boolean; detail: string; errors: number; warnings: number }
export interface WorkspaceResult { entries: WorkspaceEntry[] }

/** Notification from the server: the first workspace scan finished (tests and the client wait on it). */
export const INDEX_READY_NOTIFICATION = 'tensorport/indexReady';
export interface IndexReadyParams { checkpoints: number; unreadable: number }

/** Notification from the server: counts for the status bar. */
export const STATUS_NOTIFICATION = 'tensorport/status';
export interface StatusParams { checkpoints: number; unreadable: number; openMappings: number }

/** Settings the client passes as initializationOptions (package.json `tensorport.index.*`). */
export interface ServerSettings { readTimeoutMs: number; exclude: string[] }
export const DEFAULT_SETTINGS: ServerSettings = { readTimeoutMs: 10_000, exclude: [] };
