/**
 * The assistant's HTTP API, served by the daemon's local HTTP server (127.0.0.1 by default):
 *
 *   POST   /api/inspections/{id}/llm-verdict     → 200 { inspectionId, pYes, anomalous, visionMs, prefillMs }
 *   POST   /api/inspections/{id}/conversations   → 201 { id, inspectionId, createdAt, turns: [] }
 *   GET    /api/conversations/{cid}              → 200 { id, inspectionId, createdAt, turns }
 *   DELETE /api/conversations/{cid}              → 204
 *   POST   /api/conversations/{cid}/messages     body { "question": "…" }
 *          Accept: text/event-stream → Server-Sent Events: `token` {text, index} per token, then
 *          `done` {answer, turns, timings} or `error` {code, message};
 *          otherwise → 200 { answer, turns, timings } in one piece.
 *
 * Errors are JSON { error: { code, message } } with the status the code implies (404 unknown
 * inspection or conversation, 400 bad request, 413 body too large, 422 over the LLM context,
 * 429 busy with Retry-After, 500 otherwise).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAppError, toError, AppError, ErrorCodes } from '../errors.js';
import type { Assistant } from '../vlm/assistant/assistant.js';
import type { DialogueService } from '../vlm/assistant/dialogue.js';

const MAX_BODY = 64 * 1024;
const ROUTE = /^\/api\/(inspections|conversations)\/([^/]+)(?:\/([a-z-]+))?$/;

const STATUS: Record<string, number> = {
  [ErrorCodes.INSPECTION_UNKNOWN]: 404,
  [ErrorCodes.CONVERSATION_UNKNOWN]: 404,
  [ErrorCodes.REQUEST_INVALID]: 400,
  [ErrorCodes.LLM_CONTEXT]: 422,
  [ErrorCodes.LLM_BUSY]: 429,
};

export class AssistantHttp {
  constructor(
    private readonly assistant: Assistant,
    private readonly dialogue: DialogueService,
  ) {}

  /** Handles /api/… requests; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0];
    const m = ROUTE.exec(path);
    if (!m) return false;
    const [, kind, rawId, action] = m;
    let id: string;
    try {
      id = decodeURIComponent(rawId);
    } catch {
      sendError(res, new AppError(ErrorCodes.REQUEST_INVALID, 'malformed id in the path'));
      return true;
    }
    const route = `${req.method} ${kind}${action ? `/${action}` : ''}`;
    void this.route(route, id, req, res).catch((e) => sendError(res, e));
    return true;
  }

  private async route(route: string, id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (route) {
      case 'POST inspections/llm-verdict':
        return sendJson(res, 200, await this.assistant.verdictFor(id));
      case 'POST inspections/conversations':
        return sendJson(res, 201, await this.dialogue.create(id));
      case 'GET conversations':
        return sendJson(res, 200, this.dialogue.get(id));
      case 'DELETE conversations':
        this.dialogue.close(id);
        res.writeHead(204).end();
        return;
      case 'POST conversations/messages':
        return this.message(id, req, res);
      default:
        return sendJson(res, 405, { error: { code: 'E_METHOD', message: `${route.split(' ')[0]} is not allowed here` } });
    }
  }

  private async message(id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const question = (body as { question?: unknown } | null)?.question;
    if (typeof question !== 'string') throw new AppError(ErrorCodes.REQUEST_INVALID, 'body: must be a JSON object with a string "question"');
    const stream = (req.headers.accept ?? '').includes('text/event-stream');
    if (!stream) {
      const a = await this.dialogue.ask(id, question);
      return sendJson(res, 200, summary(a));
    }
    // The stream starts only once the turn is accepted, so refusals keep their HTTP status.
    this.dialogue.get(id);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    };
    try {
      const a = await this.dialogue.ask(id, question, {
        signal: abort.signal,
        onToken: (e) => {
          start();
          if (e.text) res.write(event('token', { text: e.text, index: e.index }));
        },
      });
      start();
      res.end(event('done', summary(a)));
    } catch (e) {
      if (!started) throw e;
      const err = toError(e);
      res.end(event('error', { code: (err as { code?: string }).code ?? 'E_INTERNAL', message: err.message }));
    }
  }
}

function summary(a: Awaited<ReturnType<DialogueService['ask']>>): object {
  return {
    conversationId: a.conversation.id,
    inspectionId: a.conversation.inspectionId,
    answer: a.answer,
    turns: a.conversation.turns,
    tokens: a.ids.length,
    timings: { prefillMs: a.prefill.ms, decodeMs: a.decodeMs, reusedPositions: a.prefill.reused, fedPositions: a.prefill.fed },
  };
}

function event(name: string, data: object): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw Object.assign(new AppError(ErrorCodes.REQUEST_INVALID, `body larger than ${MAX_BODY} bytes`), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new AppError(ErrorCodes.REQUEST_INVALID, 'body: not valid JSON');
  }
}

function sendJson(res: ServerResponse, status: number, body: object): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

function sendError(res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const err = toError(e);
  const code = isAppError(err) ? err.code : 'E_INTERNAL';
  const status = (err as { status?: number }).status ?? STATUS[code] ?? 500;
  if (status === 429) res.setHeader('Retry-After', '1');
  sendJson(res, status, { error: { code, message: err.message } });
}
