import {
  type CreateRecordsBatchOptions,
  compressionsAlgorithms,
  crc32c,
  createAPI,
  groupByProperty,
  kGetApi,
  type MessageRecord,
  type Producer,
  produceV11,
  Writer,
} from '@platformatic/kafka';

/**
 * Produce v11 requests written in one pass: the record batches' exact sizes first, then each batch's records
 * into one Buffer. The client's own builder makes a Writer, a dynamic buffer and a Buffer per varint for every
 * record, a BigInt per timestamp, and concatenates the lot twice (for the CRC and for the socket): with the
 * buffer work under it, the largest share of a processor's CPU in the profiles (docs/benchmarks.md). Byte for
 * byte the client's request (tested), so the client's response parsing, retries and sequence numbers are
 * unchanged. Upstream-ready: it takes the client's builder's arguments.
 */

/** What the client hands a Produce API: its internal messages, serialized and given a partition. */
type ProduceMessage = MessageRecord;
type ProduceRequestOptions = Partial<CreateRecordsBatchOptions>;

const RECORD_BATCH_MAGIC = 2;
const IS_TRANSACTIONAL = 1 << 4;
/** baseOffset (8) + batchLength (4): the part of a batch that batchLength does not count. */
const BATCH_HEAD = 12;
/** From baseOffset to the first record: head, leader epoch, magic, CRC, then the 40 bytes the CRC starts with. */
const BATCH_HEADER = BATCH_HEAD + 4 + 1 + 4 + 40;
const CRC_FROM = BATCH_HEAD + 4 + 1 + 4;
const NO_RESPONSE_ACKS = 0;
const EMPTY_TAGGED_FIELDS = Buffer.from([0]);

export function createProduceRequest(
  acks: number,
  timeout: number,
  messages: readonly ProduceMessage[],
  options: ProduceRequestOptions = {},
): Writer {
  const now = Date.now();
  // As the client's builder does: a message without a partition goes to partition 0.
  for (const message of messages) message.partition ??= 0;
  const request = Writer.create()
    .appendString(options.transactionalId ?? null)
    .appendInt16(acks)
    .appendInt32(timeout);
  const topics = groupByProperty<string, ProduceMessage>(messages, 'topic');
  request.appendUnsignedVarInt(topics.length + 1);
  for (const [topic, ofTopic] of topics) {
    const partitions = groupByProperty<string, ProduceMessage>(ofTopic, 'partition');
    request.appendString(topic).appendUnsignedVarInt(partitions.length + 1);
    for (const [partition, batch] of partitions) {
      const records = recordBatch(topic, Number(partition), batch, options, now);
      request.appendInt32(Number(partition)).appendUnsignedVarInt(records.length + 1);
      request.append(records).append(EMPTY_TAGGED_FIELDS);
    }
    request.append(EMPTY_TAGGED_FIELDS);
  }
  request.append(EMPTY_TAGGED_FIELDS);
  if (acks === NO_RESPONSE_ACKS) request.context.noResponse = true;
  return request;
}

/** gzip goes the client's way (it compresses gzip asynchronously); everything else is written here. */
export function createProduceApiRequest(
  acks: number,
  timeout: number,
  messages: ProduceMessage[],
  options: ProduceRequestOptions = {},
): Writer | Promise<Writer> {
  return options.compression === 'gzip'
    ? produceV11.createRequestAsync(acks, timeout, messages, options)
    : createProduceRequest(acks, timeout, messages, options);
}

function recordBatch(
  topic: string,
  partition: number,
  messages: readonly ProduceMessage[],
  options: ProduceRequestOptions,
  now: number,
): Buffer {
  const first = timestampOf(messages[0], now);
  let max = first;
  let size = 0;
  /** Each record's timestamp delta and body size, found once here and written from below. */
  const deltas = new Array<number>(messages.length);
  const bodies = new Array<number>(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const timestamp = timestampOf(messages[i], now);
    if (timestamp > max) max = timestamp;
    const delta = timestamp - first;
    const body = recordBodySize(messages[i] as ProduceMessage, i, delta);
    deltas[i] = delta;
    bodies[i] = body;
    size += varIntSize(body) + body;
  }
  const algorithm = compressionOf(options.compression);
  let batch: Buffer;
  if (algorithm) {
    const records = Buffer.allocUnsafe(size);
    writeRecords(records, 0, messages, deltas, bodies);
    const compressed = algorithm.compressSync(records);
    batch = Buffer.allocUnsafe(BATCH_HEADER + compressed.length);
    compressed.copy(batch, BATCH_HEADER);
  } else {
    batch = Buffer.allocUnsafe(BATCH_HEADER + size);
    writeRecords(batch, BATCH_HEADER, messages, deltas, bodies);
  }
  let attributes = algorithm?.bitmask ?? 0;
  if (options.transactionalId) attributes |= IS_TRANSACTIONAL;
  let at = batch.writeBigInt64BE(0n, 0);
  at = batch.writeInt32BE(batch.length - BATCH_HEAD, at);
  at = batch.writeInt32BE(options.partitionLeaderEpoch ?? 0, at);
  at = batch.writeInt8(RECORD_BATCH_MAGIC, at);
  at += 4; // the CRC, once the rest is written
  at = batch.writeInt16BE(attributes, at);
  at = batch.writeInt32BE(messages.length - 1, at);
  at = batch.writeBigInt64BE(BigInt(first), at);
  at = batch.writeBigInt64BE(BigInt(max), at);
  at = batch.writeBigInt64BE(options.producerId ?? -1n, at);
  at = batch.writeInt16BE(options.producerEpoch ?? 0, at);
  at = batch.writeInt32BE(options.sequences?.getWithDefault(`${topic}:${partition}`, 0) ?? 0, at);
  batch.writeInt32BE(messages.length, at);
  batch.writeUInt32BE(crc32c(batch.subarray(CRC_FROM)), CRC_FROM - 4);
  return batch;
}

