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
 * Errors of Node's own TypeScript support that tsx gets past: syntax it does not strip (enums, decorators,
 * parameter properties) and imports written the TypeScript way ('./x.js' for x.ts, tsconfig paths). All of them
 * come while loading and linking, before any of the module graph runs.
 */
const TSX_CAN_DO = new Set([
  'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX',
  'ERR_INVALID_TYPESCRIPT_SYNTAX',
  'ERR_MODULE_NOT_FOUND',
  'ERR_UNKNOWN_FILE_EXTENSION',
]);

/**
 * JavaScript is imported as it is; TypeScript by Node itself where it strips types (Node 22.18+, 24), else
 * through tsx. tsx registers module hooks, which run on a thread of their own and start esbuild (a process of
 * its own, 13 MB): `exactly run` idle at 154 MB RSS through tsx, 147 MB by Node, 140 MB for JavaScript; per
 * worker with --workers.
 */
async function importModule(url: string, extension: string): Promise<Module> {
  if (!TYPESCRIPT.has(extension)) return (await import(url)) as Module;
  if (process.features.typescript) {
    try {
      return (await import(url)) as Module;
    } catch (error) {
      if (!TSX_CAN_DO.has((error as { code?: string }).code ?? '')) throw error;
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
