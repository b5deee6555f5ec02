// What `exactly run` loads: the processor on the queue, topic and exchange named by EXACTLY_TOPIC_SUFFIX (empty by
// default). For a demo it also declares the exchange with a queue bound to it (a real deployment's topology is
// its own): the broker is --rabbitmq, else RABBITMQ_URL, else the local one of `exactly rabbitmq start`.
import { findSharedRabbitMQ } from '@exactly/testkit';
import { connect } from 'amqplib';
import { ordersIn } from './processor.js';

const suffix = process.env.EXACTLY_TOPIC_SUFFIX ?? '';
const flag = process.argv.indexOf('--rabbitmq');
const url =
  (flag >= 0 ? process.argv[flag + 1] : undefined) ||
  process.env.RABBITMQ_URL?.trim() ||
  (await findSharedRabbitMQ())?.url;
if (url !== undefined) {
  if (flag < 0) process.env.RABBITMQ_URL = url; // run() reads it when no --rabbitmq is given
  const model = await connect(url);
  try {
    const channel = await model.createChannel();
    await channel.assertExchange(`notifications${suffix}`, 'topic', { durable: true });
    await channel.assertQueue(`notifications${suffix}.all`, { durable: true });
    await channel.bindQueue(`notifications${suffix}.all`, `notifications${suffix}`, 'order.#');
  } finally {
    await model.close();
  }
}

export default ordersIn(suffix);
