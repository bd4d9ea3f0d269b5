// Bundles the @vscode/test-electron suite into out/e2e/ (VS Code's extension host loads plain JS).
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning', external: ['vscode', 'mocha'] };
await build({ ...common, entryPoints: ['test/e2e/vscode/runTest.ts'], outfile: 'out/e2e/runTest.js', external: ['@vscode/test-electron'] });
await build({ ...common, entryPoints: ['test/e2e/vscode/suite/index.ts'], outfile: 'out/e2e/suite/index.js' });
