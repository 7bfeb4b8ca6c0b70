/**
 * A bot in four languages, end to end: one model per language (each cached on its own), the
 * conversation's language chosen at the start and detected from the customer's messages, replies in
 * that language, and the fixture bot's own conversation tests.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadBot } from '../../src/flow/loader';
import type { Bot } from '../../src/flow/model';
import { trainBot, type TrainedBot } from '../../src/main';
import { ConversationService } from '../../src/conversation/service';
import { MemoryStore } from '../../src/store/memory';
import { silentLogger } from '../../src/util/logger';
import { MultilingualMatcher } from '../../src/nlu/multilingual';
import { loadConversationTests, runConversationTest } from '../../src/testing/conversation-tests';
import { formatTestResult } from '../../src/cli/main';
import { FIXTURES } from '../fixtures';
import { LANGUAGE_SENTENCES, NEUTRAL_MESSAGES } from '../nlu/language-sentences';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-polyglot-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A copy of the polyglot fixture (bot, flows, knowledge) that a test may edit. */
function copyFixture(name: string): string {
  const dir = path.join(root, name);
  for (const kind of ['bots', 'flows', 'knowledge']) fs.cpSync(path.join(FIXTURES, kind, 'polyglot'), path.join(dir, kind, 'polyglot'), { recursive: true });
  return path.join(dir, 'bots', 'polyglot');
}

function load(dir: string): Bot {
  const r = loadBot(dir);
  if (!r.bot) throw new Error(JSON.stringify(r.problems, null, 2));
  return r.bot;
}

let bot: Bot;
let trained: TrainedBot;
beforeAll(async () => {
  bot = load(path.join(FIXTURES, 'bots', 'polyglot'));
  trained = await trainBot(bot, { cacheDir: path.join(root, 'cache-main') });
});

function service(): ConversationService {
  let n = 0;
  return new ConversationService({ bot, store: new MemoryStore(), matcher: trained.matcher, logger: silentLogger, newId: () => `id${++n}`, clock: () => new Date('2026-03-10T15:00:00.000Z') });
}

