/** Mocha entry loaded by VS Code's extension host: runs the suites of this folder. */
import Mocha from 'mocha';
import { mappingSuite } from './mapping.test';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: true, timeout: 60_000 });
  mocha.suite.emit('pre-require', globalThis, 'mapping', mocha);
  mappingSuite();
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}
