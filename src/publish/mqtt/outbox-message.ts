/** One MQTT message as the outbox hands it to the client (pure type). */
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
