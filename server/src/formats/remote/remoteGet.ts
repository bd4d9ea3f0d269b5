/**
 * A GET that behaves like huggingface_hub's requests: redirects followed to any host (the Hub sends
 * file bodies to a CDN) with a bound and loop detection, the token sent only to the origin it was meant
 * for, 429/5xx and dropped connections retried with backoff (Retry-After honoured) a bounded number of
 * times. The Hub's headers on the first answer (X-Repo-Commit, X-Linked-Etag, X-Linked-Size) are kept,
 * since the CDN's answer does not repeat them.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { HttpFailure, httpRequest } from './httpRequest';
import { MAX_RETRIES, hubEndpoint, retryDelayMs } from './hubSettings';
import { isLoopback } from './remoteName';

export const MAX_REDIRECTS = 10;
const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRY_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);
const IDLE_MS = 30_000;

export interface GetResult {
  status: number;
  headers: IncomingHttpHeaders;
  /** Headers of the first answer in the redirect chain (the Hub's, before the CDN's). */
  first: IncomingHttpHeaders;
  body: Buffer;
  /** Where the body came from, after redirects: later ranges are asked of it directly. */
  url: URL;
}

/** An answer that is not a success; the caller says what it means for its file. */
export class HttpStatusError extends Error {
  constructor(readonly status: number, readonly headers: IncomingHttpHeaders, readonly url: URL) {
    super(`HTTP ${status}`);
  }
}

export interface GetOptions {
  range?: [number, number];
  token?: string;
  maxBody: number;
  /** Counts every request sent (retries and redirects included). */
  onRequest?: () => void;
  /** A 206 body goes straight into this buffer (httpRequest's `into`). */
  into?: { buf: Buffer; at: number };
}

export async function remoteGet(start: URL, opts: GetOptions): Promise<GetResult> {
  let url = start;
  let first: IncomingHttpHeaders | undefined;
  const seen = new Set<string>();
  for (let hop = 0; ; hop++) {
    if (seen.has(url.href)) throw new HttpFailure(`redirect loop at ${url.host}${url.pathname}`);
    if (hop > MAX_REDIRECTS) throw new HttpFailure(`more than ${MAX_REDIRECTS} redirects from ${start.host}`);
    seen.add(url.href);
    const reply = await withRetries(url, opts, url.origin === hubOrigin());
    first ??= reply.headers;
    const location = reply.headers.location;
    if ([301, 302, 303, 307, 308].includes(reply.status) && location) {
      const next = new URL(location, url);
      if (next.protocol === 'http:' && !isLoopback(next.hostname)) throw new HttpFailure(`redirected to plain http:// at ${next.host}: refused`);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new HttpFailure(`redirected to ${next.protocol}: refused`);
      url = next;
      continue;
    }
    if (reply.status >= 400 || reply.status < 200 || reply.status >= 300) throw new HttpStatusError(reply.status, reply.headers, url);
    return { ...reply, first, url };
  }
}

function hubOrigin(): string {
  try { return new URL(hubEndpoint()).origin; } catch { return ''; }
}

async function withRetries(url: URL, opts: GetOptions, toHub: boolean) {
  const headers: Record<string, string> = { 'User-Agent': 'tensorport' };
  if (opts.range) headers.Range = `bytes=${opts.range[0]}-${opts.range[1]}`;
  // The token is for the Hub itself (HF_ENDPOINT's origin): a CDN, a signed URL or any other server never sees it.
  if (opts.token && toHub) headers.Authorization = `Bearer ${opts.token}`;
  for (let attempt = 0; ; attempt++) {
    opts.onRequest?.();
    let wait: number;
    try {
      const reply = await httpRequest(url, { headers, maxBody: opts.maxBody, idleMs: IDLE_MS, into: opts.into });
      if (!RETRY_STATUS.has(reply.status) || attempt >= MAX_RETRIES) return reply;
      const after = Number(reply.headers['retry-after']);
      wait = Number.isFinite(after) && after >= 0 ? Math.min(after * 1000, retryDelayMs(3)) : retryDelayMs(attempt);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (e instanceof HttpFailure) throw e;
      if (!code || !RETRY_CODES.has(code) || attempt >= MAX_RETRIES) throw new HttpFailure(networkReason(url, e));
      wait = retryDelayMs(attempt);
    }
    await new Promise((r) => setTimeout(r, wait));
  }
}

function networkReason(url: URL, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOTFOUND': case 'EAI_AGAIN': return `cannot resolve ${url.hostname} (offline? --offline answers from the header cache)`;
    case 'ECONNREFUSED': return `${url.host} refused the connection`;
    case 'ECONNRESET': return `${url.host} dropped the connection`;
    default: return `${url.host}: ${err.message}`;
  }
}
