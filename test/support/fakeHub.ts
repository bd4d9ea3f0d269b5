/**
 * Test support: a local stand-in for the Hugging Face Hub on 127.0.0.1, behaving as the Hub does for
 * the requests huggingface_hub and Tensor Port send: `/{owner}/{repo}/resolve/{revision}/{path}`
 * answered with X-Repo-Commit, X-Linked-Etag and X-Linked-Size, LFS files (safetensors, bin, gguf)
 * redirected with a 302 to a second server on another port (the "CDN"), small files answered in
 * place; Range requests (206 + Content-Range), HEAD, ETag; gated and private repos (401 + X-Error-Code),
 * missing files and revisions (404 + X-Error-Code). Every request is counted, with the body bytes sent.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRepo {
  files: Record<string, Buffer>;
  /** Needs `Authorization: Bearer <token>`; without it, 401 GatedRepo. */
  gatedToken?: string;
  /** A branch other than main, pointing at the same files. */
  branches?: string[];
}

export interface Served {
  requests: number; bytes: number; log: string[];
  /** The most requests the CDN had open at once (parallel range reads). */
  maxInFlight: number;
}

export interface FakeHub {
  endpoint: string;
  cdn: string;
  served: Served;
  repos: Map<string, FakeRepo & { commit: string }>;
  /** The CDN answers each request this long after it arrives (a network's round trip; 0 by default). */
  latencyMs: number;
  /** Replaces a handler for a path prefix (hostile servers), on the Hub's port. */
  override(prefix: string, handler: http.RequestListener): void;
  close(): Promise<void>;
}

const LFS = /\.(safetensors|bin|gguf|pt|pth|onnx|pdparams)$/;
const etagOf = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export async function startFakeHub(repos: Record<string, FakeRepo>): Promise<FakeHub> {
  const served: Served = { requests: 0, bytes: 0, log: [], maxInFlight: 0 };
  let inFlight = 0;
  const table = new Map<string, FakeRepo & { commit: string }>();
  for (const [name, r] of Object.entries(repos)) table.set(name, { ...r, commit: createHash('sha1').update(name).digest('hex') });
  const blobs = new Map<string, Buffer>();
  const overrides = new Map<string, http.RequestListener>();
  const hub = { latencyMs: 0 } as FakeHub;

  const cdnServer = http.createServer((req, res) => {
    count(req);
    served.maxInFlight = Math.max(served.maxInFlight, ++inFlight);
    res.on('close', () => { inFlight--; });
    const blob = blobs.get(new URL(req.url!, 'http://x').pathname.slice('/blob/'.length));
    const answer = () => (blob ? sendRanged(req, res, blob, { ETag: `"${etagOf(blob)}"` }) : res.writeHead(404).end());
    if (hub.latencyMs > 0) setTimeout(answer, hub.latencyMs);
    else answer();
  });
  await listen(cdnServer);
  const cdn = `http://127.0.0.1:${(cdnServer.address() as AddressInfo).port}`;

  const hubServer = http.createServer((req, res) => {
    count(req);
    const url = new URL(req.url!, 'http://x');
    for (const [prefix, h] of overrides) if (url.pathname.startsWith(prefix)) { h(req, res); return; }
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repo = m ? table.get(m[1]) : undefined;
    if (!m || !repo) { res.writeHead(401, { 'X-Error-Code': 'RepoNotFound' }).end(); return; }
    if (repo.gatedToken && req.headers.authorization !== `Bearer ${repo.gatedToken}`) {
      res.writeHead(401, { 'X-Error-Code': 'GatedRepo', 'X-Error-Message': 'Access to model is restricted.' }).end(); return;
    }
    const revision = decodeURIComponent(m[2]);
    if (revision !== 'main' && revision !== repo.commit && !repo.branches?.includes(revision)) {
      res.writeHead(404, { 'X-Error-Code': 'RevisionNotFound' }).end(); return;
    }
    const file = m[3].split('/').map(decodeURIComponent).join('/');
    const body = repo.files[file];
    if (!body) { res.writeHead(404, { 'X-Error-Code': 'EntryNotFound', 'X-Repo-Commit': repo.commit }).end(); return; }
    const etag = etagOf(body);
    const hubHeaders = { 'X-Repo-Commit': repo.commit, 'X-Linked-Etag': `"${etag}"`, 'X-Linked-Size': String(body.length) };
    if (LFS.test(file)) {
      blobs.set(etag, body);
      res.writeHead(302, { ...hubHeaders, Location: `${cdn}/blob/${etag}?signed=1` }).end();
      return;
    }
    sendRanged(req, res, body, { 'X-Repo-Commit': repo.commit, ETag: `"${etag}"` });
  });
  await listen(hubServer);
  const endpoint = `http://127.0.0.1:${(hubServer.address() as AddressInfo).port}`;

  function count(req: http.IncomingMessage): void {
    served.requests++;
    served.log.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`);
  }

  function sendRanged(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, headers: Record<string, string>): void {
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const head = req.method === 'HEAD';
    if (!range) {
      res.writeHead(200, { ...headers, 'Content-Length': body.length, 'Accept-Ranges': 'bytes' });
      if (!head) served.bytes += body.length;
      res.end(head ? undefined : body);
      return;
    }
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : body.length - 1, body.length - 1);
    if (start >= body.length) { res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end(); return; }
    const part = body.subarray(start, end + 1);
    res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${body.length}`, 'Content-Length': part.length, 'Accept-Ranges': 'bytes' });
    if (!head) served.bytes += part.length;
    res.end(head ? undefined : part);
  }

  return Object.assign(hub, {
    endpoint, cdn, served, repos: table,
    override: (prefix: string, handler: http.RequestListener) => { overrides.set(prefix, handler); },
    close: async () => {
      for (const s of [hubServer, cdnServer]) { s.closeAllConnections(); await new Promise((r) => s.close(r)); }
    },
  });
}

function listen(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}
