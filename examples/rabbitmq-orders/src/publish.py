"""Publishes orders to the `orders` queue as RabbitMQ's classic tutorial does (pika), with a message_id each.

    python publish.py [--url amqp://guest:guest@127.0.0.1:5673/%2F] [--queue orders] [--count 1000] [--from 0]

The queue is declared durable with single active consumer, as Exactly's queue input needs; messages are
persistent and confirmed by the broker (a publish that is not confirmed may be sent again: same id).
"""
import argparse
import json
import time

import pika

parser = argparse.ArgumentParser()
parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5673/%2F")
parser.add_argument("--queue", default="orders")
parser.add_argument("--count", type=int, default=1000)
parser.add_argument("--from", dest="start", type=int, default=0)
args = parser.parse_args()

connection = pika.BlockingConnection(pika.URLParameters(args.url))
channel = connection.channel()
channel.queue_declare(queue=args.queue, durable=True, arguments={"x-single-active-consumer": True})
channel.confirm_delivery()
for n in range(args.start, args.start + args.count):
    order = {"id": f"order-{n}", "customer": f"customer-{n % 17}", "total": n % 250}
    channel.basic_publish(
        exchange="",
        routing_key=args.queue,
        body=json.dumps(order),
        properties=pika.BasicProperties(
            message_id=f"order-{n}",
            delivery_mode=pika.DeliveryMode.Persistent,
            content_type="application/json",
            headers={"timestamp_in_ms": int(time.time() * 1000)},
        ),
    )
connection.close()
print(f"published {args.count} orders to {args.queue}")
