/**
 * The event channel of eager and command mode: a local socket the child process connects to, named in
 * its environment (`TENSORPORT_CHANNEL`), so events never share stdout with a launcher's ranks, warnings
 * or progress bars. POSIX: a Unix socket in a private (0700) temp folder; Windows: 127.0.0.1 on a port the
 * system picks. Either way the first line must carry `TENSORPORT_CHANNEL_TOKEN` (a random secret only
 * the child's environment holds); a connection without it is dropped. One connection is served at a
 * time — under a launcher only rank 0 connects (server/python/tensorport_channel.py).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Server, Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { parseEventLine } from '../eventLine';

export interface EventChannel {
  /** Environment for the child: where to connect and the token to show. */
  env: Record<string, string>;
  /** Resolves once every connection has ended and its last line is handled (or after `ms`): call it after the child exits. */
  settle(ms?: number): Promise<void>;
  close(): void;
}

export interface ChannelHandlers {
  onEvent(ev: Record<string, unknown>): void;
  /** A line that is not a JSON object, with why. */
  onBadLine(line: string, why: string): void;
  /** A client showed the token: from now on its events come here. */
  onConnect?(): void;
}

export async function openChannel(h: ChannelHandlers): Promise<EventChannel> {
  const token = randomBytes(16).toString('hex');
  const windows = process.platform === 'win32';
  const dir = windows ? undefined : mkdtempSync(path.join(tmpdir(), 'tensorport-ch-'));
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => undefined);
    let trusted = false;
    const lines = createInterface({ input: sock, crlfDelay: Infinity });
    lines.on('line', (raw) => {
      const line = raw.trim();
      if (!line) return;
      let ev: Record<string, unknown>;
      try {
        ev = parseEventLine(line);
      } catch (e) {
        if (trusted) h.onBadLine(line, (e as Error).message);
        else sock.destroy();
        return;
      }
      if (!trusted) {
        if (ev.event === 'hello' && ev.token === token) {
          trusted = true;
          h.onConnect?.();
          // The answer lets the client go on only once this side knows: its stdout is then only output.
          sock.write('{"event":"welcome"}\n');
          return;
        }
        sock.destroy();
        return;
      }
      h.onEvent(ev);
    });
    // After the last line: readline's close follows the socket's end, once every line is out.
    lines.on('close', () => { sockets.delete(sock); if (sockets.size === 0) for (const w of waiters.splice(0)) w(); });
  });
  const waiters: (() => void)[] = [];
  const address = await new Promise<string>((resolve, reject) => {
    server.once('error', reject);
    if (dir) server.listen(path.join(dir, 'events.sock'), () => resolve(`unix:${path.join(dir, 'events.sock')}`));
    else server.listen(0, '127.0.0.1', () => { const a = server.address(); resolve(`tcp:127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`); });
  });
  server.unref();
  return {
    env: { TENSORPORT_CHANNEL: address, TENSORPORT_CHANNEL_TOKEN: token },
    settle: (ms = 2000) => (sockets.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      waiters.push(() => { clearTimeout(t); resolve(); });
    })),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
