import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Processor } from '@exactly/core';

/** Imports a processor module (TypeScript or JavaScript) and returns its default (or `processor`) export. */
export async function loadProcessor(file: string): Promise<Processor> {
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`no such file: ${path}`);
  const module = await importModule(pathToFileURL(path).href, extname(path));
  const candidate = module.default ?? module.processor;
  if (!isProcessor(candidate)) {
    throw new Error(
      `${file} must export a processor made with defineProcessor(): \`export default defineProcessor({...})\``,
    );
  }
  return candidate;
}

type Module = Record<string, unknown>;

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);

/**
 * Errors of Node's own TypeScript support that tsx gets past, all of them met while loading and linking, before
 * any of the module graph runs: syntax Node does not strip (enums, decorators, parameter properties), imports
 * written the TypeScript way ('./x.js' for x.ts, a directory, tsconfig paths, JSON without `with { type: 'json' }`),
 * and TypeScript inside node_modules. A SyntaxError too: a type imported without `import type` is an export
 * the module lacks at run time (tsx drops such imports); real syntax errors tsx then reports in its own words.
 */
const TSX_CAN_DO = new Set([
  'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX',
  'ERR_INVALID_TYPESCRIPT_SYNTAX',
  'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING',
  'ERR_MODULE_NOT_FOUND',
  'ERR_UNSUPPORTED_DIR_IMPORT',
  'ERR_UNKNOWN_FILE_EXTENSION',
  'ERR_IMPORT_ATTRIBUTE_MISSING',
  'ERR_INVALID_MODULE_SPECIFIER',
  'ERR_PACKAGE_IMPORT_NOT_DEFINED',
]);

function tsxCanDo(error: unknown): boolean {
  return error instanceof SyntaxError || TSX_CAN_DO.has((error as { code?: string }).code ?? '');
}

/**
 * JavaScript is imported as it is; TypeScript by Node itself where it strips types (Node 22.18+, 24), else
 * through tsx. tsx registers module hooks, which run on a thread of their own and start esbuild (a process of
 * its own, 13 MB): `exactly run` idle at 154 MB RSS through tsx, 147 MB by Node, 140 MB for JavaScript; per
 * worker with --workers. Not covered: a processor file that imports at run time (a top-level `await import()`)
 * what only tsx can load has run up to there when tsx takes over and runs it again; and Node ignores
 * tsconfig.json (settings that change what the code does, such as useDefineForClassFields: false, need tsx:
 * EXACTLY_TYPESCRIPT=tsx).
 */
async function importModule(url: string, extension: string): Promise<Module> {
  if (!TYPESCRIPT.has(extension)) return (await import(url)) as Module;
  if (process.features.typescript && process.env.EXACTLY_TYPESCRIPT !== 'tsx') {
    try {
      return (await import(url)) as Module;
    } catch (error) {
      if (!tsxCanDo(error)) throw error;
    }
  }
  const { tsImport } = await import('tsx/esm/api');
  return (await tsImport(url, import.meta.url)) as Module;
}

function isProcessor(value: unknown): value is Processor {
  if (!value || typeof value !== 'object') return false;
  const p = value as Partial<Processor>;
  return (
    typeof p.id === 'string' &&
    typeof p.handle === 'function' &&
    typeof p.input === 'object' &&
    typeof p.deadLetter === 'string'
  );
}
