/**
 * Bots with several languages, as an author meets them: `languages:` in bot.yaml, per-language texts
 * and examples, article translations, and the problems `baton validate` reports (file:line:col).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadBot } from '../../src/flow/loader';
import type { Problem } from '../../src/flow/problems';
import { interpret, type Context, type Effect, type TurnResult } from '../../src/flow/interpreter';
import { initialState, readState, type ConversationState } from '../../src/flow/state';
import { extractSlotValue } from '../../src/flow/slot-types';
import { DEFAULT_MESSAGES, DEFAULT_MESSAGES_IN, MESSAGE_KEYS } from '../../src/flow/messages';
import { renderTemplate } from '../../src/flow/templates';
import { buildCorpus } from '../../src/nlu/corpus';
import { loadFixtureBot } from '../fixtures';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-languages-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Write a bot folder (bot.yaml, flows/, knowledge/) and load it. */
function botWith(files: Record<string, string>): { dir: string; problems: Problem[]; bot: ReturnType<typeof loadBot>['bot'] } {
  const dir = fs.mkdtempSync(path.join(root, 'bot-'));
  fs.mkdirSync(path.join(dir, 'flows'));
  fs.mkdirSync(path.join(dir, 'knowledge'));
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  const r = loadBot(dir);
  return { dir, problems: r.problems, bot: r.bot };
}
const BOT_HEAD = 'name: Test\nflows: ./flows\nknowledge: ./knowledge\n';

/** Line and column of `needle` in a file. */
function at(file: string, needle: string): { line: number; col: number } {
  const text = fs.readFileSync(file, 'utf8');
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`"${needle}" is not in ${file}`);
  const before = text.slice(0, i).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}
const brief = (dir: string, p: Problem) => `${path.relative(dir, p.file)}:${p.line}:${p.col} ${p.severity === 'warning' ? 'warning ' : ''}${p.code}`;

const HELLO_FLOW = 'steps:\n  - say: Hi\n';

describe('bot.yaml languages', () => {
  it('the fixture bot in four languages loads without a single problem', () => {
    const r = loadBot(path.join(__dirname, '..', 'fixtures', 'bots', 'polyglot'));
    expect(r.problems).toEqual([]);
    expect(r.bot!.language).toBe('en');
    expect(r.bot!.languages).toEqual(['en', 'es', 'fr', 'de']);
  });

  it('reports unknown, unsupported, uninstalled and duplicate codes, each where it is written', () => {
    const { dir, problems, bot } = botWith({ 'bot.yaml': `${BOT_HEAD}languages: [en, EN, es-MX, xx, it, es, es]\n`, 'flows/hello.yaml': HELLO_FLOW });
    const file = path.join(dir, 'bot.yaml');
    const col = (needle: string) => at(file, needle).col;
    expect(bot).toBeNull();
    expect(problems.filter((p) => p.file === file).map((p) => [p.code, p.severity, p.line, p.col])).toEqual([
      ['invalid_language', 'error', 4, col('EN')],
      ['invalid_language', 'error', 4, col('es-MX')],
      ['unsupported_language', 'error', 4, col('xx')],
      ['language_not_installed', 'error', 4, col('it')],
      ['duplicate_language', 'error', 4, col('es]')],
    ]);
    const p = (code: string) => problems.find((x) => x.code === code)!;
    expect(p('invalid_language').hint).toContain('write "en"');
    expect(problems.filter((x) => x.code === 'invalid_language')[1]!.hint).toContain('write "es"');
    expect(p('language_not_installed').hint).toContain('npm install @nlpjs/lang-it');
    expect(p('unsupported_language').hint).toContain('es, eu');
  });

  it('refuses language and languages together', () => {
    const { problems } = botWith({ 'bot.yaml': `${BOT_HEAD}language: en\nlanguages: [en, es]\n`, 'flows/hello.yaml': HELLO_FLOW });
    expect(problems.map((p) => p.code)).toContain('conflicting_languages');
    expect(problems.find((p) => p.code === 'conflicting_languages')).toMatchObject({ severity: 'error', line: 4, col: 11 });
  });

  it('`language: en` and no language at all load exactly as before: one language, English wording', () => {
    for (const head of [`${BOT_HEAD}language: en\n`, BOT_HEAD]) {
      const { bot, problems } = botWith({ 'bot.yaml': head, 'flows/hello.yaml': HELLO_FLOW });
      expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
      expect(bot!.language).toBe('en');
      expect(bot!.languages).toEqual(['en']);
      expect(bot!.messages).toEqual(DEFAULT_MESSAGES);
      expect(bot!.localTitles).toBeUndefined();
      expect(bot!.titles['builtin.human']).toBe('Talk to a person');
    }
  });

  it('a Spanish-only bot gets Baton\'s Spanish wording and Spanish built-in intents', () => {
    const { bot } = botWith({ 'bot.yaml': `${BOT_HEAD}language: es\n`, 'flows/hello.yaml': HELLO_FLOW });
    expect(bot!.messages.fallback).toEqual(DEFAULT_MESSAGES_IN.es.fallback);
    expect(buildCorpus(bot!).intents.find((i) => i.intent === 'builtin.human')!.examples).toContain('quiero hablar con una persona');
  });
});