describe('training', () => {
  it('trains one model per language, each with its own thresholds', () => {
    expect(trained.matcher).toBeInstanceOf(MultilingualMatcher);
    expect(Object.keys(trained.languages!)).toEqual(['en', 'es', 'fr', 'de']);
    const hashes = new Set(Object.values(trained.languages!).map((l) => l.hash));
    expect(hashes.size).toBe(4);
    expect(Object.keys(bot.config.nlu.languages!)).toEqual(['en', 'es', 'fr', 'de']);
    for (const [l, t] of Object.entries(trained.languages!)) {
      expect(bot.config.nlu.languages![l]).toEqual({ threshold: t.thresholds.threshold, ambiguityMargin: t.thresholds.ambiguityMargin, digressionThreshold: t.thresholds.digressionThreshold });
      expect(t.thresholds.source).toBe('auto');
      expect(t.thresholds.cv!.examples).toBeGreaterThan(100);
    }
    // The default language's numbers are the bot's own, as for a single-language bot.
    expect(bot.config.nlu.threshold).toBe(trained.languages!.en!.thresholds.threshold);
  });

  it('caches each language on its own: a change in Spanish retrains Spanish only', async () => {
    const dir = copyFixture('cache');
    const cacheDir = path.join(root, 'cache-edit');
    const first = await trainBot(load(dir), { cacheDir });
    expect(first.fromCache).toBe(false);
    expect(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.json'))).toHaveLength(4);
    const again = await trainBot(load(dir), { cacheDir });
    expect(again.fromCache).toBe(true);
    const flow = path.join(dir, '..', '..', 'flows', 'polyglot', 'store_hours.yaml');
    fs.writeFileSync(flow, fs.readFileSync(flow, 'utf8').replace('abrís los festivos', 'abrís los días festivos'));
    const edited = await trainBot(load(dir), { cacheDir });
    expect(Object.fromEntries(Object.entries(edited.languages!).map(([l, r]) => [l, r.fromCache]))).toEqual({ en: true, es: false, fr: true, de: true });
    expect(edited.languages!.es!.hash).not.toBe(first.languages!.es!.hash);
    expect(edited.languages!.de!.hash).toBe(first.languages!.de!.hash);
    // Old Spanish model kept (3 per language), nothing else removed.
    expect(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.json'))).toHaveLength(5);
  });
});

describe('the conversation\'s language', () => {
  it('starts in the preferred language (browser, channel or profile), else in the default one', async () => {
    const s = service();
    const es = await s.create({ language: 'es-MX' });
    expect(es.replies[0]!.text).toContain('Soy el asistente de Polyglot Shop');
    expect(await s.state(es.conversationId)).toMatchObject({ language: 'es', languageSource: 'preferred' });
    const de = await s.create({ profile: { language: 'de' } });
    expect(de.replies[0]!.quickReplies!.map((b) => b.title)).toEqual(['Bestellung verfolgen', 'Mit einem Mitarbeiter sprechen']);
    const other = await s.create({ language: 'it-IT' });
    expect(other.replies[0]!.text).toContain("I'm the Polyglot Shop assistant");
    expect(await s.state(other.conversationId)).toMatchObject({ language: 'en', languageSource: 'default' });
  });

  it('starts in Spanish when the customer writes Spanish, and records the switch', async () => {
    const s = service();
    const { conversationId: id } = await s.create({});
    const r = await s.send(id, { text: 'hola, ¿me podéis decir dónde está mi pedido?' });
    expect(r.state).toMatchObject({ language: 'es', languageSource: 'detected' });
    expect(r.intent?.intent).toBe('order_status');
    expect(r.replies.map((m) => m.text)).toEqual(['¡Claro! ¿Cuál es tu número de pedido? Tiene este formato: AB-123456.']);
    expect(r.committed!.find((e) => e.type === 'language_switched')!.data).toMatchObject({ from: 'en', to: 'es' });
    const done = await s.send(id, { text: 'AB-123456' });
    expect(done.replies[0]!.text).toBe('El pedido AB-123456 está en camino y debería llegar en dos días.');
  });

  it('switches to German mid-conversation, in the middle of a question', async () => {
    const s = service();
    const { conversationId: id } = await s.create({ language: 'es' });
    await s.send(id, { text: 'quiero devolver una chaqueta' });
    const r = await s.send(id, { text: 'Entschuldigung, können wir Deutsch sprechen? Ich möchte mit einem Menschen sprechen' });
    expect(r.state.language).toBe('de');
    expect(r.handoff).toMatchObject({ reason: 'customer_request' });
    expect(r.replies[0]!.text).toContain('Ich verbinde Sie mit einem Mitarbeiter');
  });

  it('short messages never flip it: "ok", "2", an order number, an e-mail address', async () => {
    for (const lang of ['es', 'fr', 'de'] as const) {
      const s = service();
      const { conversationId: id } = await s.create({});
      const first = await s.send(id, { text: LANGUAGE_SENTENCES[lang][2]! });
      expect([lang, first.state.language]).toEqual([lang, lang]);
      for (const m of NEUTRAL_MESSAGES) {
        const r = await s.send(id, { text: m });
        expect([m, r.state.language]).toEqual([m, lang]);
      }
    }
  });

  it('one short word of another language does not flip a language the customer has used', async () => {
    const s = service();
    const { conversationId: id } = await s.create({});
    await s.send(id, { text: 'Bonjour, je voudrais savoir quels sont vos horaires' });
    const r = await s.send(id, { text: 'gracias' });
    expect(r.state).toMatchObject({ language: 'fr', languageVote: { language: 'es', count: 1 } });
    expect(r.replies[0]!.text).toBe('Je vous en prie ! Puis-je vous aider pour autre chose ?');
    const again = await s.send(id, { text: 'muchas gracias' });
    expect(again.state.language).toBe('es');
  });

  it('understands the built-in intents in every language', async () => {
    const cases: [string, string, string][] = [
      ['quiero hablar con una persona', 'builtin.human', 'Te pongo en contacto'],
      ['je veux parler à un humain', 'builtin.human', 'Je vous mets en relation'],
      ['ich möchte mit einem Menschen sprechen', 'builtin.human', 'Ich verbinde Sie'],
      ['muchas gracias por todo', 'builtin.thanks', '¡De nada!'],
      ['merci beaucoup pour votre aide', 'builtin.thanks', 'Je vous en prie'],
      ['tschüss, bis bald', 'builtin.goodbye', 'Auf Wiedersehen'],
      ['buenos días, necesito ayuda', 'builtin.greeting', '¿En qué puedo ayudarte hoy?'],
    ];
    for (const [text, intent, reply] of cases) {
      const s = service();
      const { conversationId: id } = await s.create({});
      const r = await s.send(id, { text });
      expect([text, r.intent?.intent, r.replies.map((m) => m.text).join(' ')]).toEqual([text, intent, expect.stringContaining(reply)]);
    }
  });

  it('a bot with one language keeps conversations without a language field', async () => {
    const one = load(path.join(FIXTURES, 'bots', 'scope'));
    const t = await trainBot(one, { cacheDir: path.join(root, 'cache-scope') });
    expect(t.languages).toBeUndefined();
    const s = new ConversationService({ bot: one, store: new MemoryStore(), matcher: t.matcher, logger: silentLogger });
    const { conversationId: id } = await s.create({ language: 'es' });
    const r = await s.send(id, { text: 'hola' });
    expect(r.state.language).toBeUndefined();
    expect(r.state.languageSource).toBeUndefined();
  });
});

describe('the fixture bot\'s conversation tests', () => {
  const problems: unknown[] = [];
  const tests = loadConversationTests(path.join(FIXTURES, 'bots', 'polyglot', 'tests'), problems as never);
  it('load', () => {
    expect(problems).toEqual([]);
    expect(tests.length).toBeGreaterThan(5);
  });
  it.each(tests.map((t) => [t.name, t]))('%s', async (_name, t) => {
    const r = await runConversationTest(t, { bot, matcher: trained.matcher, actions: {} });
    if (!r.passed) throw new Error(formatTestResult(r, false));
  });
});
