/**
 * ONNX external data stays with its model. An external-data location is a path relative to the
 * model's folder; onnx's own loader once followed `..`, absolute paths and symlinks out of it
 * (CVE-2024-27318, CVE-2024-5187), so a downloaded model could make a converter copy ~/.ssh into its
 * output. Here a location that leaves the folder — by its spelling or, symlinks followed, by where it
 * resolves — is refused, in every face (CLI, editor, MCP). The file is checked again when opened
 * (openRegular's `within`), so a symlink swapped in after this check reads nothing either.
 */
import * as path from 'node:path';
import { clip } from '../clip';
import { isWithin, realpathNearest, realpathNearestSync } from '../roots';

/** Why `location` leaves the folder of `modelFile` by its spelling alone, or undefined. */
function spelledOutside(location: string): boolean {
  return path.isAbsolute(location) || path.win32.isAbsolute(location) || /^[a-zA-Z]:/.test(location) || location.split(/[\\/]/).includes('..');
}

/** The refusal: names the location (the model file is named by the caller's error). */
export function escapeReason(location: string): string {
  return `external data location "${clip(location, 200)}" resolves outside the model's folder (symlinks followed): refused, nothing read from it`;
}

/** The external file's absolute path, or throws `fail(reason)` when it resolves outside the model's folder. */
export async function externalDataFile(modelFile: string, location: string, fail: (reason: string) => Error): Promise<string> {
  const dir = path.dirname(path.resolve(modelFile));
  if (spelledOutside(location)) throw fail(escapeReason(location));
  const file = path.resolve(dir, location);
  const [realDir, real] = await Promise.all([realpathNearest(dir), realpathNearest(file)]);
  if (!isWithin(real, realDir)) throw fail(escapeReason(location));
  return file;
}

/** externalDataFile for synchronous callers. */
export function externalDataFileSync(modelFile: string, location: string, fail: (reason: string) => Error): string {
  const dir = path.dirname(path.resolve(modelFile));
  if (spelledOutside(location)) throw fail(escapeReason(location));
  const file = path.resolve(dir, location);
  if (!isWithin(realpathNearestSync(file), realpathNearestSync(dir))) throw fail(escapeReason(location));
  return file;
}
