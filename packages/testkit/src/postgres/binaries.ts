import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where PostgreSQL's server programs (initdb, postgres) are: `EXACTLY_POSTGRES_BIN`, else the newest version of
 * Debian's `postgresql` package (/usr/lib/postgresql/<major>/bin), else the PATH.
 */
export function postgresBinDir(): string {
  const fromEnv = process.env.EXACTLY_POSTGRES_BIN;
  if (fromEnv) return fromEnv;
  const debian = '/usr/lib/postgresql';
  const majors = existsSync(debian)
    ? readdirSync(debian)
        .filter((entry) => /^\d+$/.test(entry) && existsSync(join(debian, entry, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = majors[0];
  if (newest !== undefined) return join(debian, newest, 'bin');
  const onPath = (process.env.PATH ?? '').split(':').find((dir) => existsSync(join(dir, 'initdb')));
  if (onPath) return onPath;
  throw new Error(
    'no PostgreSQL server found: install it (Debian/Ubuntu: apt-get install postgresql), set EXACTLY_POSTGRES_BIN to ' +
      'the directory holding initdb and postgres, or give DATABASE_URL',
  );
}
