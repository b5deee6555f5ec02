/** A connection URL without its password, for logs and errors; `unparsable` when it is not a URL. */
export function urlWithoutPassword(url: string, unparsable: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return unparsable;
  }
}
