import { classifyKafkaJsError } from './classify.js';

/** Runs a KafkaJS call and rethrows whatever it throws as a ClientError. */
export async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw classifyKafkaJsError(error);
  }
}
