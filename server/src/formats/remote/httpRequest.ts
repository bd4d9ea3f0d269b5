/**
 * One HTTP exchange with node:http/https (no dependency): no redirect following (remoteGet decides),
 * a body bounded before it is buffered (an endless or oversized body is cut off, never collected), an
 * idle timeout, and the usual proxy variables — `HTTPS_PROXY`/`https_proxy` for https (a CONNECT
 * tunnel), `HTTP_PROXY`/`http_proxy` for http, `NO_PROXY`/`no_proxy` (host suffixes, `*`); this
 * machine's own addresses never go through a proxy. Proxies are http:// URLs, user:password allowed.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import type { Socket } from 'node:net';
import { isLoopback } from './remoteName';

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export class HttpFailure extends Error {}

export interface HttpOptions {
  headers: Record<string, string>;
  /** More body than this fails the exchange (the socket is closed as soon as it is passed). */
  maxBody: number;
  /** No byte for this long fails the exchange. */
  idleMs: number;
  /** Write the body here (from `at`) instead of collecting it: tensor data lands in its buffer once. */
  into?: { buf: Buffer; at: number };
}

export async function httpRequest(url: URL, opts: HttpOptions): Promise<HttpReply> {
  const proxy = proxyFor(url);
  const secure = url.protocol === 'https:';
  const base: https.RequestOptions = {
    method: 'GET', host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || (secure ? 443 : 80),
    path: `${url.pathname}${url.search}`, headers: { ...opts.headers, 'Accept-Encoding': 'identity' },
  };
  if (proxy && !secure) {
    // A plain-http proxy takes the whole URL as the request target.
    Object.assign(base, { host: proxy.hostname, port: proxy.port || 80, path: url.href });
    if (proxy.username) (base.headers as Record<string, string>)['Proxy-Authorization'] = proxyAuth(proxy);
  } else if (proxy) {
    const socket = await tunnel(proxy, url, opts.idleMs);
    base.createConnection = () => tls.connect({ socket, servername: base.host ?? undefined });
    base.agent = false;
  }
  return exchange(secure ? https.request : http.request, base, opts);
}

function exchange(request: typeof http.request, options: http.RequestOptions, opts: HttpOptions): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(options, (res) => {
      const chunks: Buffer[] = [];
      let got = 0;
      res.on('data', (c: Buffer) => {
        got += c.length;
        if (got > opts.maxBody) {
          req.destroy(new HttpFailure(`sent more than the ${opts.maxBody} bytes asked for (a server that ignores Range requests, or a body without end): cut off`));
          return;
        }
        if (opts.into && res.statusCode === 206) c.copy(opts.into.buf, opts.into.at + got - c.length);
        else chunks.push(c);
      });
      res.on('end', () => resolve({
        status: res.statusCode ?? 0, headers: res.headers,
        body: opts.into && res.statusCode === 206 ? opts.into.buf.subarray(opts.into.at, opts.into.at + got) : Buffer.concat(chunks, got),
      }));
      res.on('error', reject);
    });
    req.setTimeout(opts.idleMs, () => req.destroy(new HttpFailure(`no answer for ${Math.round(opts.idleMs / 1000)} s`)));
    req.on('error', reject);
    req.end();
  });
}

/** An https connection through an http proxy: CONNECT host:port, then TLS over the tunnel. */
function tunnel(proxy: URL, target: URL, idleMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const authority = `${target.hostname}:${target.port || 443}`;
    const req = http.request({
      host: proxy.hostname, port: proxy.port || 80, method: 'CONNECT', path: authority,
      headers: { Host: authority, ...(proxy.username ? { 'Proxy-Authorization': proxyAuth(proxy) } : {}) },
    });
    req.setTimeout(idleMs, () => req.destroy(new HttpFailure(`the proxy ${proxy.host} did not answer for ${Math.round(idleMs / 1000)} s`)));
    req.on('connect', (res, socket) => {
      if (res.statusCode === 200) resolve(socket);
      else { socket.destroy(); reject(new HttpFailure(`the proxy ${proxy.host} refused the tunnel (HTTP ${res.statusCode})`)); }
    });
    req.on('error', (e) => reject(new HttpFailure(`the proxy ${proxy.host}: ${e.message}`)));
    req.end();
  });
}

function proxyAuth(proxy: URL): string {
  return `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
}

/** The proxy for `url` from the environment, or undefined. */
export function proxyFor(url: URL): URL | undefined {
  if (isLoopback(url.hostname)) return undefined;
  const env = process.env;
  const raw = url.protocol === 'https:' ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy);
  if (!raw) return undefined;
  if (bypassed(url, env.NO_PROXY ?? env.no_proxy ?? '')) return undefined;
  try {
    const p = new URL(raw.includes('://') ? raw : `http://${raw}`);
    if (p.protocol !== 'http:') throw new HttpFailure(`proxy ${p.protocol}// URLs are not supported (an http:// proxy is: HTTPS goes through a CONNECT tunnel)`);
    return p;
  } catch (e) {
    if (e instanceof HttpFailure) throw e;
    throw new HttpFailure(`the proxy variable is not a URL: ${raw}`);
  }
}

function bypassed(url: URL, noProxy: string): boolean {
  const host = url.hostname.toLowerCase();
  for (const entry of noProxy.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    if (entry === '*') return true;
    const [name, port] = entry.split(':');
    if (port && port !== (url.port || (url.protocol === 'https:' ? '443' : '80'))) continue;
    const suffix = name.replace(/^\*?\.?/, '');
    if (host === suffix || host.endsWith(`.${suffix}`)) return true;
  }
  return false;
}
