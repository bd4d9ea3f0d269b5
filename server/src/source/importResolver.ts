/**
 * Python's import system, read statically over an environment's search path (pythonEnv.ts): a dotted
 * module name → its file (`pkg/__init__.py`, `pkg/mod.py`, a namespace package's folder; a `.pyi`
 * stub only where no `.py` exists), and a qualified name (`paddle.nn.TransformerEncoder`) → the class
 * or function it is, through the re-exports of `__init__.py` files (`from .layer.transformer import
 * TransformerEncoder`, `from torch.nn.modules import *`, `import x.y as z`). Files are read and lowered
 * lazily (pyLower cuts big files at their top-level blocks and parses a class when it is asked for),
 * cached by file identity (path, size, mtime) across models and bounded; import cycles terminate.
 * Nothing is executed: a name bound by code (`X = make()`) is not followed.
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { readRegularFileSync } from '../formats/openRegular';
import { ClassDef, FunctionDef, ImportBinding, SourceFile } from './ir';
import { lowerPythonSync } from './pyLower';

export type Resolved =
  | { t: 'class'; def: ClassDef; file: SourceFile }
  | { t: 'func'; fn: FunctionDef; file: SourceFile }
  | { t: 'module'; name: string }
  /** A module-level name bound by code (`to_2tuple = _ntuple(2)`): the interpreter evaluates the file's top level for it. */
  | { t: 'var'; file: SourceFile; name: string };

/** Files one resolver (one model load) may read: a model reaches a few dozen; a runaway walk stops here. */
const MAX_FILES = 256;
/** Re-export chains longer than this are not followed (torch's are 3 deep). */
const MAX_DEPTH = 24;
/** Lowered files kept across models, and the source bytes they hold. */
const CACHE_FILES = 512;
const CACHE_BYTES = 256 * 2 ** 20;
/** A single source file larger than this is not read (generated tables, vendored bundles). */
const MAX_FILE_BYTES = 8 * 2 ** 20;

const lowered = new Map<string, { stamp: string; file: SourceFile; bytes: number }>();
let cachedBytes = 0;

export class ImportResolver {
  /** Files this resolver read, with the stamp they were read at: a model revalidates them. */
  readonly read = new Map<string, string>();
  private readonly modules = new Map<string, { file?: string } | null>();
  private readonly stats = new Map<string, 'file' | 'dir' | undefined>();
  private readonly files = new Map<string, SourceFile | undefined>();
  private readonly answers = new Map<string, Resolved | undefined>();

  constructor(readonly roots: readonly string[]) {}

  /** The file of a dotted module; `{}` for a namespace package (a folder without `__init__.py`); undefined if none. */
  moduleFile(mod: string): { file?: string } | undefined {
    if (this.modules.has(mod)) return this.modules.get(mod) ?? undefined;
    const parts = mod.split('.');
    let found: { file?: string } | null = null;
    let namespace = false;
    if (parts.every((p) => /^[A-Za-z_]\w*$/.test(p))) {
      for (const root of this.roots) {
        const base = path.join(root, ...parts);
        const file = [path.join(base, '__init__.py'), `${base}.py`, path.join(base, '__init__.pyi'), `${base}.pyi`].find((p) => this.kind(p) === 'file');
        if (file) { found = { file }; break; }
        namespace ||= this.kind(base) === 'dir';
      }
    }
    if (!found && namespace) found = {};
    this.modules.set(mod, found);
    return found ?? undefined;
  }

  /** The dotted module a file of the search path is (`…/site-packages/paddle/nn/__init__.py` → `paddle.nn`). */
  moduleOf(file: string): string | undefined {
    let best: string | undefined;
    for (const root of this.roots) if (file.startsWith(root + path.sep) && (!best || root.length > best.length)) best = root;
    if (!best) return undefined;
    const parts = path.relative(best, file).replace(/\.pyi?$/, '').split(path.sep);
    if (parts[parts.length - 1] === '__init__') parts.pop();
    return parts.join('.');
  }

  /** The absolute module an import names from `from` (`from ..layer import x` in `paddle/nn/functional/…`). */
  absolute(from: SourceFile, b: ImportBinding): string | undefined {
    if (b.level === 0) return b.module;
    const self = this.moduleOf(from.path);
    if (self === undefined) return undefined;
    const pkg = self.split('.');
    if (!/[\\/]__init__\.pyi?$/.test(from.path)) pkg.pop();
    if (b.level - 1 > pkg.length) return undefined;
    const base = pkg.slice(0, pkg.length - (b.level - 1));
    return [...base, ...(b.module ? b.module.split('.') : [])].join('.');
  }