describe('default wording', () => {
  it('exists for every message key in es, fr and de, with the same buttons as English', () => {
    for (const l of ['es', 'fr', 'de'] as const) {
      expect(Object.keys(DEFAULT_MESSAGES_IN[l]).sort()).toEqual([...MESSAGE_KEYS].sort());
      for (const k of MESSAGE_KEYS) {
        const en = DEFAULT_MESSAGES[k]!;
        const tr = DEFAULT_MESSAGES_IN[l][k]!;
        expect([k, tr.length]).toEqual([k, en.length]);
        tr.forEach((m, i) => {
          expect([k, (m.quickReplies ?? []).map((b) => b.payload ?? null)]).toEqual([k, (en[i]!.quickReplies ?? []).map((b) => b.payload ?? null)]);
          // The same template variables as the English text.
          const vars = (t: string | undefined) => (t ?? '').match(/\{\{[^}]+\}\}/g)?.sort() ?? [];
          expect([k, vars(m.text)]).toEqual([k, vars(en[i]!.text)]);
          expect(m.text).not.toBe(en[i]!.text);
        });
      }
    }
  });
});

describe('per-language texts, examples and articles', () => {
  const bot = (flow: string, extra: Record<string, string> = {}) =>
    botWith({ 'bot.yaml': `${BOT_HEAD}languages: [en, es, fr]\n`, 'flows/ask.yaml': flow, ...extra });

  it('reports a missing language of a text, an example list, a choice title and an article, and an unknown language key', () => {
    const flow = [
      'title: { en: Ask, es: Preguntar, fr: Demander }',
      'trigger:',
      '  examples:',
      '    en: [one question, another question, a third question, a fourth question, a fifth question]',
      '    es: [una pregunta, otra pregunta, una tercera pregunta, una cuarta pregunta, una quinta pregunta]',
      'slots:',
      '  size:',
      '    type: choice',
      '    options:',
      '      - value: s',
      '        title: { en: Small, es: Pequeña }',
      '    prompt: { en: Which size?, es: ¿Qué talla?, fr: Quelle taille ? }',
      'steps:',
      '  - collect: size',
      '  - say: { en: Thank you very much, es: Muchas gracias, sp: Gracias }',
      '  - say: Thank you very much',
      '  - say: AB-123456',
      '',
    ].join('\n');
    const article = '---\ntitle: Shipping\nquestions: [how long is shipping, shipping time, delivery time]\n---\nThree days.\n';
    const articleEs = '---\ntitle: Envío\nquestions: [cuánto tarda el envío, plazo de envío, tiempo de entrega]\n---\nTres días.\n';
    const { dir, problems, bot: b } = bot(flow, { 'knowledge/shipping.md': article, 'knowledge/shipping.es.md': articleEs });
    const flowFile = path.join(dir, 'flows', 'ask.yaml');
    const list = problems.map((p) => brief(dir, p));
    const pos = (needle: string) => `${at(flowFile, needle).line}:${at(flowFile, needle).col}`;
    expect(list).toEqual([
      `flows/ask.yaml:${pos('en: [one')} warning missing_translation`,
      `flows/ask.yaml:${pos('{ en: Small')} warning missing_translation`,
      `flows/ask.yaml:${pos('{ en: Thank')} warning missing_translation`,
      `flows/ask.yaml:${pos('Gracias }')} unknown_language`,
      `flows/ask.yaml:${pos('Thank you very much\n')} warning untranslated_text`,
      `knowledge/shipping.md:2:1 warning missing_translation`,
    ]);
    expect(b).toBeNull(); // the unknown language key is an error
    const m = (code: string) => problems.filter((p) => p.code === code).map((p) => p.message);
    expect(m('missing_translation')).toEqual([
      'the trigger of flow "ask" has no French (fr) version: customers writing French can start it only with a button or keyword',
      'this option title has no French (fr) version: customers writing French see the English text',
      'this text has no French (fr) version: customers writing French see the English text',
      'article "shipping" has no French (fr) version: customers writing French cannot reach it by asking, and a button shows them the English answer',
    ]);
    expect(problems.find((p) => p.code === 'unknown_language')!.hint).toMatch(/did you mean "es"/);
  });

  it('a plain list of examples is the default language\'s; each language trains on its own', () => {
    const flow = ['trigger:', '  examples:', '    en: [a, b, c, d, e]', '    es: [uno, dos, tres, cuatro, cinco]', '    fr: [un, deux, trois, quatre, cinq]', 'steps:', '  - say: OK', ''].join('\n');
    const { bot: b, problems } = bot(flow);
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    const ask = (l: string) => buildCorpus(b!, l).intents.find((i) => i.intent === 'ask')!.examples;
    expect([ask('en'), ask('es'), ask('fr')]).toEqual([['a', 'b', 'c', 'd', 'e'], ['uno', 'dos', 'tres', 'cuatro', 'cinco'], ['un', 'deux', 'trois', 'quatre', 'cinq']]);
    expect(buildCorpus(b!, 'fr').language).toBe('fr');
    expect(buildCorpus(b!, 'fr').intents.find((i) => i.intent === 'builtin.thanks')!.examples).toContain('merci');
  });

  it('translations of articles: <id>.<lang>.md; no article for it, or the default language, is an error', () => {
    const article = '---\ntitle: T\nquestions: [q one, q two, q three]\n---\nA.\n';
    const { dir, problems } = bot('steps:\n  - say: OK\n', {
      'knowledge/orphan.es.md': article,
      'knowledge/faq.md': article,
      'knowledge/faq.en.md': article,
      'knowledge/faq.es.md': '---\ntitle: T\nquestions: [q uno, q dos, q tres]\nid: other\n---\nA.\n',
      'knowledge/faq.fr.md': article,
    });
    expect(problems.filter((p) => p.file.includes('knowledge')).map((p) => brief(dir, p))).toEqual([
      'knowledge/faq.en.md:1:1 invalid_translation',
      'knowledge/faq.es.md:4:1 unknown_key',
      'knowledge/faq.md:2:1 warning missing_translation',
      'knowledge/orphan.es.md:1:1 translation_without_article',
    ]);
  });

  it('a single-language bot may write its texts as a one-language map, but not in another language', () => {
    const ok = botWith({ 'bot.yaml': `${BOT_HEAD}language: en\n`, 'flows/hello.yaml': 'trigger: { keywords: [hello] }\nsteps:\n  - say: { en: Hello }\n' });
    expect(ok.problems).toEqual([]);
    expect(ok.bot!.flows.hello!.steps[0]).toMatchObject({ kind: 'say', messages: [{ text: 'Hello' }] });
    const bad = botWith({ 'bot.yaml': `${BOT_HEAD}language: en\n`, 'flows/hello.yaml': 'trigger: { keywords: [hello] }\nsteps:\n  - say: { es: Hola }\n' });
    expect(bad.problems.map((p) => p.code)).toEqual(['missing_translation', 'unknown_language']);
  });

  it('a misspelt message key is still an unknown key, not a language problem', () => {
    const { problems } = botWith({ 'bot.yaml': BOT_HEAD, 'flows/hello.yaml': 'trigger: { keywords: [hello] }\nsteps:\n  - say: { txet: Hello }\n' });
    expect(problems.map((p) => [p.code, p.message])).toEqual([['unknown_key', 'unknown key "txet" in "steps[0].say"']]);
  });
});

