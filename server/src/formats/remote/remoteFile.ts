/**
 * A remote checkpoint file read in blocks with HTTP Range requests. The first request (64 KiB at the
 * start) resolves the name — the Hub's redirect to its CDN, the commit it reports, the ETag, the size
 * from Content-Range — and holds most headers' first bytes; later reads fetch only the blocks they lack,
 * each run of adjacent missing blocks as one request, so a safetensors header costs one or two requests
 * and a zip's central directory one more. Every answer is checked: the range asked for, the length
 * promised, the same file (ETag). Blocks go to the header cache when the file is closed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingHttpHeaders } from 'node:http';
import { unreadable } from '../readerError';
import { RemoteMeta, loadBlocks, loadRef, refKey, saveBlocks, saveRef, versionKey } from './headerCache';
import { HttpFailure } from './httpRequest';
import { hubEndpoint, hubToken, isOffline } from './hubSettings';
import { HttpStatusError, remoteGet } from './remoteGet';
import { RemoteName, hfName, parseRemote } from './remoteName';

export const BLOCK = 64 * 1024;
/** Runs of missing blocks fetched at once (a reader asking for several ranges together). */
const PARALLEL_RUNS = 8;
/** A prefetched run of adjacent blocks is at most this many (1 MiB): runs stay parallel, and each answer small. */
const MAX_RUN_BLOCKS = 16;

/** What one checkpoint read asked of the network, and the commits names resolved to (shards follow their index's). */
export interface RemoteSession {
  requests: number;
  bytes: number;
  /** `endpoint repo revision` → commit, so every file of one read comes from one commit. */
  pins: Map<string, string>;
  /** The first file opened: the one the user named. */
  first?: { url: string; commit?: string };
}
export const remoteSession = new AsyncLocalStorage<RemoteSession>();

export function newSession(): RemoteSession {
  return { requests: 0, bytes: 0, pins: new Map() };
}

const HEX40 = /^[0-9a-f]{40}$/;

/** Errors that mean "no such file" (HTTP 404), for choosing a repo's weights among candidates. */
export const missingFiles = new WeakSet<Error>();

export class RemoteFile {
  private readonly inflight = new Map<number, Promise<void>>();
  private fresh = false;

  private constructor(
    readonly display: string,
    readonly meta: RemoteMeta,
    /** Where ranges are asked (the CDN's URL after the Hub's redirect). */
    private dataUrl: URL,
    private readonly blocks: Map<number, Buffer>,
    private readonly session: RemoteSession,
    private dataEtag: string | undefined,
    /** The name pinned to the commit the Hub reported (`hf://o/r@<commit>/f`): what tensor locations name. */
    readonly pinned: string,
  ) {}

  get size(): number { return this.meta.size; }

