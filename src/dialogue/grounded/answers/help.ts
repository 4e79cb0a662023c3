/**
 * The list of what can be asked (topics.ts), for "what can I ask?" and for every question the
 * record cannot answer — never a guess. No digits: whatever number a reader sees in an answer
 * was looked up.
 */
import { TOPICS } from '../topics.js';

export const NO_LLM_NOTICE = 'No language model is loaded: answers come only from the inspection record and the archive.';

export function canAnswerList(): string {
  return TOPICS.filter((t) => t.id !== 'help')
    .map((t) => `- ${t.can} (e.g. "${t.example}")`)
    .join('\n');
}

export function helpAnswer(): string {
  return `${NO_LLM_NOTICE} I can answer, about this inspection:\n${canAnswerList()}`;
}

export function unknownAnswer(future: boolean): string {
  const why = future
    ? 'I cannot answer questions about what has not happened yet: the record only knows the past.'
    : 'I cannot answer that from the inspection record.';
  return `${why} ${NO_LLM_NOTICE} I can answer:\n${canAnswerList()}`;
}
