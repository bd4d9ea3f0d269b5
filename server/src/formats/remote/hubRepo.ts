/**
 * `hf://OWNER/REPO` alone names the repo's weights as transformers picks them (modeling_utils'
 * `_get_resolved_checkpoint_files`, without a variant): `model.safetensors`, else the sharded
 * `model.safetensors.index.json`, else `pytorch_model.bin`. The one found is said in a note.
 */
import { ReaderError, unreadable } from '../readerError';
import { RemoteFile, missingFiles } from './remoteFile';
import { hfName, parseRemote } from './remoteName';

export const HUB_WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin'] as const;

/** The full name of the weights file of `hf://OWNER/REPO[@REV]`, or the name itself when it names a file. */
export async function resolveHubRepo(name: string, display: string): Promise<{ file: string; note?: string }> {
  const parsed = parseRemote(name);
  if (typeof parsed === 'string' || parsed.kind !== 'hf' || parsed.file) return { file: name };
  for (const candidate of HUB_WEIGHT_FILES) {
    const file = hfName(parsed.repo, parsed.revision, candidate, parsed.revisionGiven);
    try {
      // Opening reads the first block, which the reader then finds in the header cache's session blocks.
      const opened = await RemoteFile.open(file, display);
      await opened.close();
      return { file, note: `${parsed.repo} holds its weights as ${candidate} (what transformers loads): listed that` };
    } catch (e) {
      if (e instanceof ReaderError && missingFiles.has(e)) continue;
      throw e;
    }
  }
  throw unreadable(display, `${parsed.repo} has none of ${HUB_WEIGHT_FILES.join(', ')} at ${parsed.revision}: name the file (hf://${parsed.repo}/PATH)`);
}
