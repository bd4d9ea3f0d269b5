/**
 * The docs stay true to the code: users get a clone of the repository and nothing else, so every link
 * of the README and docs/ must resolve inside it, every option and command the docs name must exist (and
 * every option exist in the docs), every diagnostic code and transform must be documented, and the
 * README's command-line walk must run as written on the files the repository ships.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { COMMANDS } from '../../server/src/cli/commandSpecs';
import { CAST_DTYPES, TRANSFORM_DOCS } from '../../server/src/mapping/transforms';
import { runCli } from '../support/cli';
import { scratchDir } from '../support/tmp';

const ROOT = path.join(__dirname, '..', '..');
const read = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');
const MARKDOWN = ['README.md', 'ARCHITECTURE.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
  ...readdirSync(path.join(ROOT, 'media', 'walkthrough')).map((f) => `media/walkthrough/${f}`)];
const PKG = JSON.parse(read('package.json'));

/** Text outside fenced code blocks (links in code are examples, not links). */
function prose(md: string): string {
  return md.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '``');
}

/** GitHub's heading anchors: lower case, punctuation but `-` and `_` dropped, spaces to `-`, repeats numbered. */
function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of md.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const slug = m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n ? `${slug}-${n}` : slug);
  }
  return out;
}

test('every relative link and anchor in the README, ARCHITECTURE.md, docs/ and the walkthrough resolves inside the repository', () => {
  const broken: string[] = [];
  for (const file of MARKDOWN) {
    const md = read(file);
    for (const m of prose(md).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/.test(target)) continue; // https:, command: (the walkthrough's buttons)
      const [rel, anchor] = target.split('#');
      const abs = rel ? path.resolve(path.dirname(path.join(ROOT, file)), decodeURIComponent(rel)) : path.join(ROOT, file);
      if (path.relative(ROOT, abs).startsWith('..')) { broken.push(`${file}: ${target} leaves the repository`); continue; }
      if (!existsSync(abs)) { broken.push(`${file}: ${target} does not exist`); continue; }
      if (anchor && abs.endsWith('.md') && !anchors(readFileSync(abs, 'utf8')).has(anchor)) broken.push(`${file}: ${target}: no heading makes #${anchor}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('nothing a user reads points outside the repository (../shared, the contracts)', () => {
  const client = readdirSync(path.join(ROOT, 'client', 'src')).map((f) => `client/src/${f}`);
  const found = [...MARKDOWN, 'package.json', ...client].filter((f) => /\.\.\/shared\b|shared\/spec\//.test(read(f)));
  assert.deepEqual(found, []);
});

/** docs/cli.md's option table rows under `## \`tensorport NAME\``: `| \`-o, --output OUT\` | … |`. */
function documentedOptions(cliMd: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const section of cliMd.split(/^## /m).slice(1)) {
    const name = /^`tensorport (\w+)`/.exec(section)?.[1];
    if (!name) continue;
    const opts = new Set<string>();
    for (const row of section.matchAll(/^\| `([^`]+)`/gm)) for (const o of row[1].matchAll(/--([a-z][a-z-]*)/g)) opts.add(o[1]);
    out.set(name, opts);
  }
  return out;
}

test('docs/cli.md documents every command and exactly the options each command parses', () => {
  const documented = documentedOptions(read('docs/cli.md'));
  assert.deepEqual([...documented.keys()].sort(), Object.keys(COMMANDS).sort());
  for (const [name, spec] of Object.entries(COMMANDS)) {
    assert.deepEqual([...documented.get(name)!].sort(), Object.keys(spec.options).sort(), `tensorport ${name}`);
  }
});

test('every `tensorport COMMAND … --option` the README and docs write names a real command and its real options', () => {
  const wrong: string[] = [];
  for (const file of MARKDOWN) {
    const md = read(file);
    // Inline code spans and fenced lines alike; quoted values (`--launcher "torchrun --nproc-per-node 2"`) are not options.
    // A line the docs show failing on purpose (`--jsn`, then its error) is left out.
    const lines = md.split('\n').filter((_, i, all) => !/unknown option/.test(all[i + 1] ?? ''));
    const snippets = [...md.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]).concat(lines);
    for (const s of snippets) {
      for (const m of s.matchAll(/(?:^|[\s(`$])tensorport ([a-z][a-z-]*)((?:[^|#`]|\|(?=[a-z0-9]))*)/g)) {
        const [, command, rest] = m;
        if (command === 'lsp') continue; // tensorport-lsp, split at the dash
        if (!Object.hasOwn(COMMANDS, command)) {
          if (/^[a-z]+$/.test(command) && !['command', 'commands', 'is', 'and', 'or', 'reads', 'view', 'the'].includes(command)) wrong.push(`${file}: tensorport ${command}`);
          continue;
        }
        const options = rest.replace(/"[^"]*"/g, '').matchAll(/(?:^|\s|\[)--([a-z][a-z-]*)/g);
        for (const o of options) if (o[1] !== 'help' && !Object.hasOwn(COMMANDS[command].options, o[1])) wrong.push(`${file}: tensorport ${command} --${o[1]}`);
      }
    }
  }
  assert.deepEqual([...new Set(wrong)], []);
});

test('every command id, setting and command title the docs name exists in package.json, and docs/settings.md has them all', () => {
  const contributes = PKG.contributes;
  const commands: { command: string; title: string }[] = contributes.commands;
  const ids = new Set<string>([
    ...commands.map((c) => c.command), ...Object.keys(contributes.configuration.properties),
    ...Object.values<{ id: string }[]>(contributes.views).flat().map((v) => v.id), ...contributes.customEditors.map((e: { viewType: string }) => e.viewType),
  ]);
  // Keys the code writes into files (`tensorport.source` in a converted checkpoint's metadata) are names too.
  const code = readdirSync(path.join(ROOT, 'server', 'src'), { recursive: true }).map(String).filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(path.join(ROOT, 'server', 'src', f), 'utf8')).join('\n');
  const titles = new Set(commands.map((c) => c.title));
  const wrong: string[] = [];
  for (const file of MARKDOWN) {
    const md = read(file);
    for (const m of md.matchAll(/`(tensorport\.[A-Za-z.]*[A-Za-z])`/g)) {
      if (!ids.has(m[1]) && !code.includes(`'${m[1]}'`) && !m[1].endsWith('.*')) wrong.push(`${file}: ${m[1]}`);
    }
    for (const m of md.matchAll(/\*(Tensor Port: [^*]+)\*/g)) if (!titles.has(m[1])) wrong.push(`${file}: *${m[1]}*`);
  }
  assert.deepEqual(wrong, []);
  const settings = read('docs/settings.md');
  for (const key of Object.keys(contributes.configuration.properties)) assert.ok(settings.includes(`\`${key}\``), `docs/settings.md lacks ${key}`);
  for (const c of commands) assert.ok(settings.includes(c.title.replace(/^Tensor Port: /, '')), `docs/settings.md lacks the command ${c.title}`);
});

test('docs/mapping-language.md has every diagnostic code the code emits, every transform and every cast dtype', () => {
  const md = read('docs/mapping-language.md');
  const headings = [...md.matchAll(/^### (.+)$/gm)].map((m) => m[1]).join('\n');
  const source = readdirSync(path.join(ROOT, 'server', 'src'), { recursive: true }).map(String).filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(path.join(ROOT, 'server', 'src', f), 'utf8')).join('\n');
  const union = /export type DiagnosticCode =([^;]+);/.exec(read('server/src/mapping/diagnostics.ts'))![1];
  const codes = new Set([...union.matchAll(/'([a-z0-9-]+)'/g), ...source.matchAll(/\bcode: '([a-z0-9]+(?:-[a-z0-9]+)+)'/g)].map((m) => m[1]));
  assert.ok(codes.size >= 17, `found ${codes.size} codes`);
  for (const c of codes) assert.ok(headings.includes(`\`${c}\``), `no ### heading for \`${c}\``);
  for (const t of Object.keys(TRANSFORM_DOCS)) assert.ok(md.includes(`| \`${t}`), `the transform table lacks ${t}`);
  for (const d of CAST_DTYPES) assert.ok(md.includes(`\`${d}\``), `cast(${d}) is not listed`);
});

/** A copy of what a fresh clone ships for the examples, so the walk's `--fix` and outputs touch nothing here. */
function freshExamples(name: string): string {
  const dir = scratchDir(name).dir;
  cpSync(path.join(ROOT, 'examples'), path.join(dir, 'examples'), { recursive: true });
  cpSync(path.join(ROOT, 'media', 'example'), path.join(dir, 'media', 'example'), { recursive: true });
  return dir;
}

test("the README's command-line walk runs as written, in order, with the exit codes it states", () => {
  const dir = freshExamples('docs-readme');
  const fenced = [...read('README.md').matchAll(/^```sh\n([\s\S]*?)^```/gm)].flatMap((m) => m[1].split('\n'));
  const steps = fenced.flatMap((line) => {
    const m = /npx tensorport ([^#&]+?)\s*(?:#\s*(.*))?$/.exec(line);
    return m ? [{ args: m[1].split(/\s+/), exit: Number(/^exit (\d+)/.exec(m[2] ?? '')?.[1] ?? 0), line: line.trim() }] : [];
  });
  assert.ok(steps.length >= 7, `found ${steps.length} tensorport commands in the README`);
  for (const s of steps) {
    const r = runCli(s.args, { cwd: dir });
    assert.equal(r.code, s.exit, `${s.line}\n${r.err}${r.out.slice(0, 2000)}`);
  }
  assert.ok(statSync(path.join(dir, 'vit_paddle.pdparams')).size > 0);
});

test('every command answers --help with its usage, options and an example, and its examples run (no usage error)', () => {
  const dir = freshExamples('docs-help');
  for (const [name, spec] of Object.entries(COMMANDS)) {
    const r = runCli([name, '--help']);
    assert.equal(r.code, 0, `${name} --help: ${r.err}`);
    assert.match(r.out, /^usage:\n {2}tensorport /);
    for (const o of Object.keys(spec.options)) assert.ok(r.out.includes(`--${o}`), `${name} --help lacks --${o}`);
    assert.match(r.out, /\nexamples?:\n {2}tensorport /);
    assert.equal(runCli([name, '-h']).out, r.out);
    // parity's examples name your models and mcp serves stdin: the others run on the shipped files.
    if (name === 'parity' || name === 'mcp') continue;
    for (const e of spec.examples) {
      const ran = runCli(e.split(/\s+/).slice(1), { cwd: dir });
      assert.ok(ran.code === 0 || ran.code === 1, `${e}: exit ${ran.code}: ${ran.err}`);
    }
  }
});
