/**
 * Every MQTT topic name the daemon publishes or subscribes to, built in one place (pure: imports
 * nothing). Topic names must not contain the wildcards `+` / `#` [MQTT-3.3.2-2] nor NUL
 * [MQTT-1.5.4-2], and a camera id must be exactly one topic level, so ids and the prefix are
 * checked here rather than trusted.
 *
 * Layout (docs/mqtt.md):
 *   <prefix>/status                              retained online | stopped | offline (will)
 *   <prefix>/<camera>/inspection                 verdict JSON
 *   <prefix>/<camera>/mask                       mask PNG, MQTT 5 (linked by properties)
 *   <prefix>/<camera>/mask/<inspectionId>        mask PNG, MQTT 3.1.1 (linked by the topic)
 *   <prefix>/<camera>/state                      retained camera state JSON
 *   <prefix>/<camera>/cmd/<command>              commands in (trigger, recipe)
 *   <prefix>/<camera>/cmd/<command>/reply        command replies (unless MQTT 5 response topic)
 */

export const COMMANDS = ['trigger', 'recipe'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** One topic level: no `/`, no wildcard, no NUL, not empty. */
const LEVEL = /^[^/#+\u0000]+$/;

export class TopicError extends Error {
  override readonly name = 'TopicError';
}

function checkLevel(value: string, what: string): string {
  if (!LEVEL.test(value)) throw new TopicError(`${what} ${JSON.stringify(value)} is not a valid MQTT topic level (no / + # or NUL, not empty)`);
  return value;
}

/** A prefix is one or more levels: no wildcard, no NUL, no empty level, no leading or trailing `/`. */
export function checkPrefix(prefix: string): string {
  if (prefix === '' || prefix.split('/').some((l) => !LEVEL.test(l))) {
    throw new TopicError(`MQTT prefix ${JSON.stringify(prefix)} must be topic levels without + # or NUL, and without empty levels`);
  }
  if (prefix.startsWith('$')) throw new TopicError(`MQTT prefix ${JSON.stringify(prefix)} must not start with $ (reserved for the broker)`);
  return prefix;
}

export interface ParsedCommand {
  readonly cameraId: string;
  readonly command: string;
}

export class Topics {
  readonly prefix: string;
  readonly status: string;
  /** Subscription for every camera's commands, including unknown command names (answered with an error). */
  readonly commandFilter: string;

  constructor(prefix: string) {
    this.prefix = checkPrefix(prefix);
    this.status = `${prefix}/status`;
    this.commandFilter = `${prefix}/+/cmd/+`;
  }

  #camera(cameraId: string): string {
    return `${this.prefix}/${checkLevel(cameraId, 'camera id')}`;
  }

  inspection(cameraId: string): string {
    return `${this.#camera(cameraId)}/inspection`;
  }

  /** MQTT 5: one mask topic per camera; the inspection id travels in properties. */
  mask(cameraId: string): string {
    return `${this.#camera(cameraId)}/mask`;
  }

  /** MQTT 3.1.1 has no properties: the inspection id is the last topic level. */
  maskOf(cameraId: string, inspectionId: string): string {
    return `${this.mask(cameraId)}/${checkLevel(inspectionId, 'inspection id')}`;
  }

  state(cameraId: string): string {
    return `${this.#camera(cameraId)}/state`;
  }

  command(cameraId: string, command: CommandName): string {
    return `${this.#camera(cameraId)}/cmd/${command}`;
  }

  /** Reply topic for a command received on `topic` (which may name an unknown camera or command). */
  reply(commandTopic: string): string {
    return `${commandTopic}/reply`;
  }

  /** Splits `<prefix>/<camera>/cmd/<command>`; undefined for anything else. */
  parseCommand(topic: string): ParsedCommand | undefined {
    const head = `${this.prefix}/`;
    if (!topic.startsWith(head)) return undefined;
    const rest = topic.slice(head.length).split('/');
    if (rest.length !== 3 || rest[1] !== 'cmd' || !LEVEL.test(rest[0]) || !LEVEL.test(rest[2])) return undefined;
    return { cameraId: rest[0], command: rest[2] };
  }
}

/** Sparkplug B topic namespace (Sparkplug 3.0 §4.1): spBv1.0/<group>/<type>/<edge node>[/<device>]. */
export type SparkplugNodeType = 'NBIRTH' | 'NDEATH' | 'NDATA' | 'NCMD';
export type SparkplugDeviceType = 'DBIRTH' | 'DDEATH' | 'DDATA' | 'DCMD';

export class SparkplugTopics {
  static readonly NAMESPACE = 'spBv1.0';
  readonly groupId: string;
  readonly edgeNodeId: string;

  constructor(groupId: string, edgeNodeId: string) {
    this.groupId = checkLevel(groupId, 'Sparkplug group id');
    this.edgeNodeId = checkLevel(edgeNodeId, 'Sparkplug edge node id');
  }

  node(type: SparkplugNodeType): string {
    return `${SparkplugTopics.NAMESPACE}/${this.groupId}/${type}/${this.edgeNodeId}`;
  }

  device(type: SparkplugDeviceType, deviceId: string): string {
    return `${SparkplugTopics.NAMESPACE}/${this.groupId}/${type}/${this.edgeNodeId}/${checkLevel(deviceId, 'Sparkplug device id')}`;
  }

  /** DCMD for any device of this node. */
  get deviceCommandFilter(): string {
    return `${SparkplugTopics.NAMESPACE}/${this.groupId}/DCMD/${this.edgeNodeId}/+`;
  }

  /** The device id of a DCMD topic of this node, or undefined. */
  parseDeviceCommand(topic: string): string | undefined {
    const head = `${SparkplugTopics.NAMESPACE}/${this.groupId}/DCMD/${this.edgeNodeId}/`;
    if (!topic.startsWith(head)) return undefined;
    const id = topic.slice(head.length);
    return LEVEL.test(id) ? id : undefined;
  }
}
