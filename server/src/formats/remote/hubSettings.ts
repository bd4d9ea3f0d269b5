/**
 * Where the Hub is and who the user is, read from the environment the way huggingface_hub reads it
 * (constants.py): `HF_ENDPOINT`, `HF_TOKEN`, else the token file `hf auth login` writes
 * (`HF_TOKEN_PATH`, else `$HF_HOME/token`, `HF_HOME` defaulting to `$XDG_CACHE_HOME/huggingface` or
 * `~/.cache/huggingface`), `HF_HUB_OFFLINE`. Read on each use, so a test or a long-lived server sees
 * the environment as it is now.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** Set by `--offline` (the CLI) for the whole process; `HF_HUB_OFFLINE=1` does the same. */
let offlineFlag = false;
export function setOffline(on: boolean): void {
  offlineFlag = on;
}

const TRUE = new Set(['1', 'ON', 'YES', 'TRUE']);

export function isOffline(): boolean {
  const env = process.env.HF_HUB_OFFLINE ?? process.env.TRANSFORMERS_OFFLINE;
  return offlineFlag || (env !== undefined && TRUE.has(env.toUpperCase()));
}

export function hubEndpoint(): string {
  return (process.env.HF_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, '');
}

function hfHome(): string {
  return process.env.HF_HOME || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
}

/** The user's Hub token, or undefined (an anonymous request). `HF_TOKEN` wins over the token file, as in huggingface_hub. */
export function hubToken(): string | undefined {
  const env = process.env.HF_TOKEN?.trim();
  if (env) return env;
  try {
    const text = readFileSync(process.env.HF_TOKEN_PATH || join(hfHome(), 'token'), 'utf8').trim();
    return text || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The header cache's folder: `TENSORPORT_CACHE_DIR`, else `tensorport/remote` under the user's cache
 * folder (`XDG_CACHE_HOME` or `~/.cache`; `~/Library/Caches` on macOS; `%LOCALAPPDATA%` on Windows).
 */
export function headerCacheDir(): string {
  if (process.env.TENSORPORT_CACHE_DIR) return process.env.TENSORPORT_CACHE_DIR;
  const base = process.platform === 'win32' ? (process.env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local'))
    : process.platform === 'darwin' ? join(homedir(), 'Library', 'Caches')
      : (process.env.XDG_CACHE_HOME || join(homedir(), '.cache'));
  return join(base, 'tensorport', 'remote');
}

/**
 * How long to wait before retry `n` (0-based) of a 429/5xx: huggingface_hub's http_backoff (1 s
 * doubling to 8 s, 5 retries). `TENSORPORT_HTTP_RETRY_MS` sets the first wait (the tests use a few ms).
 */
export const MAX_RETRIES = 5;
export function retryDelayMs(n: number): number {
  const base = Number(process.env.TENSORPORT_HTTP_RETRY_MS) || 1000;
  return Math.min(base * 2 ** n, base * 8);
}
