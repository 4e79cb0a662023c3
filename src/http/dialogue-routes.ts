/**
 * Asking about inspections (issue 4, issue 10 item 3), on the daemon's HTTP server — answered by
 * the AnomalyGPT LLM when a bundle is loaded, otherwise by the grounded answerer (no language
 * model; src/dialogue/grounded/):
 *
 *   GET    /api/assistant                        → 200 { mode: 'llm' | 'grounded', model?, notice?, topics? }
 *   POST   /api/inspections/{id}/llm-verdict     → 200 { inspectionId, pYes, anomalous, visionMs, prefillMs };
 *                                                  409 E_LLM_UNAVAILABLE without a language model
 *   POST   /api/inspections/{id}/conversations   → 201 { id, inspectionId, mode, createdAt, turns: [] }
 *   GET    /api/conversations/{cid}              → 200 { id, inspectionId, createdAt, turns }
 *   DELETE /api/conversations/{cid}              → 204
 *   POST   /api/conversations/{cid}/messages     body { "question": "…" } (≤ 64 KiB)
 *          Accept: text/event-stream → Server-Sent Events: `token` {text, index} per token, then
 *          `done` {answer, turns, timings, grounded?: {topic, topics, facts}} or `error` {code, message};
 *          otherwise → 200 { answer, turns, timings } in one piece.
 *
 * Errors use the server's one shape and table (error-status.ts): 404 unknown inspection or
 * conversation, 400 bad request, 413 body too large, 422 over the LLM context, 429 busy with
 * Retry-After.
 */
import type { FastifyInstance } from 'fastify';
import { AppError, ErrorCodes } from '../errors.js';
import type { DialogueService } from '../dialogue/dialogue-service.js';
import { errorBody, httpError } from './error-status.js';
import { EventStream } from './event-stream.js';
import { allowOnly, type HttpRoutes } from './http-server.js';

type IdParams = { Params: { id: string } };

export interface DialogueRoutesOptions {
  /** GET /api/assistant: who answers (docs/http-api.md). */
  readonly assistant: () => object;
  /** The LLM verdict on request; absent without a language model (→ 409 E_LLM_UNAVAILABLE). */
  readonly llmVerdict?: (inspectionId: string) => Promise<object>;
}

export function dialogueRoutes(dialogue: DialogueService, o: DialogueRoutesOptions): HttpRoutes {
  return {
    name: 'dialogue',
    register(app: FastifyInstance) {
      app.get('/api/assistant', async (_req, reply) => reply.header('Cache-Control', 'no-store').send(o.assistant()));
      app.post<IdParams>('/api/inspections/:id/llm-verdict', async (req) => {
        if (!o.llmVerdict) throw new AppError(ErrorCodes.LLM_UNAVAILABLE, 'no language model is loaded (assistant.enabled is false): questions are answered from the inspection record, without an LLM verdict');
        return o.llmVerdict(req.params.id);
      });
      app.post<IdParams>('/api/inspections/:id/conversations', async (req, reply) => reply.code(201).send(await dialogue.create(req.params.id)));
      app.get<IdParams>('/api/conversations/:id', async (req) => dialogue.get(req.params.id));
      app.delete<IdParams>('/api/conversations/:id', async (req, reply) => {
        dialogue.close(req.params.id);
        return reply.code(204).send();
      });
      app.post<IdParams>('/api/conversations/:id/messages', async (req, reply) => {
        const question = (req.body as { question?: unknown } | null)?.question;
        if (typeof question !== 'string') throw new AppError(ErrorCodes.REQUEST_INVALID, 'body: must be a JSON object with a string "question"');
        if (!(req.headers.accept ?? '').includes('text/event-stream')) return summary(await dialogue.ask(req.params.id, question));
        // The stream opens only once the turn is accepted, so refusals keep their HTTP status.
        dialogue.get(req.params.id);
        const stream = new EventStream(reply);
        try {
          const a = await dialogue.ask(req.params.id, question, {
            signal: stream.signal,
            onToken: (e) => {
              if (e.text) stream.send('token', { text: e.text, index: e.index });
            },
          });
          stream.end('done', summary(a));
        } catch (e) {
          if (!stream.opened) throw e;
          stream.end('error', errorBody(httpError(e)).error);
        }
        return reply;
      });
      allowOnly(app, '/api/assistant', ['GET']);
      allowOnly(app, '/api/inspections/:id/llm-verdict', ['POST']);
      allowOnly(app, '/api/inspections/:id/conversations', ['POST']);
      allowOnly(app, '/api/conversations/:id', ['GET', 'DELETE']);
      allowOnly(app, '/api/conversations/:id/messages', ['POST']);
    },
  };
}

function summary(a: Awaited<ReturnType<DialogueService['ask']>>): object {
  return {
    conversationId: a.conversation.id,
    inspectionId: a.conversation.inspectionId,
    mode: a.conversation.mode,
    answer: a.answer,
    turns: a.conversation.turns,
    tokens: a.tokens,
    timings: a.timings,
    ...(a.grounded ? { grounded: a.grounded } : {}),
  };
}
