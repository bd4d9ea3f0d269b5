/**
 * Config values for shape inference from a Hugging Face-style `config.json` (beside a checkpoint, or
 * named): numbers, booleans, strings (`feed_forward_proj: "gated-gelu"` picks a variant), lists of
 * numbers (`depths`) and of strings (DeBERTa's `pos_att_type`, `layer_types`) by field name (`hidden_size`), nested configs by dotted path
 * (`text_config.hidden_size`). A missing file is no values; a malformed one is no values and a reason.
 */
import { readRegularFile } from '../formats/openRegular';
import { besidePath } from '../formats/remote/besideFiles';
import type { Binding } from './interpret';

export interface ConfigValues {
  /** Absolute path of the config.json read. */
  file: string;
  values: Map<string, Binding>;
  /** Why the file could not be used, when it exists but is not a JSON object. */
  problem?: string;
}

export async function readConfigBeside(checkpointPath: string): Promise<ConfigValues | undefined> {
  return readConfigFile(besidePath(checkpointPath, 'config.json'));
}

/** A named config file; undefined when it cannot be read at all. */
export async function readConfigFile(file: string): Promise<ConfigValues | undefined> {
  let text: string;
  try {
    text = await readRegularFile(file, 'a config file'); // a pipe named config.json is skipped, not waited on
  } catch {
    return undefined;
  }
  const values = new Map<string, Binding>();
  try {
    const doc: unknown = JSON.parse(text);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { file, values, problem: 'not a JSON object' };
    flatten(doc as Record<string, unknown>, '', values, 0);
  } catch (e) {
    return { file, values, problem: `not valid JSON: ${(e as Error).message}` };
  }
  return { file, values };
}

function flatten(o: Record<string, unknown>, prefix: string, out: Map<string, Binding>, depth: number): void {
  for (const [k, v] of Object.entries(o)) {
    const name = prefix + k;
    if (typeof v === 'number' && Number.isFinite(v)) out.set(name, v);
    else if (typeof v === 'boolean') out.set(name, v);
    else if (typeof v === 'string' && v.length <= 200) out.set(name, v);
    else if (Array.isArray(v) && v.length <= 4096 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) out.set(name, v as number[]);
    else if (Array.isArray(v) && v.length > 0 && v.length <= 4096 && v.every((x) => typeof x === 'string' && x.length <= 200)) out.set(name, v as string[]);
    else if (v && typeof v === 'object' && !Array.isArray(v) && depth < 4) flatten(v as Record<string, unknown>, `${name}.`, out, depth + 1);
  }
}