describe('the interpreter speaks the conversation\'s language', () => {
  const bot = loadFixtureBot('polyglot');
  const ctx = (): Context => {
    let n = 0;
    return { now: '2026-03-10T15:00:00.000Z', today: '2026-03-10', newId: () => `id${++n}`, conversationId: 'c' };
  };
  const texts = (r: TurnResult) => r.effects.filter((e): e is Extract<Effect, { type: 'send' }> => e.type === 'send').map((e) => e.message);
  const start = (language?: string): ConversationState => interpret(bot, initialState(language ? { language: { language, source: 'preferred' } } : {}), { type: 'start' }, ctx()).state;

  it('renders the welcome, its buttons and Baton\'s own words in the state\'s language', () => {
    const r = interpret(bot, initialState({ language: { language: 'de', source: 'preferred' } }), { type: 'start' }, ctx());
    expect(texts(r)[0]).toMatchObject({ text: expect.stringContaining('Ich bin der Assistent von Polyglot Shop'), quickReplies: [{ title: 'Bestellung verfolgen' }, { title: 'Mit einem Mitarbeiter sprechen' }] });
    const s = start('fr');
    const f = interpret(bot, s, { type: 'message', text: 'xyz', nlu: { intents: [{ intent: 'kb.shipping-times', score: 0.3 }] } }, ctx());
    expect(texts(f).map((m) => m.text)).toEqual(["Je ne suis pas sûr d'avoir bien compris.", "Vouliez-vous parler de l'un de ces sujets ?"]);
    expect(texts(f)[1]!.quickReplies!.map((b) => b.title)).toEqual(['Quels sont les délais de livraison ?', 'Parler à un conseiller']);
  });

  it('answers an article in the language, with its translated title and the main link', () => {
    const r = interpret(bot, start('es'), { type: 'message', text: 'x', payload: 'intent:kb.shipping-times', nlu: null }, ctx());
    expect(texts(r)[0]).toMatchObject({ text: expect.stringContaining('de 3 a 5 días'), citation: { title: '¿Cuánto tarda el envío?', url: 'https://polyglot.example/es/envios' } });
    expect(texts(r)[1]).toMatchObject({ text: '¿Ha resuelto esto tu duda?', quickReplies: [{ title: 'Sí' }, { title: 'No' }] });
    const fr = interpret(bot, start('fr'), { type: 'message', text: 'x', payload: 'intent:kb.shipping-times', nlu: null }, ctx());
    expect(texts(fr)[0]!.citation).toMatchObject({ title: 'Quels sont les délais de livraison ?', url: 'https://polyglot.example/en/shipping' });
    // "sí" answers the Spanish feedback question.
    const yes = interpret(bot, r.state, { type: 'message', text: 'sí', nlu: null }, ctx());
    expect(texts(yes)[0]!.text).toBe('¡Genial, me alegro de haberte ayudado!');
  });

  it('offers a choice slot\'s options in the language', () => {
    const r = interpret(bot, start('de'), { type: 'message', text: 'x', nlu: { intents: [{ intent: 'start_return', score: 0.99 }] } }, ctx());
    expect(texts(r).pop()!.quickReplies!.map((b) => b.title)).toEqual(['Falsche Größe', 'Beschädigt angekommen', 'Nicht mehr gewünscht']);
    const answered = interpret(bot, r.state, { type: 'message', text: 'Falsche Größe', nlu: null }, ctx());
    expect(answered.state.slots.reason).toBe('wrong_size');
    expect(texts(answered).pop()!.quickReplies!.map((b) => b.title)).toEqual(['Ja', 'Nein']);
    const no = interpret(bot, answered.state, { type: 'message', text: 'nein danke', nlu: null }, ctx());
    expect(texts(no)[0]!.text).toBe('Kein Problem, ich schicke nichts.');
  });

  it('a state written before languages (no language field) reads and speaks the default language', () => {
    const old = JSON.parse(JSON.stringify(initialState())) as Record<string, unknown>;
    expect(old.language).toBeUndefined();
    const s = readState(old);
    const r = interpret(bot, s, { type: 'message', text: 'x', payload: 'TRACK_ORDER', nlu: null }, ctx());
    expect(texts(r)[0]!.text).toContain("What's your order number?");
  });
});