  static async open(name: string, display: string): Promise<RemoteFile> {
    const parsed = parseRemote(name);
    if (typeof parsed === 'string') throw unreadable(display, parsed);
    if (parsed.kind === 'hf' && !parsed.file) throw unreadable(display, 'names a repository, not a file (see resolveHubRepo)');
    const session = remoteSession.getStore() ?? newSession();
    const endpoint = hubEndpoint();
    const pinKey = parsed.kind === 'hf' ? `${endpoint} ${parsed.repo} ${parsed.revision}` : '';
    const revision = parsed.kind === 'hf' ? session.pins.get(pinKey) ?? parsed.revision : '';
    const ref = parsed.kind === 'hf' ? refKey([endpoint, parsed.repo, revision, parsed.file!]) : refKey([parsed.url.href]);

    // A commit never changes: a cached entry for it needs no request. Offline, any cached entry will do.
    if (isOffline() || (parsed.kind === 'hf' && HEX40.test(revision))) {
      const meta = await loadRef(ref);
      if (meta) {
        const blocks = await loadBlocks(versionKey(meta), BLOCK);
        if (blocks.size > 0 || isOffline()) return RemoteFile.opened(display, meta, new URL(meta.url), blocks, session, undefined, parsed, pinKey);
      }
      if (isOffline()) throw unreadable(display, 'not in the header cache, and offline (--offline or HF_HUB_OFFLINE): read it once online first');
    }

    const url = parsed.kind === 'hf' ? resolveUrl(endpoint, parsed.repo, revision, parsed.file!) : parsed.url;
    const first = await fetchRange(display, parsed, url, 0, BLOCK - 1, session, undefined);
    const commit = header(first.first, 'x-repo-commit');
    const etag = normEtag(header(first.first, 'x-linked-etag') ?? header(first.first, 'etag'));
    const canonical = parsed.kind === 'hf' ? resolveUrl(endpoint, parsed.repo, commit ?? revision, parsed.file!) : parsed.url;
    const meta: RemoteMeta = { size: first.size, etag, commit, url: canonical.href };
    // Later ranges go where the body came from (the CDN), or, without a redirect, to the pinned commit.
    const dataUrl = first.url.href === url.href ? canonical : first.url;
    const blocks = await loadBlocks(versionKey(meta), BLOCK);
    if (first.body.length > 0) blocks.set(0, first.body);
    const file = RemoteFile.opened(display, meta, dataUrl, blocks, session, normEtag(header(first.headers, 'etag')), parsed, pinKey);
    file.fresh = true;
    await saveRef(ref, meta);
    if (parsed.kind === 'hf' && commit) await saveRef(refKey([endpoint, parsed.repo, commit, parsed.file!]), meta);
    return file;
  }

  private static opened(display: string, meta: RemoteMeta, dataUrl: URL, blocks: Map<number, Buffer>, session: RemoteSession,
    dataEtag: string | undefined, parsed: RemoteName, pinKey: string): RemoteFile {
    if (parsed.kind === 'hf' && meta.commit) session.pins.set(pinKey, meta.commit);
    session.first ??= { url: meta.url, commit: meta.commit };
    const pinned = parsed.kind === 'hf' && meta.commit ? hfName(parsed.repo, meta.commit, parsed.file!) : parsed.kind === 'hf' ? hfName(parsed.repo, parsed.revision, parsed.file!) : parsed.url.href;
    return new RemoteFile(display, meta, dataUrl, blocks, session, dataEtag, pinned);
  }

  /** Copies `length` bytes at `offset` into `buf` at `at`, fetching the blocks not held yet. */
  async read(buf: Buffer, at: number, offset: number, length: number): Promise<void> {
    if (length === 0) return;
    const firstBlock = Math.floor(offset / BLOCK);
    const lastBlock = Math.floor((offset + length - 1) / BLOCK);
    await this.ensure(firstBlock, lastBlock);
    for (let b = firstBlock; b <= lastBlock; b++) {
      const block = this.blocks.get(b)!;
      const from = Math.max(offset, b * BLOCK);
      const to = Math.min(offset + length, b * BLOCK + block.length);
      block.copy(buf, at + from - offset, from - b * BLOCK, to - b * BLOCK);
    }
  }

  /**
   * Tensor data for the converter: one range request straight into `buf`, never cached (it is not a
   * header, and it may be gigabytes).
   */
  async readDirect(buf: Buffer, at: number, offset: number, length: number): Promise<void> {
    if (length === 0) return;
    if (isOffline()) throw unreadable(this.display, 'tensor data is not in the header cache, and offline: convert needs the network');
    const got = await fetchRange(this.display, undefined, this.dataUrl, offset, offset + length - 1, this.session, this.meta.size, { buf, at });
    this.followed(got.url);
    this.sameVersion(got.headers);
    if (got.body.buffer !== buf.buffer || got.body.byteOffset !== buf.byteOffset + at) got.body.copy(buf, at);
  }

  private async ensure(firstBlock: number, lastBlock: number): Promise<void> {
    const wanted: number[] = [];
    for (let b = firstBlock; b <= lastBlock; b++) wanted.push(b);
    await this.fetchBlocks(wanted, Infinity, true);
  }

