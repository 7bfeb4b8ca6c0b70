/**
 * `baton validate` warns about near-duplicate examples of different intents
 * (`overlapping_examples`), with file:line of both, and stays quiet about merely related ones.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadBot } from '../../src/flow/loader';
import { findOverlappingExamples, DEFAULT_OVERLAP_THRESHOLD } from '../../src/nlu/overlap';
import { BIKE_ARTICLES, BIKE_FLOWS, lineOf, writeBot } from './bot-fixture';

const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(path.dirname(d), { recursive: true, force: true })));
function bot(spec: Parameters<typeof writeBot>[0]): string {
  const dir = writeBot(spec);
  made.push(dir);
  return dir;
}
const overlaps = (dir: string) => loadBot(dir).problems.filter((p) => p.code === 'overlapping_examples');

describe('findOverlappingExamples', () => {
  const ex = (intent: string, text: string) => ({ intent, text, pos: null });

  it('finds examples of different intents that differ by a word or two', () => {
    const r = findOverlappingExamples([
      ex('order_status', 'where is my order'),
      ex('refund', 'where is my refund'),
      ex('order_help', 'can you help me with my order'),
      ex('order_status', 'can you help me with my order please'),
    ]);
    expect(r.map((o) => [o.a.text, o.b.text])).toEqual([['can you help me with my order', 'can you help me with my order please']]);
    expect(r[0]!.similarity).toBeGreaterThanOrEqual(DEFAULT_OVERLAP_THRESHOLD);
  });

  it('compares stems and ignores case and punctuation', () => {
    const r = findOverlappingExamples([ex('a', 'Cancelling my orders!'), ex('b', 'cancel my order')]);
    expect(r).toHaveLength(1);
    expect(r[0]!.similarity).toBeCloseTo(1, 6);
  });

  it('ignores pairs within one intent, and pairs the caller skips', () => {
    expect(findOverlappingExamples([ex('a', 'track my order'), ex('a', 'track my order please')])).toEqual([]);
    expect(findOverlappingExamples([ex('a', 'track my order'), ex('b', 'track my order')], { skip: () => true })).toEqual([]);
  });
});

describe('baton validate: overlapping_examples', () => {
  it('warns at one example (the later one: flows by file name, then articles) with the file:line of the other, and a hint', () => {
    const flows = [{ ...BIKE_FLOWS[0]!, examples: [...BIKE_FLOWS[0]!.examples, 'when can I pick up my bike please'] }, BIKE_FLOWS[1]!];
    const dir = bot({ flows });
    const ws = overlaps(dir);
    expect(ws).toHaveLength(1);
    const w = ws[0]!;
    const repair = path.join(dir, 'flows', 'book_repair.yaml');
    const track = path.join(dir, 'flows', 'track_repair.yaml');
    expect(w).toMatchObject({ severity: 'warning', code: 'overlapping_examples', file: track, line: lineOf(track, '"when can I pick up my bike"'), flow: 'track_repair' });
    expect(w.message).toMatch(
      new RegExp(
        `^the example "when can I pick up my bike" \\(intent "track_repair"\\) is nearly the same as "when can I pick up my bike please", ` +
          `an example of intent "book_repair" at ${repair.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${lineOf(repair, 'when can I pick up my bike please')} \\(\\d+% alike\\)$`,
      ),
    );
    expect(w.hint).toContain('reword one');
    expect(w.hint).toContain('baton eval');
    // A warning, not an error: the bot still loads.
    expect(loadBot(dir).bot).not.toBeNull();
  });

  it('compares article questions with flow examples and with the built-ins', () => {
    const articles = [{ ...BIKE_ARTICLES[0]!, questions: [...BIKE_ARTICLES[0]!.questions, 'is my bike ready yet today'] }, BIKE_ARTICLES[1]!];
    const flows = [{ ...BIKE_FLOWS[0]!, examples: [...BIKE_FLOWS[0]!.examples, 'I want to talk to a human please'] }, BIKE_FLOWS[1]!];
    const dir = bot({ flows, articles });
    const ws = overlaps(dir);
    expect(ws).toHaveLength(2);
    const [human, ready] = [ws.find((w) => w.message.includes('human'))!, ws.find((w) => w.message.includes('ready'))!];
    expect(human.file).toBe(path.join(dir, 'flows', 'book_repair.yaml'));
    expect(human.message).toContain(
      `the example "I want to talk to a human please" (intent "book_repair") is nearly the same as "I want to talk to a human", an example of intent "builtin.human" at Baton's built-in examples of builtin.human`,
    );
    const article = path.join(dir, 'knowledge', 'opening-hours.md');
    const track = path.join(dir, 'flows', 'track_repair.yaml');
    expect(ready).toMatchObject({ file: article, line: lineOf(article, 'is my bike ready yet today') });
    expect(ready.message).toContain(
      `the example "is my bike ready yet today" (intent "kb.opening-hours") is nearly the same as "is my bike ready yet", an example of intent "track_repair" at ${track}:${lineOf(track, 'is my bike ready yet')}`,
    );
  });

  it('points at the out-of-scope class when an example reads like a generic off-topic question', () => {
    const flows = [{ ...BIKE_FLOWS[0]!, examples: [...BIKE_FLOWS[0]!.examples, 'will it rain tomorrow morning'] }, BIKE_FLOWS[1]!];
    const ws = overlaps(bot({ flows }));
    expect(ws).toHaveLength(1);
    expect(ws[0]!.message).toContain(`"will it rain tomorrow", one of Baton's generic out-of-scope examples`);
    expect(ws[0]!.hint).toContain('nlu.outOfScope: false');
    // Without the out-of-scope class (or with node-nlp, which does not use it) there is nothing to warn about.
    expect(overlaps(bot({ flows, nlu: ['outOfScope: false'] }))).toEqual([]);
    expect(overlaps(bot({ flows, nlu: ['matcher: nlpjs'] }))).toEqual([]);
  });

  it('is quiet about related but different examples, and about exact duplicates (reported as duplicate_example)', () => {
    expect(overlaps(bot({}))).toEqual([]);
    const flows = [{ ...BIKE_FLOWS[0]!, examples: [...BIKE_FLOWS[0]!.examples, 'repair status'] }, BIKE_FLOWS[1]!];
    const dir = bot({ flows });
    expect(overlaps(dir)).toEqual([]);
    expect(loadBot(dir).problems.map((p) => p.code)).toContain('duplicate_example');
  });

  it('finds nothing in the demo bot', () => {
    expect(overlaps(path.resolve(__dirname, '..', '..', 'bots', 'acme'))).toEqual([]);
  });
});
