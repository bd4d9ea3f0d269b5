/**
 * Test support: the conversion-script corpus — transformers' own `convert_*.py` scripts, read in place
 * from the copy of transformers 4.46.3 that test/python/ensure-venv.mjs installs into
 * test/python/.venv/corpus (later wheels leave the scripts out), each paired with the checkpoints
 * test/fixtures/scripts-corpus/make_corpus.py wrote with the real libraries. A case is checked by
 * copying its script into a scratch folder with a `# tensorport:` comment naming its checkpoints.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FIXTURES, scratchDir } from './tmp';

export const CORPUS = path.join(__dirname, '..', 'python', '.venv', 'corpus', 'transformers', 'models');
export const CORPUS_CKPT = path.join(FIXTURES, 'scripts-corpus', 'ckpt');

export interface CorpusCase {
  /** The script, relative to transformers/models. */
  script: string;
  source: string;
  target: string;
  /** What the checker does not follow in this script yet (the README table's last column). */
  notYet: string;
}

export const CASES: CorpusCase[] = [
  { script: 'vit/convert_vit_timm_to_pytorch.py', source: 'vit_timm.safetensors', target: 'vit_hf/model.safetensors', notYet: '' },
  { script: 'deit/convert_deit_timm_to_pytorch.py', source: 'deit_timm.safetensors', target: 'deit_hf/model.safetensors', notYet: '' },
  { script: 'vit/convert_dino_to_pytorch.py', source: 'dino_timm.safetensors', target: 'dino_hf/model.safetensors', notYet: '' },
  { script: 'vit_msn/convert_msn_to_pytorch.py', source: 'msn_original.safetensors', target: 'msn_hf/model.safetensors', notYet: '' },
  { script: 'beit/convert_beit_unilm_to_pytorch.py', source: 'beit_timm.safetensors', target: 'beit_hf/model.safetensors', notYet: 'keys under `f"{prefix}blocks…"` where `prefix` comes from a conditional expression; the semantic-segmentation heads' },
  { script: 'data2vec/convert_data2vec_vision_original_pytorch_checkpoint_to_pytorch.py', source: 'beit_timm.safetensors', target: 'data2vec_hf/model.safetensors', notYet: 'keys under `f"{prefix}…"` where `prefix` is a parameter; the fused qkv with separate q/v biases' },
  { script: 'llama/convert_llama_weights_to_hf.py', source: 'llama_meta/consolidated.00.pth', target: 'llama_hf/model.safetensors', notYet: '' },
  { script: 'mistral/convert_mistral_weights_to_hf.py', source: 'mistral_meta/consolidated.00.pth', target: 'mistral_hf/model.safetensors', notYet: '' },
  { script: 'mixtral/convert_mixtral_weights_to_hf.py', source: 'mixtral_meta/consolidated.00.pt', target: 'mixtral_hf/model.safetensors', notYet: 'expert keys built with `+` (`expert_key + ".weight"`) and the per-expert slices in comprehensions' },
  { script: 'olmo/convert_olmo_weights_to_hf.py', source: 'olmo_original/model.pt', target: 'olmo_hf/model.safetensors', notYet: '' },
  { script: 'swin/convert_swin_timm_to_pytorch.py', source: 'swin_timm.safetensors', target: 'swin_hf/model.safetensors', notYet: 'every key is made by a `rename_key(name)` function of `str.replace` calls' },
  { script: 'clip/convert_clip_original_pytorch_to_hf.py', source: 'clip_openclip.safetensors', target: 'clip_hf/model.safetensors', notYet: 'copies module attributes (`hf_linear.weight = pt_linear.weight`): no key strings' },
];

/** Why the corpus cannot be read here, or undefined when it can. */
export function corpusMissing(): string | undefined {
  if (process.env.TENSORPORT_PYTHON_TESTS === 'skip') return 'TENSORPORT_PYTHON_TESTS=skip';
  return existsSync(CORPUS) ? undefined : `no ${path.relative(process.cwd(), CORPUS)} (\`node test/python/ensure-venv.mjs\` installs it)`;
}

/** The script's text with the `# tensorport:` comment (absolute checkpoint paths) as its first line. */
export function withDirective(c: CorpusCase, source = c.source): string {
  const text = readFileSync(path.join(CORPUS, c.script), 'utf8');
  return `# tensorport: source=${path.join(CORPUS_CKPT, source)} target=${path.join(CORPUS_CKPT, c.target)}\n${text}`;
}

const scratch = scratchDir('scripts-corpus');

/** Writes a case's script (edited or not) into the scratch folder; returns its path. */
export function scriptCopy(c: CorpusCase, text: string): string {
  return scratch.file(path.basename(c.script), text);
}
