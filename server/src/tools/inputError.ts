/**
 * A bad argument or an input that cannot be used, said in one line. The CLI turns it into exit 2 on
 * stderr, the MCP server and the editor's language-model tools into a tool error.
 */
export class InputError extends Error {}

/**
 * How an option is named to whoever passed it: `--max-shard-size` on the command line,
 * `maxShardSize` in a tool call's JSON. Core messages name options through it, so each face
 * tells its user what to change in its own words.
 */
export type OptionName = (flag: string, field?: string) => string;
export const cliOption: OptionName = (flag) => `--${flag}`;
/** The field is the flag in camelCase unless named (a repeatable `--input` is the array `inputs`). */
export const jsonOption: OptionName = (flag, field) => `"${field ?? flag.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase())}"`;