interface Compression {
  readonly bitmask: number;
  compressSync(data: Buffer): Buffer;
}

function compressionOf(name: string | undefined): Compression | undefined {
  if (name === undefined || name === 'none') return undefined;
  const algorithm = (compressionsAlgorithms as Record<string, Compression | undefined>)[name];
  if (!algorithm) throw new Error(`Unsupported compression algorithm ${name}`);
  return algorithm;
}

function timestampOf(message: ProduceMessage | undefined, now: number): number {
  const timestamp = message?.timestamp;
  return timestamp === undefined ? now : Number(timestamp);
}

function recordBodySize(message: ProduceMessage, offsetDelta: number, timestampDelta: number): number {
  let size = 1 + varLongSize(timestampDelta) + varIntSize(offsetDelta);
  size += bytesSize(message.key) + bytesSize(message.value);
  const headers = message.headers;
  size += varIntSize(headers?.size ?? 0);
  if (headers) for (const [name, value] of headers) size += bytesSize(name) + bytesSize(value);
  return size;
}

function writeRecords(
  target: Buffer,
  start: number,
  messages: readonly ProduceMessage[],
  deltas: readonly number[],
  bodies: readonly number[],
): void {
  let at = start;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as ProduceMessage;
    at = writeVarInt(target, at, bodies[i] as number);
    target[at++] = 0; // attributes: none per record
    at = writeVarLong(target, at, deltas[i] as number);
    at = writeVarInt(target, at, i);
    at = writeBytes(target, at, message.key);
    at = writeBytes(target, at, message.value);
    const headers = message.headers;
    at = writeVarInt(target, at, headers?.size ?? 0);
    if (headers)
      for (const [name, value] of headers) {
        at = writeBytes(target, at, name);
        at = writeBytes(target, at, value);
      }
  }
}

function bytesSize(bytes: Buffer | null | undefined): number {
  return bytes == null ? 1 : varIntSize(bytes.length) + bytes.length;
}

function writeBytes(target: Buffer, at: number, bytes: Buffer | null | undefined): number {
  if (bytes == null) return writeVarInt(target, at, -1);
  const next = writeVarInt(target, at, bytes.length);
  target.set(bytes, next); // a Uint8Array from a serde of the user's is copied alike
  return next + bytes.length;
}

/** Zigzag, as Kafka's signed varints are. */
function zigzag32(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

function zigzag64(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function varIntSize(value: number): number {
  return unsignedSize(zigzag32(value));
}

function varLongSize(value: number): number {
  return unsignedSize(zigzag64(value));
}

function unsignedSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

function writeVarInt(target: Buffer, at: number, value: number): number {
  return writeUnsigned(target, at, zigzag32(value));
}

function writeVarLong(target: Buffer, at: number, value: number): number {
  return writeUnsigned(target, at, zigzag64(value));
}

function writeUnsigned(target: Buffer, start: number, value: number): number {
  let at = start;
  let rest = value;
  while (rest >= 0x80) {
    target[at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  target[at++] = rest;
  return at;
}

const onePassProduceV11 = createAPI(0, 11, createProduceApiRequest, produceV11.parseResponse);

/**
 * Makes a producer write its Produce v11 requests with `createProduceRequest`. Only v11, the highest version
 * the client implements and the one it picks on a current broker (Kafka 4.1 lists up to 12); where a broker
 * stops below it, the client's own builder of that version is used, unchanged.
 */
export function writeProduceRequestsInOnePass(producer: Producer): void {
  const getApi = (producer[kGetApi] as GetApi).bind(producer);
  const replaced: GetApi = (name, callback) =>
    getApi(name, (error, api) => callback(error, api === produceV11.api ? onePassProduceV11 : api));
  Object.defineProperty(producer, kGetApi, { configurable: true, value: replaced });
}

/** The client's API lookup, as far as this file needs it. */
type GetApi = (name: string, callback: (error: Error | null, api?: unknown) => void) => void;
