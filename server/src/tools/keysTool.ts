/** `keys`: a checkpoint's (or `FILE.py::Class` model source's) tensors, without reading tensor data. */
import { KeysDocument, keysDocument } from '../formats/keysDocument';
import { readCheckpoint } from '../formats/readCheckpoint';
import { DEFAULT_READ_LIMITS } from '../formats/readLimits';
import { CheckpointInfo } from '../formats/tensorInfo';
import { parseModelSpec, readModelSource } from '../source/readModelSource';
import { missingClassMessage } from '../source/classNames';
import { ReaderError } from '../formats/readerError';
import { InputError, OptionName, cliOption } from './inputError';

export interface KeysInput { file: string; config?: string }

/**
 * What the file holds (or model source will hold); `isSource` picks the CLI's table. A safetensors file's
 * tensors come as columns (tableOf(info)): the CLI writes from them without an object per tensor.
 */
export async function readKeys(input: KeysInput, option: OptionName = cliOption): Promise<{ info: CheckpointInfo; isSource: boolean }> {
  const isSource = parseModelSpec(input.file) !== undefined;
  const classless = isSource ? undefined : missingClassMessage(input.file);
  if (classless) throw new ReaderError('unreadable-checkpoint', input.file, classless);
  if (input.config !== undefined && !isSource) throw new InputError(`${option('config')} applies to model source (FILE.py::Class): a checkpoint lists what it holds`);
  const info = isSource ? await readModelSource(input.file, undefined, { config: input.config }) : await readCheckpoint(input.file, { ...DEFAULT_READ_LIMITS, table: true });
  return { info, isSource };
}

/** The `keys --json` document of cli.md. */
export async function keysJson(input: KeysInput, option?: OptionName): Promise<KeysDocument> {
  return keysDocument((await readKeys(input, option)).info);
}
