export type { TableOptions } from './table.js';
export { table } from './table.js';
