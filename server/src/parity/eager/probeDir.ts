/**
 * Where the probe's Python files are: server/python, shipped in the VSIX beside dist/ (.vscodeignore) and
 * found from the bundle (dist/) or the sources (server/src/parity/eager/) alike.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export const PROBE = 'tensorport_probe.py';

export function probeDir(): string {
  for (let dir = __dirname, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const here = path.join(dir, 'server', 'python');
    if (existsSync(path.join(here, PROBE))) return here;
    if (existsSync(path.join(dir, 'python', PROBE))) return path.join(dir, 'python');
  }
  throw new Error(`the parity probe (server/python/${PROBE}) is not beside ${__dirname}: a broken installation`);
}
