/**
 * A confined tool call (the MCP server's) checks every path argument against its roots before any
 * work: checkpoints, mappings, model source (`FILE.py::Class`), configs, parity's models, inputs and
 * command folder, and the files convert and map would write (where a new file would land: the real
 * path of its nearest existing parent). The readers check each file they open again (roots.ts), which
 * covers the files a checkpoint or a mapping names and any symlink swapped in meanwhile.
 */
import { describeFsError } from '../formats/byteSource';
import { clip } from '../formats/clip';
import { OutsideRoots, checkPath, confinement, outsideMessage } from '../formats/roots';
import { ToolDefinition } from './definitions';
import { InputError, jsonOption } from './inputError';

/**
 * A remote checkpoint (hf://, https://) names no local file: nothing under the roots to check, and it
 * is allowed — reading it is header-only and writes nothing but the header cache. `http://` (loopback
 * only, for tests and local mirrors) and any other scheme are refused here: an agent must not probe
 * services on the user's machine through a tool call.
 */
const URL_LIKE = /^[a-z][a-z0-9+.-]+:\/\//i;
const REMOTE_ALLOWED = /^(hf|https):\/\//i;

/** The local file a path argument names: the file of `FILE.py::Class`, the file of `NAME=FILE.npy`. */
function filePart(field: string, value: string): string | undefined {
  if (field === 'inputs') {
    const eq = value.indexOf('=');
    const spec = eq < 0 ? value : value.slice(eq + 1);
    return spec.startsWith('random:') ? undefined : spec;
  }
  const sep = value.lastIndexOf('::');
  return sep > 0 ? value.slice(0, sep) : value;
}

export async function checkToolPaths(def: ToolDefinition, input: Record<string, unknown>): Promise<void> {
  const roots = confinement.getStore();
  if (!roots) return;
  for (const field of [...def.paths, ...(def.name === 'parity' ? ['inputs'] : [])]) {
    const v = input[field];
    for (const value of Array.isArray(v) ? v : v === undefined ? [] : [v]) {
      if (typeof value !== 'string') continue;
      if (URL_LIKE.test(value)) {
        if (REMOTE_ALLOWED.test(value) && field !== 'output') continue;
        throw new InputError(`${jsonOption(field)} ${clip(value)}: ${field === 'output' ? 'the output is always a local file' : 'only hf:// and https:// remote names are allowed here'}`);
      }
      const file = filePart(field, value);
      if (file === undefined) continue;
      try {
        await checkPath(file);
      } catch (e) {
        // A path that cannot be resolved (too long, permission denied…) cannot be shown to be inside: refused too.
        throw new InputError(`${jsonOption(field)} ${clip(value)}: ${e instanceof OutsideRoots ? outsideMessage(roots) : `cannot be checked against the server's roots: ${clip(describeFsError(e))}`}`);
      }
    }
  }
}
