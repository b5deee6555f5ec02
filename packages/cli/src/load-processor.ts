import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Processor } from '@exactly/core';

/** Imports a processor module (TypeScript or JavaScript) and returns its default (or `processor`) export. */
export async function loadProcessor(file: string): Promise<Processor> {
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`no such file: ${path}`);
  const { tsImport } = await import('tsx/esm/api');
  const module = (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
  const candidate = module.default ?? module.processor;
  if (!isProcessor(candidate)) {
    throw new Error(
      `${file} must export a processor made with defineProcessor(): \`export default defineProcessor({...})\``,
    );
  }
  return candidate;
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
