/**
 * The workspace's mapping files as MCP resources, `tensorport://mapping/<path under the workspace>`:
 * reading one checks it now and gives the `check --json` document of that one file.
 */
import * as path from 'node:path';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ListResourceTemplatesRequestSchema, ListResourcesRequestSchema, ReadResourceRequestSchema } from '@modelcontextprotocol/sdk/types.js';
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

export function registerMappingResources(server: Server, root: string, index: CheckpointIndex): void {
  server.setRequestHandler(ListResourcesRequestSchema, async () => {
    const files = (await findMappings(root, { maxFiles: MAX_LISTED })).map((f) => path.relative(root, f)).sort();
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
    try {
      return { contents: [{ uri, mimeType: 'application/json', text: jsonText(await checkJson([file], { index })) }] };
    } catch (e) {
      throw invalidParams(errorLine(e));
    }
  });
}

/** The mapping a URI names, only as a .tpmap under the workspace: nothing else is read through a resource. */
function relativeOf(uri: string): string {
  if (!uri.startsWith(PREFIX)) throw invalidParams(`${uri}: not a Tensor Port mapping resource (${PREFIX}PATH)`);
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
