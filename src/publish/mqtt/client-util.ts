/**
 * Small mqtt.js helpers.
 *
 * Closing a client within a bound. `end(false)` sends DISCONNECT (no will) but first
 * waits for every un-acknowledged QoS 1 packet — forever while the broker is away — and a
 * second end() call returns at once without forcing anything. So: disconnected → end(true)
 * straight away; connected → end(false) under a timeout, then destroy the socket.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { MessageProperties } from './outbox-message.js';

export function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Resolves true when a DISCONNECT went out (clean: the broker drops the will). */
export async function endClient(client: MqttClient, timeoutMs: number): Promise<boolean> {
  if (!client.connected) {
    await withTimeout(client.endAsync(true).then(() => undefined, () => undefined), timeoutMs, undefined);
    return false;
  }
  const clean = await withTimeout(client.endAsync(false).then(() => true, () => false), timeoutMs, false);
  if (!clean) client.stream?.destroy();
  return clean;
}

/** Our message properties as mqtt.js PUBLISH properties (MQTT 5 only; 3.1.1 has none). */
export function publishProperties(protocolVersion: 4 | 5, p: MessageProperties | undefined): { properties?: NonNullable<IPublishPacket['properties']> } {
  if (protocolVersion !== 5 || !p) return {};
  return {
    properties: {
      ...(p.contentType ? { contentType: p.contentType } : {}),
      ...(p.payloadFormatIndicator ? { payloadFormatIndicator: true } : {}),
      ...(p.correlationData ? { correlationData: Buffer.from(p.correlationData) } : {}),
      ...(p.userProperties ? { userProperties: { ...p.userProperties } } : {}),
    },
  };
}
