/**
 * Reads a Java `.properties` file: `key=value`, `key: value` or `key value`; `#` and `!` comments; a line
 * ending in an odd number of backslashes continues on the next; `\t \n \r \f \uXXXX` escapes, and a backslash
 * before any other character stands for that character.
 */
export function parseProperties(text: string): Map<string, string> {
  const properties = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] ?? '').replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (endsInContinuation(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + (lines[++i] ?? '').replace(/^[ \t\f]+/, '');
    }
    const separator = findSeparator(line);
    const key = line.slice(0, separator);
    const rest = line.slice(separator).replace(/^[ \t\f]*[=:]?[ \t\f]*/, '');
    properties.set(withoutEscapes(key), withoutEscapes(rest));
  }
  return properties;
}

function endsInContinuation(line: string): boolean {
  const trailing = /\\+$/.exec(line)?.[0].length ?? 0;
  return trailing % 2 === 1;
}

/** Index of the first unescaped `=`, `:` or whitespace: where the key ends. */
function findSeparator(line: string): number {
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') i++;
    else if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') return i;
  }
  return line.length;
}

const ESCAPES: Readonly<Record<string, string>> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function withoutEscapes(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, escaped: string) =>
    escaped.length === 5 ? String.fromCharCode(Number.parseInt(escaped.slice(1), 16)) : (ESCAPES[escaped] ?? escaped),
  );
}
