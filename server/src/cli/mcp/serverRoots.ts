/**
 * The MCP server's roots: the folder it starts in, each `--allow DIR`, and the roots the client
 * announces (`roots/list`, asked again on `notifications/roots/list_changed`). Every tool call and
 * resource read runs confined to them (formats/roots.ts). Roots are kept as real paths, so a root
 * reached through a symlink still contains what lies under its target.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { RootsListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Roots } from '../../formats/roots';

export class ServerRoots {
  private client: string[] = [];
  private pending: Promise<void> = Promise.resolve();

  /** `fixed`: the start folder and the --allow folders, already real paths. */
  constructor(private readonly fixed: readonly string[], private readonly log: (line: string) => void, private readonly onChange: () => void) {}

  /** The roots now, once any roots/list in flight has answered. */
  async current(): Promise<Roots> {
    await this.pending;
    return { dirs: [...new Set([...this.fixed, ...this.client])] };
  }

  /** Asks the client for its roots once initialized, and again whenever it says they changed. */
  listen(server: Server): void {
    const refresh = () => {
      if (!server.getClientCapabilities()?.roots) return;
      this.pending = this.pending.then(() => this.ask(server));
    };
    const previous = server.oninitialized;
    server.oninitialized = () => { previous?.(); refresh(); };
    server.setNotificationHandler(RootsListChangedNotificationSchema, () => { refresh(); });
  }

  private async ask(server: Server): Promise<void> {
    let uris: string[];
    try {
      uris = (await server.listRoots()).roots.map((r) => r.uri);
    } catch (e) {
      this.log(`roots/list failed (${(e as Error).message}); keeping the previous client roots`);
      return;
    }
    const dirs: string[] = [];
    for (const uri of uris) {
      const dir = await realDir(uri);
      if (dir) dirs.push(dir);
      else this.log(`client root ${uri.slice(0, 300)} is not a local folder that exists: ignored`);
    }
    this.client = dirs;
    this.onChange();
  }
}

/** A file:// root's real path, or undefined (another scheme, or no such folder). */
async function realDir(uri: string): Promise<string | undefined> {
  if (!uri.startsWith('file:')) return undefined;
  try {
    const real = await fs.realpath(fileURLToPath(uri));
    return (await fs.stat(real)).isDirectory() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** The start folder and each --allow DIR as real paths; a --allow that is not a folder is the user's mistake, said. */
export async function fixedRoots(start: string, allow: readonly string[]): Promise<string[]> {
  const out = [await fs.realpath(start)];
  for (const a of allow) {
    let real: string;
    try {
      real = await fs.realpath(path.resolve(start, a));
    } catch {
      throw new Error(`--allow ${a.slice(0, 300)}: no such folder`);
    }
    if (!(await fs.stat(real)).isDirectory()) throw new Error(`--allow ${a.slice(0, 300)}: not a folder`);
    out.push(real);
  }
  return out;
}
