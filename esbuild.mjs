// Bundles the client (vscode external), the language server and the CLI into dist/, and copies the
// WebAssembly the Python parser loads at run time. onnxruntime-node stays external: it is a native
// module that loads its own binaries from node_modules.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };
const nativeExternals = ['onnxruntime-node'];

mkdirSync('dist', { recursive: true });
for (const wasm of ['node_modules/web-tree-sitter/tree-sitter.wasm', 'node_modules/tree-sitter-python/tree-sitter-python.wasm']) {
  copyFileSync(wasm, `dist/${wasm.split('/').pop()}`);
}

await Promise.all([
  build({ ...common, entryPoints: ['client/src/extension.ts'], outfile: 'dist/client.js', external: ['vscode'] }),
  build({ ...common, entryPoints: ['server/src/lsp/main.ts'], outfile: 'dist/server.js', external: nativeExternals }),
  build({ ...common, entryPoints: ['server/src/cli/main.ts'], outfile: 'dist/cli.js', external: nativeExternals }),
]);
