/** @platformatic/kafka's own engines field: Node 22.22+ on the 22 line, 24.6+ after it. */
export const PLATFORMATIC_NODE_REQUIREMENT = '>= 22.22.0 (or >= 24.6.0)';

/** Whether `version` (e.g. process.versions.node) can run @platformatic/kafka. */
export function nodeRunsPlatformatic(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major === 22) return minor >= 22;
  if (major === 24) return minor >= 6;
  return major > 24;
}