  /** `paddle.nn.TransformerEncoder`: the class, function or module the name is, read from the environment's files. */
  resolveQualified(q: string): Resolved | undefined {
    if (this.answers.has(q)) return this.answers.get(q);
    this.answers.set(q, undefined); // a cycle back to this name finds nothing
    const parts = q.split('.');
    let out: Resolved | undefined;
    // The longest prefix that is a module, then its members: `paddle.vision.models` + `resnet50`.
    for (let i = parts.length - 1; i >= 1 && !out; i--) {
      const mod = parts.slice(0, i).join('.');
      if (!this.moduleFile(mod)) continue;
      let cur: Resolved | undefined = { t: 'module', name: mod };
      for (const name of parts.slice(i)) cur = cur?.t === 'module' ? this.member(cur.name, name, 0, new Set()) : undefined;
      out = cur;
    }
    if (!out && this.moduleFile(q)) out = { t: 'module', name: q };
    this.answers.set(q, out);
    return out;
  }

  /** `name` in module `mod`: defined there, imported there (followed), re-exported by a star import, or a submodule. */
  private member(mod: string, name: string, depth: number, seen: Set<string>): Resolved | undefined {
    const key = `${mod}:${name}`;
    if (depth > MAX_DEPTH || seen.has(key)) return undefined;
    seen.add(key);
    const m = this.moduleFile(mod);
    if (!m) return undefined;
    const file = m.file ? this.load(m.file) : undefined;
    if (file) {
      const def = file.classes.get(name);
      if (def) return { t: 'class', def, file };
      const fn = file.functions.get(name);
      if (fn) return { t: 'func', fn, file };
      // The last binding of the name wins, as at run time (`try: from a import X` / `except: from b import X` takes the first found).
      for (let i = file.imports.length - 1; i >= 0; i--) {
        const b = file.imports[i];
        if (b.local !== name) continue;
        const target = this.absolute(file, b);
        if (target === undefined) continue;
        // `import x.y as z` binds module x.y (pyLower records `import x.y` as binding `x`).
        if (!b.name) return this.moduleFile(b.module) ? { t: 'module', name: b.module } : undefined;
        const r = this.member(target, b.name, depth + 1, seen);
        if (r) return r;
      }
      if (!name.startsWith('_')) {
        for (const b of file.imports) {
          if (b.local !== '*') continue;
          const target = this.absolute(file, b);
          const r = target !== undefined ? this.member(target, name, depth + 1, seen) : undefined;
          if (r) return r;
        }
      }
      if (file.top.some((s) => s.k === 'assign' && s.targets.some((t) => t.k === 'name' && t.id === name))) return { t: 'var', file, name };
    }
    return this.moduleFile(`${mod}.${name}`) ? { t: 'module', name: `${mod}.${name}` } : undefined;
  }

  private kind(p: string): 'file' | 'dir' | undefined {
    if (this.stats.has(p)) return this.stats.get(p);
    let k: 'file' | 'dir' | undefined;
    try { const st = statSync(p); k = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : undefined; } catch { k = undefined; }
    this.stats.set(p, k);
    return k;
  }

  /** The lowered file of a dotted module (`sys.modules[name]`); undefined for a namespace package or none. */
  moduleSource(mod: string): SourceFile | undefined {
    const m = this.moduleFile(mod);
    return m?.file ? this.load(m.file) : undefined;
  }

  /** A file of the environment, lowered (lazily); the same lowered file across models while its size and mtime hold. */
  private load(p: string): SourceFile | undefined {
    if (this.files.has(p)) return this.files.get(p);
    if (this.files.size >= MAX_FILES) return undefined;
    let file: SourceFile | undefined;
    try {
      const st = statSync(p);
      const stamp = `${st.size}:${st.mtimeMs}`;
      this.read.set(p, stamp);
      const hit = lowered.get(p);
      if (hit && hit.stamp === stamp) {
        file = hit.file;
        lowered.delete(p); lowered.set(p, hit); // most recently used last
      } else if (st.size <= MAX_FILE_BYTES) {
        file = lowerPythonSync(p, readRegularFileSync(p, 'a Python source file').toString('utf8'));
        remember(p, stamp, file, st.size);
      }
    } catch {
      file = undefined;
    }
    this.files.set(p, file);
    return file;
  }
}

function remember(p: string, stamp: string, file: SourceFile, bytes: number): void {
  const old = lowered.get(p);
  if (old) { cachedBytes -= old.bytes; lowered.delete(p); }
  lowered.set(p, { stamp, file, bytes });
  cachedBytes += bytes;
  for (const [k, v] of lowered) {
    if (lowered.size <= CACHE_FILES && cachedBytes <= CACHE_BYTES) break;
    lowered.delete(k);
    cachedBytes -= v.bytes;
  }
}
