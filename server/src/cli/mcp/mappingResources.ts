/**
 * The workspace's mapping files as MCP resources, `tensorport://mapping/<path under the workspace>`:
 * reading one checks it now and gives the `check --json` document of that one file.
 */
import * as path from 'node:path';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ListResourceTemplatesRequestSchema, ListResourcesRequestSchema, ReadResourceRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { clip } from '../../formats/clip';
import { Roots, checkPath, confinement } from '../../formats/roots';
import { CheckpointIndex } from '../../index/checkpointIndex';
import { findMappings } from '../../index/findFiles';
import { checkJson } from '../../tools/checkTool';
import { jsonText } from '../../tools/definitions';
import { errorLine } from '../../tools/invoke';
import { invalidParams } from './protocolError';

const PREFIX = 'tensorport://mapping/';
/** Listing stops here: an agent wants the mappings of a project, not a crawl of a home folder. */
const MAX_LISTED = 1000;

export const mappingUri = (relative: string): string => PREFIX + relative.split(path.sep).map(encodeURIComponent).join('/');

/** `index` and `roots` are asked at each request: both change when the client's roots do. */
export function registerMappingResources(server: Server, root: string, index: () => CheckpointIndex, roots: () => Promise<Roots>): void {
  server.setRequestHandler(ListResourcesRequestSchema, async () => {
    const confined = await roots();
    // A symlink in the workspace to a mapping elsewhere is not listed: reading it would be refused.
    const found = await findMappings(root, { maxFiles: MAX_LISTED });
    const inside = await Promise.all(found.map((f) => confinement.run(confined, () => checkPath(f)).then(() => true, () => false)));
    const files = found.filter((_f, i) => inside[i]).map((f) => path.relative(root, f)).sort();
    return { resources: files.map((rel) => ({ uri: mappingUri(rel), name: rel, mimeType: 'application/json', description: `The diagnostics of ${rel}, checked when read` })) };
  });
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: [{
      uriTemplate: `${PREFIX}{+path}`, name: 'mapping', title: 'Mapping diagnostics', mimeType: 'application/json',
      description: 'A .tpmap mapping file of the workspace with its current diagnostics (the check tool\'s document for that file).',
    }],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const { uri } = request.params;
    const file = path.relative(process.cwd(), path.join(root, relativeOf(uri)));
    const confined = await roots();
    try {
      // Confined like a tool call: the mapping file itself (a symlink to one outside is refused when
      // opened) and the checkpoints its source and target lines name.
      const doc = await confinement.run(confined, () => checkJson([file], { index: index() }));
      return { contents: [{ uri, mimeType: 'application/json', text: jsonText(doc) }] };
    } catch (e) {
      throw invalidParams(errorLine(e));
    }
  });
}

/** The mapping a URI names, only as a .tpmap under the workspace: nothing else is read through a resource. */
function relativeOf(uri: string): string {
  if (!uri.startsWith(PREFIX)) throw invalidParams(`${clip(uri)}: not a Tensor Port mapping resource (${PREFIX}PATH)`);
  let parts: string[];
  try {
    parts = uri.slice(PREFIX.length).split('/').map(decodeURIComponent);
  } catch {
    throw invalidParams('a mapping resource URI with a malformed escape');
  }
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('/') || p.includes('\\') || p.includes('\0')) || !parts[parts.length - 1].endsWith('.tpmap')) {
    throw invalidParams('a mapping resource names a .tpmap file under the workspace');
  }
  return parts.join(path.sep);
}
