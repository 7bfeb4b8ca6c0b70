/**
 * Writes small bots into a temp folder for NLU tests: a bike shop with two flows and two articles,
 * and whatever `nlu:` block, flows or articles a test needs instead.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface FlowSpec {
  id: string;
  title: string;
  examples: string[];
}
export interface ArticleSpec {
  id: string;
  title: string;
  questions: string[];
  body: string;
}
export interface BotSpec {
  id?: string;
  /** Default en. */
  language?: string;
  /** YAML lines of the `nlu:` block, without the key (e.g. ['threshold: 0.7']). */
  nlu?: string[];
  flows?: FlowSpec[];
  articles?: ArticleSpec[];
}

export const BIKE_FLOWS: FlowSpec[] = [
  {
    id: 'book_repair',
    title: 'Book a repair',
    examples: [
      'I need to book a repair',
      'my bike needs fixing',
      'can you fix my bicycle',
      'book a service for my bike',
      'my brakes are squeaking, can you repair them',
      'I have a flat tyre, can you fix it',
      'schedule a bike tune-up',
      'the gears on my bike keep slipping',
      'I want my bike serviced',
      'my chain broke, can I bring it in',
      'repair appointment please',
      'can I drop my bike off for a repair',
    ],
  },
  {
    id: 'track_repair',
    title: 'Check on a repair',
    examples: [
      'is my bike ready yet',
      'when can I pick up my bike',
      "what's the status of my repair",
      'how is the repair going',
      'is the repair finished',
      'has the mechanic looked at my bike yet',
      'can I collect my bicycle today',
      'any news on my bike',
      'how much longer will my repair take',
      'is my bicycle done',
      'repair status',
      'update on my repair please',
    ],
  },
];

export const BIKE_ARTICLES: ArticleSpec[] = [
  {
    id: 'opening-hours',
    title: 'Opening hours',
    questions: [
      'when are you open',
      'what are your opening hours',
      'are you open on sunday',
      'what time do you close today',
      'are you open on bank holidays',
      'what time do you open in the morning',
      'opening times',
      'are you open late on thursdays',
      'is the shop open now',
      'hours on saturday',
    ],
    body: 'We are open Monday to Saturday, 9am to 6pm (Thursdays until 8pm). Closed on Sundays and bank holidays.',
  },
  {
    id: 'rentals',
    title: 'Renting a bike',
    questions: [
      'do you rent bikes',
      'how much is bike rental',
      'can I hire a bicycle for the weekend',
      'do you have electric bikes to rent',
      'what do I need to rent a bike',
      'can I rent a kids bike',
      'is a helmet included with the rental',
      'day hire prices',
      'can I book a rental bike in advance',
      'do you do tandem hire',
    ],
    body: 'We rent city bikes, e-bikes and kids bikes by the hour or by the day. Bring a photo ID; helmets and locks are included.',
  },
];

const q = (s: string): string => JSON.stringify(s);

/** Writes the bot under a new temp folder; returns the bot folder. */
export function writeBot(spec: BotSpec = {}, parent = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-nlu-bot-'))): string {
  const id = spec.id ?? 'bikes';
  const dir = path.join(parent, id);
  fs.mkdirSync(path.join(dir, 'flows'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'knowledge'), { recursive: true });
  const nlu = spec.nlu ? ['nlu:', ...spec.nlu.map((l) => `  ${l}`)] : [];
  fs.writeFileSync(
    path.join(dir, 'bot.yaml'),
    [`id: ${id}`, 'name: Spokes Bike Shop', `language: ${spec.language ?? 'en'}`, 'flows: ./flows', 'knowledge: ./knowledge', ...nlu, ''].join('\n'),
  );
  for (const f of spec.flows ?? BIKE_FLOWS) {
    fs.writeFileSync(
      path.join(dir, 'flows', `${f.id}.yaml`),
      [`title: ${q(f.title)}`, 'trigger:', '  examples:', ...f.examples.map((e) => `    - ${q(e)}`), 'steps:', `  - say: ${q(`(${f.title})`)}`, ''].join('\n'),
    );
  }
  for (const a of spec.articles ?? BIKE_ARTICLES) {
    fs.writeFileSync(
      path.join(dir, 'knowledge', `${a.id}.md`),
      ['---', `title: ${q(a.title)}`, 'questions:', ...a.questions.map((x) => `  - ${q(x)}`), '---', a.body, ''].join('\n'),
    );
  }
  return dir;
}

/** The 1-based line of `text` in `file` (first occurrence). */
export function lineOf(file: string, text: string): number {
  const i = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text));
  if (i < 0) throw new Error(`"${text}" is not in ${file}`);
  return i + 1;
}