describe('yes and no in every language', () => {
  const yn = (text: string, language?: string) => {
    const r = extractSlotValue({ type: 'yes_no' }, text, { mode: 'answer', today: '2026-03-10', ...(language ? { language } : {}) });
    return r.ok ? r.value : null;
  };
  it.each([
    ['sí, por favor', 'es', true], ['claro', 'es', true], ['no, gracias', 'es', false], ['no sé', 'es', null], ['vale', 'es', true],
    ['oui', 'fr', true], ["d'accord", 'fr', true], ['non merci', 'fr', false], ['pas du tout', 'fr', false], ['peut-être', 'fr', null], ["pas d'accord", 'fr', false],
    ['ja', 'de', true], ['ja gerne', 'de', true], ['nein', 'de', false], ['nö', 'de', false], ['nicht richtig', 'de', false], ['keine Ahnung', 'de', null],
    ['yes', 'es', true], ['no', 'de', false],
  ])('"%s" in %s → %s', (text, language, value) => {
    expect(yn(text, language)).toBe(value);
  });
  it('without a language only English counts (as before)', () => {
    expect(yn('oui')).toBeNull();
    expect(yn('ja')).toBeNull();
    expect(yn('yes')).toBe(true);
  });
});

describe('templates', () => {
  it('dates and money in the conversation\'s language; US English by default', () => {
    expect(renderTemplate('{{date d}}', { d: '2026-12-01' })).toBe('Tuesday, December 1, 2026');
    expect(renderTemplate('{{date d}}', { d: '2026-12-01' }, 'es')).toBe('martes, 1 de diciembre de 2026');
    expect(renderTemplate('{{date d}}', { d: '2026-12-01' }, 'de')).toBe('Dienstag, 1. Dezember 2026');
    expect(renderTemplate('{{money x "EUR"}}', { x: 1234.5 }, 'fr')).toMatch(/^1\s234,50\s€$/);
    expect(renderTemplate('{{money x}}', { x: 125 })).toBe('$125.00');
  });
});
