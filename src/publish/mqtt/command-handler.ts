/**
 * Commands from MQTT: `<prefix>/<camera>/cmd/trigger` (empty payload or `{"requestId": …}`)
 * and `<prefix>/<camera>/cmd/recipe` (`{"recipe": "id", "requestId"?: …}`).
 *
 * Every command gets exactly one reply — on the MQTT 5 Response Topic with the request's
 * Correlation Data when given, else on `<command topic>/reply` — and nothing that arrives
 * here can throw past handle(): bad JSON, unknown keys, an unknown camera or command, a
 * retained command, a busy camera or a failing recipe switch all become `ok: false` replies
 * with a named code, and a (rate-limited) log line. The verdict of a trigger reaches
 * `/inspection` through the pipeline's sinks like any other verdict; the reply only
 * summarises it, so nothing is published twice.
 */
import { RECIPE_ID } from '../../config/index.js';
import { ErrorCodes, toError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { RateLimitedLog } from '../../util/rate-limited-log.js';
import type { DaemonControl } from '../control.js';
import { replyMessage, verdictSummary, type CommandReply, type RequestId } from './payloads.js';
import type { Topics } from './topics.js';

/** Codes of command errors that are not daemon errors (src/errors.ts has the rest). */
const CommandErrorCodes = {
  COMMAND_INVALID: 'E_COMMAND_INVALID',
  COMMAND_UNKNOWN: 'E_COMMAND_UNKNOWN',
  CAMERA_UNKNOWN: 'E_CAMERA_UNKNOWN',
  COMMAND_FAILED: 'E_COMMAND_FAILED',
} as const;

const MAX_PAYLOAD = 4096;
const WILDCARD = /[#+\u0000]/;

export interface IncomingCommand {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly retain: boolean;
  /** MQTT 5 request/response. */
  readonly responseTopic?: string;
  readonly correlationData?: Uint8Array;
}

export interface CommandResponse {
  readonly topic: string;
  readonly reply: CommandReply;
  readonly correlationData?: Uint8Array;
}

class CommandError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

type Parsed = { requestId: RequestId; recipe?: string };

export class CommandHandler {
  readonly #topics: Topics;
  readonly #control: DaemonControl;
  readonly #log: Logger;
  readonly #warn: RateLimitedLog;
  readonly #busy = new Set<string>();
  #handled = 0;
  #failed = 0;

  constructor(options: { topics: Topics; control: DaemonControl; logger: Logger }) {
    this.#topics = options.topics;
    this.#control = options.control;
    this.#log = options.logger;
    this.#warn = new RateLimitedLog(options.logger, 5_000);
  }

  get counters(): { handled: number; failed: number } {
    return { handled: this.#handled, failed: this.#failed };
  }

  /** The reply to send, or undefined for a topic that is not a command of ours. Never rejects. */
  async handle(cmd: IncomingCommand): Promise<CommandResponse | undefined> {
    const parsed = this.#topics.parseCommand(cmd.topic);
    if (!parsed) return undefined;
    const { cameraId, command } = parsed;
    const useResponseTopic = cmd.responseTopic !== undefined && cmd.responseTopic !== '' && !WILDCARD.test(cmd.responseTopic);
    const topic = useResponseTopic ? cmd.responseTopic! : this.#topics.reply(cmd.topic);
    const respond = (reply: CommandReply): CommandResponse => ({ topic, reply, ...(cmd.correlationData ? { correlationData: cmd.correlationData } : {}) });
    let requestId: RequestId = null;
    this.#handled++;
    try {
      if (command !== 'trigger' && command !== 'recipe') {
        throw new CommandError(CommandErrorCodes.COMMAND_UNKNOWN, `unknown command "${command}" (known: trigger, recipe)`);
      }
      const body = parsePayload(command, cmd.payload);
      requestId = body.requestId;
      if (cmd.retain) throw new CommandError(CommandErrorCodes.COMMAND_INVALID, 'retained commands are ignored: publish commands with retain=false');
      const camera = this.#control.camera(cameraId);
      if (!camera) {
        const known = this.#control.cameras.map((c) => c.id).join(', ');
        throw new CommandError(CommandErrorCodes.CAMERA_UNKNOWN, `unknown camera "${cameraId}" (known: ${known})`);
      }
      const base = { command, camera: cameraId, requestId };
      if (command === 'recipe') {
        await camera.selectRecipe(body.recipe!);
        this.#log.info({ camera: cameraId, recipe: body.recipe, requestId }, 'recipe selected over MQTT');
        return respond(replyMessage(base, { ok: true, recipe: body.recipe! }, Date.now()));
      }
      if (this.#busy.has(cameraId)) throw new CommandError(ErrorCodes.CAMERA_BUSY, `camera ${cameraId} is busy with a trigger; wait for its reply`);
      this.#busy.add(cameraId);
      try {
        const verdict = await camera.trigger();
        this.#log.info({ camera: cameraId, requestId, id: verdict.id, pass: verdict.pass }, 'trigger over MQTT served');
        return respond(replyMessage(base, { ok: true, inspection: verdictSummary(verdict) }, Date.now()));
      } finally {
        this.#busy.delete(cameraId);
      }
    } catch (thrown) {
      this.#failed++;
      const err = toError(thrown);
      const carried = (err as { requestId?: RequestId }).requestId;
      if (carried !== undefined) requestId = carried; // a payload refused after its requestId was read
      const raw = (err as { code?: unknown }).code;
      const code = typeof raw === 'string' ? raw : CommandErrorCodes.COMMAND_FAILED;
      this.#warn.log('warn', { topic: cmd.topic, code, requestId, err: { message: err.message } }, 'MQTT command refused');
      return respond(replyMessage({ command, camera: cameraId, requestId }, { ok: false, code, message: err.message }, Date.now()));
    }
  }
}

function parsePayload(command: 'trigger' | 'recipe', payload: Uint8Array): Parsed {
  if (payload.byteLength > MAX_PAYLOAD) throw new CommandError(CommandErrorCodes.COMMAND_INVALID, `payload is ${payload.byteLength} bytes (at most ${MAX_PAYLOAD})`);
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8').trim();
  if (text === '') {
    if (command === 'trigger') return { requestId: null };
    throw new CommandError(CommandErrorCodes.COMMAND_INVALID, 'recipe command needs a JSON payload {"recipe": "<id>"}');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CommandError(CommandErrorCodes.COMMAND_INVALID, `payload is not JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CommandError(CommandErrorCodes.COMMAND_INVALID, 'payload must be a JSON object');
  }
  const o = value as Record<string, unknown>;
  const allowed = command === 'trigger' ? ['requestId'] : ['recipe', 'requestId'];
  const unknown = Object.keys(o).filter((k) => !allowed.includes(k));
  const rid = o.requestId;
  const requestId: RequestId =
    rid === undefined ? null : (typeof rid === 'string' && rid.length <= 128) || (typeof rid === 'number' && Number.isFinite(rid)) ? rid : null;
  const fail = (message: string): never => {
    const e = new CommandError(CommandErrorCodes.COMMAND_INVALID, message);
    throw Object.assign(e, { requestId });
  };
  if (rid !== undefined && requestId === null) fail('requestId must be a string (at most 128 characters) or a number');
  if (unknown.length > 0) fail(`unknown key(s) ${unknown.join(', ')} (allowed: ${allowed.join(', ')})`);
  if (command === 'recipe') {
    if (typeof o.recipe !== 'string' || !RECIPE_ID.test(o.recipe)) fail('"recipe" must be a recipe id (lower-case letters, digits, _ or -)');
    return { requestId, recipe: o.recipe as string };
  }
  return { requestId };
}
