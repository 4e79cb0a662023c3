/** Question → topics (topics.ts table): plain questions, typos, case, follow-ups, and what must stay unanswered. */
import t from 'tap';
import { matchTopics, type MatchContext } from '../../../src/dialogue/grounded/intent.js';
import { editDistance, matchesTerm, term, words } from '../../../src/dialogue/grounded/words.js';

const plain: MatchContext = { timeRange: false, camera: false };
const topics = (q: string, ctx: MatchContext = plain) => matchTopics(q, ctx).topics.join('+');

t.test('words and typo tolerance', async (t) => {
  t.same(words("What's the DEFECT's size?!"), ['whats', 'the', 'defects', 'size']);
  t.equal(editDistance('yeild', 'yield'), 1, 'a swap of neighbours costs 1');
  t.equal(editDistance('confidence', 'conf'), 6);
  t.equal(editDistance('abcdef', 'xyz', 2), 3, 'stops early past the limit');
  const none = () => false;
  t.ok(matchesTerm('wher', term('where'), none), 'one typo from four letters');
  t.ok(matchesTerm('confidnce', term('confiden*'), none), 'a stem with a dropped letter');
  t.ok(matchesTerm('simmilar', term('similar*'), none));
  t.notOk(matchesTerm('are', term('area*'), none), 'no typos under four letters');
  t.notOk(matchesTerm('were', term('where'), none), 'a common word is not a typo');
  t.notOk(matchesTerm('fall', term('fail*'), none), 'short stems match exactly only');
  t.notOk(matchesTerm('date', term('rate'), () => true), 'a known word is not a typo of another');
});

t.test('plain questions, any case, with typos', async (t) => {
  const cases: [string, string][] = [
    ['Why did it fail?', 'why'],
    ['why?', 'why'],
    ['WHY was this part rejected', 'why'],
    ['By how much was it over the threshold?', 'why'],
    ['whyy did it fial', 'why'],
    ['Where is the defect?', 'where'],
    ['wher is the defect', 'where'],
    ['and where?', 'where'],
    ['How big is it?', 'where'],
    ['How many defects are there?', 'where'],
    ['what size is the scratch in pixels', 'where'],
    ['How sure is it?', 'confidence'],
    ['how sure?', 'confidence'],
    ['how confidnt is the system', 'confidence'],
    ['Could this be a false reject?', 'confidence'],
    ['Which recipe decided?', 'recipe'],
    ['what reference images were used', 'recipe'],
    ['how was the boundary computed', 'recipe'],
    ['Who decided, the judge or the LLM?', 'recipe'],
    ['How does it compare with recent passes?', 'compare'],
    ['is the score higher than usual', 'compare'],
    ['compared to normal parts?', 'compare'],
    ['Have we seen this defect before?', 'similar'],
    ['any simmilar fails in the past?', 'similar'],
    ['has this happened before', 'similar'],
    ['How many failed?', 'counts'],
    ['what is the yeild', 'counts'],
    ['pass rate?', 'counts'],
    ['When was it inspected?', 'timing'],
    ['how long did the inspection take', 'timing'],
    ['Did it pass?', 'verdict'],
    ['is there any anomaly in the image?', 'verdict'],
    ['what happened?', 'verdict'],
    ['What can I ask?', 'help'],
    ['help', 'help'],
  ];
  for (const [q, want] of cases) t.equal(topics(q), want, q);
});

t.test('two topics in one question', async (t) => {
  t.equal(topics('Why did it fail and where?'), 'why+where');
  t.equal(topics('where is it and how sure are you?'), 'where+confidence');
});

t.test('follow-ups that name only a range or a camera lean on the previous topic', async (t) => {
  t.equal(topics('and yesterday?', { timeRange: true, camera: false, previous: 'counts' }), 'counts');
  t.equal(topics('what about', { timeRange: true, camera: false, previous: 'compare' }), 'compare', 'a ranged topic is asked again');
  t.equal(topics('and', { timeRange: true, camera: false, previous: 'where' }), 'counts', 'else counts');
  t.equal(topics('and on', { timeRange: false, camera: true, previous: 'compare' }), 'counts', 'another camera: counts');
  t.equal(topics('how many failed', { timeRange: true, camera: false }), 'counts');
  t.equal(topics('how does it compare with the passes', { timeRange: true, camera: false }), 'compare');
});

t.test('unanswerable questions match nothing', async (t) => {
  for (const q of ["What's the temperature?", 'Who made this part?', 'what is the serial number', 'who is the operator', 'what colour is the sky', 'asdf qwer', '']) {
    t.equal(topics(q), '', q);
  }
  const future = matchTopics('Will the next part fail?', plain);
  t.same([future.topics, future.future], [[], true], 'the future is never answered');
  t.equal(topics('what will the yield be tomorrow'), '');
});
