import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ExampleApp } from '@exactly/testkit';

/** The repository's examples/ folder (the demo runs from a clone of the repository). */
const examplesDir = fileURLToPath(new URL('../../../../examples/', import.meta.url));

export interface LoadedExample {
  readonly app: ExampleApp;
  /** The module `exactly run` loads in the processor's own process. */
  readonly mainFile: string;
}

export async function loadExample(name: string): Promise<LoadedExample> {
  const file = `${examplesDir}${name}/src/example.ts`;
  if (!existsSync(file)) {
    const known = existsSync(examplesDir)
      ? readdirSync(examplesDir).filter((d) => existsSync(`${examplesDir}${d}/src/example.ts`))
      : [];
    throw new Error(`no example '${name}' (examples: ${known.join(', ') || 'none found in this checkout'})`);
  }
  const { tsImport } = await import('tsx/esm/api');
  const module = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default: ExampleApp };
  return { app: module.default, mainFile: `${examplesDir}${name}/src/main.ts` };
}
