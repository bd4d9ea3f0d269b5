/**
 * The TypeScript compiler, loaded on the first TypeScript model or script, not when the server or CLI
 * starts. Loaded with `require`, not `import()`: a dynamic import of this 9 MB CommonJS file sends it
 * through Node's ESM loader, whose format detection and CommonJS lexer cost ~350 ms before the compiler
 * even runs (a `keys model.ts::build` took 0.67 s, of which the model ~10 ms).
 */
import { createRequire } from 'node:module';
import type TS from 'typescript';

let ts: typeof TS | undefined;

export function typescriptCompiler(): typeof TS {
  ts ??= createRequire(__filename)('typescript') as typeof TS;
  return ts;
}
