/**
 * The config files beside a checkpoint that some checks read (`config.json`, `params.json`: head
 * counts, model type). Their stamp (mtimes) is part of what an analysis depends on: a diagnostic that
 * says "put config.json beside the checkpoint" must go away once the user does, without the checkpoint
 * itself changing.
 */
import { statSync } from 'node:fs';
import { readRegularFileSync } from '../formats/openRegular';
import { besidePath } from '../formats/remote/besideFiles';
import { SideData } from './sideData';

type ConfigFile = 'config.json' | 'params.json';
const FILES: ConfigFile[] = ['config.json', 'params.json'];

/** That file's JSON object, or undefined when it is absent, unreadable, not JSON or not an object. */
export function readConfigFile(side: SideData, file: ConfigFile): Record<string, unknown> | undefined {
  try {
    const json: unknown = JSON.parse(readRegularFileSync(besidePath(side.path, file), 'a config file').toString('utf8'));
    return json !== null && typeof json === 'object' && !Array.isArray(json) ? json as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

/** `mtime:mtime` of the config files beside the side's checkpoint (0 for one that is absent). */
export function configStamp(side: SideData | undefined): string {
  if (!side) return '';
  return FILES.map((f) => statSync(besidePath(side.path, f), { throwIfNoEntry: false })?.mtimeMs ?? 0).join(':');
}

/** A per-side cache that recomputes when the side's config files change. */
export function byConfig<T>(compute: (side: SideData) => T): (side: SideData) => T {
  const cache = new WeakMap<SideData, { stamp: string; value: T }>();
  return (side) => {
    const stamp = configStamp(side);
    const hit = cache.get(side);
    if (hit && hit.stamp === stamp) return hit.value;
    const value = compute(side);
    cache.set(side, { stamp, value });
    return value;
  };
}
