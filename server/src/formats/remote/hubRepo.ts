/**
 * `hf://OWNER/REPO` alone names the repo's weights as transformers picks them (modeling_utils'
 * `_get_resolved_checkpoint_files` in transformers 5.24, without a variant: SAFE_WEIGHTS_NAME, then
 * SAFE_WEIGHTS_INDEX_NAME, then WEIGHTS_NAME, then WEIGHTS_INDEX_NAME): `model.safetensors`, else the
 * sharded `model.safetensors.index.json`, else `pytorch_model.bin`. The one found is said in a note.
 * The last, a sharded `pytorch_model.bin.index.json`, is not a format read here: found, it is said so.
 */
import { ReaderError, unreadable } from '../readerError';
import { RemoteFile, missingFiles } from './remoteFile';
import { hfName, parseRemote } from './remoteName';

export const HUB_WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin'] as const;
const SHARDED_BIN = 'pytorch_model.bin.index.json';

/** The full name of the weights file of `hf://OWNER/REPO[@REV]`, or the name itself when it names a file. */
export async function resolveHubRepo(name: string, display: string): Promise<{ file: string; note?: string }> {
  const parsed = parseRemote(name);
  if (typeof parsed === 'string' || parsed.kind !== 'hf' || parsed.file) return { file: name };
  for (const candidate of HUB_WEIGHT_FILES) {
    const file = hfName(parsed.repo, parsed.revision, candidate, parsed.revisionGiven);
    // Opening reads the first block, which the reader then finds in the header cache's session blocks.
    if (await exists(file, display)) return { file, note: `${parsed.repo} holds its weights as ${candidate} (what transformers loads): listed that` };
  }
  if (await exists(hfName(parsed.repo, parsed.revision, SHARDED_BIN, parsed.revisionGiven), display)) {
    throw unreadable(display, `${parsed.repo} holds its weights as ${SHARDED_BIN} (sharded pytorch_model.bin, what transformers would load), which is not read here: name one shard (hf://${parsed.repo}/PATH)`);
  }
  throw unreadable(display, `${parsed.repo} has none of ${HUB_WEIGHT_FILES.join(', ')} at ${parsed.revision}: name the file (hf://${parsed.repo}/PATH)`);
}

/** Whether the file is there (HTTP 404 is no; any other failure is the answer). */
async function exists(file: string, display: string): Promise<boolean> {
  try {
    await (await RemoteFile.open(file, display)).close();
    return true;
  } catch (e) {
    if (e instanceof ReaderError && missingFiles.has(e)) return false;
    throw e;
  }
}