  /**
   * Fetches ahead the blocks of ranges a reader is about to read one by one (a zip's record headers,
   * one per tensor): adjacent blocks as one request of at most 1 MiB, several requests at a time,
   * instead of one round trip per read. Offline it does nothing (the reads say what is missing).
   */
  async prefetch(ranges: readonly [number, number][]): Promise<void> {
    if (isOffline()) return;
    const wanted = new Set<number>();
    for (const [offset, length] of ranges) {
      const end = Math.min(offset + length, this.meta.size);
      for (let b = Math.floor(offset / BLOCK); b * BLOCK < end; b++) wanted.add(b);
    }
    await this.fetchBlocks([...wanted].sort((a, b) => a - b), MAX_RUN_BLOCKS, false);
  }

  /** The missing blocks of `wanted` (ascending), adjacent ones as one request, PARALLEL_RUNS requests at a time. */
  private async fetchBlocks(wanted: readonly number[], maxRun: number, offlineFails: boolean): Promise<void> {
    const waits: Promise<void>[] = [];
    const runs: [number, number][] = [];
    for (const b of wanted) {
      if (this.blocks.has(b)) continue;
      const pending = this.inflight.get(b);
      if (pending) { waits.push(pending); continue; }
      const last = runs[runs.length - 1];
      if (last && last[1] === b - 1 && b - last[0] < maxRun) last[1] = b;
      else runs.push([b, b]);
    }
    if (runs.length > 0 && offlineFails && isOffline()) {
      throw unreadable(this.display, `bytes ${runs[0][0] * BLOCK}… are not in the header cache, and offline (--offline or HF_HUB_OFFLINE)`);
    }
    for (let i = 0; i < runs.length; i += PARALLEL_RUNS) {
      const batch = runs.slice(i, i + PARALLEL_RUNS).map(([s, e]) => this.fetchRun(s, e));
      waits.push(...batch);
      await Promise.all(batch);
    }
    await Promise.all(waits);
  }

  private fetchRun(s: number, e: number): Promise<void> {
    const start = s * BLOCK;
    const end = Math.min(this.meta.size, (e + 1) * BLOCK) - 1;
    const job = fetchRange(this.display, undefined, this.dataUrl, start, end, this.session, this.meta.size).then((got) => {
      this.followed(got.url);
      this.sameVersion(got.headers);
      for (let b = s; b <= e; b++) this.blocks.set(b, got.body.subarray(b * BLOCK - start, Math.min(got.body.length, (b + 1) * BLOCK - start)));
      this.fresh = true;
    }).finally(() => { for (let b = s; b <= e; b++) this.inflight.delete(b); });
    for (let b = s; b <= e; b++) this.inflight.set(b, job);
    return job;
  }

  /** A redirect (the Hub to its CDN) is followed once: later ranges go straight where it led. */
  private followed(url: URL): void {
    this.dataUrl = url;
  }

  /** A file replaced between two requests would mix two versions' bytes: refused. */
  private sameVersion(headers: IncomingHttpHeaders): void {
    const etag = normEtag(header(headers, 'etag'));
    this.dataEtag ??= etag;
    if (this.dataEtag && etag && etag !== this.dataEtag) throw unreadable(this.display, 'the file changed on the server while it was being read (its ETag changed): read it again');
  }

  /** Keeps what was fetched in the header cache. */
  async close(): Promise<void> {
    if (this.fresh && this.blocks.size > 0) await saveBlocks(versionKey(this.meta), BLOCK, this.blocks);
  }
}

export function resolveUrl(endpoint: string, repo: string, revision: string, file: string): URL {
  return new URL(`${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`);
}

interface Ranged { body: Buffer; size: number; headers: IncomingHttpHeaders; first: IncomingHttpHeaders; url: URL }

/**
 * Bytes `start..end` (inclusive; clipped to the file when its size is not known yet), checked: a 206
 * whose Content-Range is exactly what was asked and whose body is that long, or a 200 whose whole body
 * is the file (a server without Range support, for a small file only).
 */
