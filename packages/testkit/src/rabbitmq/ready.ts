import { connect } from 'amqplib';

/** True when an AMQP connection to `url` opens (the broker is up and accepts the credentials); it is closed again. */
export async function amqpAnswers(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const connection = await connect(url, { timeout: timeoutMs });
    connection.on('error', () => {});
    await connection.close().catch(() => {});
    return true;
  } catch {
    return false;
  }
}
