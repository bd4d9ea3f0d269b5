/**
 * `tensorport mcp [--allow-commands]`: a Model Context Protocol server on stdin/stdout for coding
 * agents, in the folder it is started in (the workspace). Runs until the client closes stdin. stdout
 * carries only the protocol; the one-line start notice goes to stderr.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { disposeParityWorkers } from '../parity/engine';
import { PYTHON_OPTION, parseCommandArgs, usePython } from './args';
import { EXIT, UsageError } from './exit';
import { createMcpServer } from './mcp/mcpServer';

declare const TENSORPORT_VERSION: string | undefined;

export async function runMcp(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { 'allow-commands': { type: 'boolean', default: false }, ...PYTHON_OPTION });
  usePython(parsed.values.python);
  if (parsed.positionals.length) throw new UsageError('mcp takes no files: it serves the folder it is started in (usage: tensorport mcp [--allow-commands] [--python PATH])');
  const root = process.cwd();
  const { server, idle } = createMcpServer({ root, allowCommands: parsed.values['allow-commands'], version: typeof TENSORPORT_VERSION === 'string' ? TENSORPORT_VERSION : '0.0.0' });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
    process.stdin.once('end', resolve);
  });
  await server.connect(transport);
  await closed;
  // Requests read before stdin ended are still answered.
  await new Promise((resolve) => setImmediate(resolve));
  await idle();
  await server.close();
  // A warm parity worker would keep the process alive after the client left.
  disposeParityWorkers();
  return EXIT.ok;
}