async function fetchRange(display: string, name: RemoteName | undefined, url: URL, start: number, end: number,
  session: RemoteSession, knownSize: number | undefined, into?: { buf: Buffer; at: number }): Promise<Ranged> {
  let got;
  try {
    got = await remoteGet(url, {
      range: [start, end], token: hubToken(), maxBody: end - start + 1, into,
      onRequest: () => { session.requests++; },
    });
  } catch (e) {
    if (e instanceof HttpStatusError && e.status === 416 && start === 0) {
      // An empty file has no byte 0: the server says so with 416 and `bytes */0`.
      const total = /^bytes \*\/(\d+)$/.exec(header(e.headers, 'content-range') ?? '');
      if (total && Number(total[1]) === 0) return { body: Buffer.alloc(0), size: 0, headers: e.headers, first: e.headers, url: e.url };
    }
    const err = unreadable(display, describeFailure(e, name));
    if (e instanceof HttpStatusError && e.status === 404) missingFiles.add(err);
    throw err;
  }
  session.bytes += got.body.length;
  const host = got.url.host;
  if (got.status === 200) {
    const size = got.body.length;
    if (start !== 0 || (knownSize !== undefined && knownSize !== size) || size > end - start + 1) {
      throw unreadable(display, `${host} ignores Range requests (answered the whole file): cannot read it header-only`);
    }
    return { ...got, size };
  }
  if (got.status !== 206) throw unreadable(display, `${host} answered HTTP ${got.status} to a Range request`);
  const cr = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header(got.headers, 'content-range') ?? '');
  if (!cr) throw unreadable(display, `${host} answered a Range request without a valid Content-Range`);
  const [s, e, total] = [Number(cr[1]), Number(cr[2]), Number(cr[3])];
  const expectedEnd = Math.min(end, total - 1);
  if (s !== start || e !== expectedEnd || (knownSize !== undefined && total !== knownSize) || got.body.length !== e - s + 1) {
    throw unreadable(display, `${host} answered bytes ${s}-${e}/${total} with ${got.body.length} bytes of body for bytes ${start}-${end}${knownSize !== undefined ? ` of ${knownSize}` : ''}: refused`);
  }
  return { ...got, size: total };
}

function describeFailure(e: unknown, name: RemoteName | undefined): string {
  if (e instanceof HttpFailure) return e.message;
  if (!(e instanceof HttpStatusError)) return e instanceof Error ? e.message : String(e);
  const code = header(e.headers, 'x-error-code');
  if (name?.kind === 'hf') {
    const { repo, revision, file } = name;
    const login = '`hf auth login` or set HF_TOKEN';
    if (code === 'GatedRepo') return `${repo} is gated: accept its conditions at ${hubEndpoint()}/${repo}, then log in (${login})`;
    if (code === 'RevisionNotFound') return `${repo} has no revision ${revision}`;
    if (code === 'EntryNotFound') return `${repo} has no file ${file} at ${revision}`;
    if (e.status === 401 || e.status === 403 || code === 'RepoNotFound') {
      return hubToken()
        ? `${repo} does not exist or your token cannot read it (HTTP ${e.status}): check the name, and the token (HF_TOKEN or \`hf auth login\`)`
        : `${repo} does not exist, or is private or gated (HTTP ${e.status}): log in with ${login}`;
    }
    if (e.status === 404) return `${repo} has no file ${file} at ${revision} (HTTP 404)`;
  }
  if (e.status === 404) return `not found (HTTP 404) at ${e.url.host}`;
  if (e.status === 401 || e.status === 403) return `${e.url.host} refused access (HTTP ${e.status})`;
  if (e.status === 429 || e.status >= 500) return `${e.url.host} kept answering HTTP ${e.status}, retried with backoff: try again later`;
  return `${e.url.host} answered HTTP ${e.status}`;
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `W/"abc"` and `"abc"` are the ETag `abc` (huggingface_hub's _normalize_etag). */
function normEtag(e: string | undefined): string | undefined {
  return e ? e.replace(/^W\//, '').replace(/^"|"$/g, '') : undefined;
}
