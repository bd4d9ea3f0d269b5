/** One protocol event line: JSON, plus the bare NaN / Infinity / -Infinity that Python's json.dumps writes by default. */
export function parseEventLine(line: string): Record<string, unknown> {
  let text = line;
  try {
    return asObject(JSON.parse(text));
  } catch (e) {
    if (!/NaN|Infinity/.test(line)) throw new Error((e as Error).message, { cause: e });
  }
  // Replace the bare words outside strings with sentinel strings, then turn them back into numbers.
  let out = '';
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      out += c;
      if (c === '\\') { out += line[++i] ?? ''; continue; }
      if (c === '"') inString = false;
      continue;
    }
    if (c === '"') { inString = true; out += c; continue; }
    const word = /^(-?Infinity|NaN)/.exec(line.slice(i));
    if (word) { out += `"\\u0000${word[1]}"`; i += word[1].length - 1; continue; }
    out += c;
  }
  text = out;
  const SENTINEL: Record<string, number> = { '\u0000NaN': NaN, '\u0000Infinity': Infinity, '\u0000-Infinity': -Infinity };
  return asObject(JSON.parse(text, (_k, v) => (typeof v === 'string' && v in SENTINEL ? SENTINEL[v] : v)));
}

function asObject(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
  return v as Record<string, unknown>;
}

