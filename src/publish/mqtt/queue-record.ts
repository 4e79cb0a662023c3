/**
 * One queued MQTT message as a file (pure: encode/decode only).
 *
 *   "AGQ1" | u32 headerLength | u32 payloadLength | u32 crc32(header ‖ payload) | header JSON | payload
 *
 * The CRC and the lengths let open()/read() tell a complete record from one torn by a crash
 * or a power cut (fsync off), which is then discarded and counted instead of being published
 * as garbage. The payload is written as-is (no base64, no copy of the mask bytes).
 */
import { crc32 } from 'node:zlib';

export interface MessageProperties {
  readonly contentType?: string;
  readonly payloadFormatIndicator?: boolean;
  readonly correlationData?: Uint8Array;
  readonly userProperties?: Readonly<Record<string, string>>;
}

export interface OutboxMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly retain?: boolean;
  /** MQTT 5 properties; ignored on 3.1.1 connections. */
  readonly properties?: MessageProperties;
}

const MAGIC = Buffer.from('AGQ1', 'latin1');
const FIXED = 16;

interface Header {
  readonly topic: string;
  readonly retain?: true;
  readonly properties?: Omit<MessageProperties, 'correlationData'> & { correlationData?: string };
}

/** The record as chunks for writev: fixed header + JSON header, then the payload untouched. */
export function encodeRecord(msg: OutboxMessage): [Buffer, Uint8Array] {
  const p = msg.properties;
  let properties: Header['properties'];
  if (p) {
    const { correlationData, ...rest } = p;
    properties = { ...rest, ...(correlationData ? { correlationData: Buffer.from(correlationData).toString('base64') } : {}) };
  }
  const header: Header = { topic: msg.topic, ...(msg.retain ? { retain: true as const } : {}), ...(properties ? { properties } : {}) };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.allocUnsafe(FIXED + json.length);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(json.length, 4);
  head.writeUInt32LE(msg.payload.byteLength, 8);
  head.writeUInt32LE(crc32(msg.payload, crc32(json)), 12);
  json.copy(head, FIXED);
  return [head, msg.payload];
}

export class CorruptRecordError extends Error {
  override readonly name = 'CorruptRecordError';
}

/** Parses a whole record file; throws CorruptRecordError on a torn or foreign file. */
export function decodeRecord(buf: Buffer): OutboxMessage {
  if (buf.length < FIXED || !buf.subarray(0, 4).equals(MAGIC)) throw new CorruptRecordError('not a queue record');
  const hLen = buf.readUInt32LE(4);
  const pLen = buf.readUInt32LE(8);
  if (buf.length !== FIXED + hLen + pLen) throw new CorruptRecordError(`record is ${buf.length} bytes, expected ${FIXED + hLen + pLen}`);
  const json = buf.subarray(FIXED, FIXED + hLen);
  const payload = buf.subarray(FIXED + hLen);
  if (crc32(payload, crc32(json)) !== buf.readUInt32LE(12)) throw new CorruptRecordError('record checksum mismatch');
  let header: Header;
  try {
    header = JSON.parse(json.toString('utf8')) as Header;
  } catch {
    throw new CorruptRecordError('record header is not JSON');
  }
  if (typeof header.topic !== 'string') throw new CorruptRecordError('record header has no topic');
  let properties: MessageProperties | undefined;
  if (header.properties) {
    const { correlationData, ...rest } = header.properties;
    properties = { ...rest, ...(correlationData !== undefined ? { correlationData: Buffer.from(correlationData, 'base64') } : {}) };
  }
  return { topic: header.topic, payload, ...(header.retain ? { retain: true } : {}), ...(properties ? { properties } : {}) };
}
