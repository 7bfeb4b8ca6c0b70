/**
 * bot.yaml's `nlu:` block: matcher choice, `threshold: auto | number`, targetWrongRate, outOfScope,
 * and the `auto` margins, as the loader compiles them into bot.config.nlu.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadBot } from '../../src/flow/loader';
import type { BotConfig } from '../../src/flow/model';
import type { Problem } from '../../src/flow/problems';
import {
  DEFAULT_TARGET_WRONG_RATE,
  UNRESOLVED_AMBIGUITY_MARGIN,
  UNRESOLVED_DIGRESSION_THRESHOLD,
  UNRESOLVED_THRESHOLD,
  autoDigressionThreshold,
  engineConfigOf,
} from '../../src/nlu/settings';
import { writeBot } from './bot-fixture';

const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(path.dirname(d), { recursive: true, force: true })));

function load(nlu?: string[]): { config: BotConfig; problems: Problem[] } {
  const dir = writeBot(nlu ? { nlu } : {});
  made.push(dir);
  const r = loadBot(dir);
  return { config: r.bot?.config as BotConfig, problems: r.problems };
}

const errors = (ps: Problem[]): string[] => ps.filter((p) => p.severity === 'error').map((p) => `${p.code}: ${p.message}`);

describe('nlu settings in bot.yaml', () => {
  it('defaults: linear matcher, auto threshold for a 10% wrong-answer target, generic out-of-scope examples', () => {
    const { config, problems } = load();
    expect(errors(problems)).toEqual([]);
    expect(config.nlu).toEqual({
      threshold: UNRESOLVED_THRESHOLD,
      ambiguityMargin: UNRESOLVED_AMBIGUITY_MARGIN,
      digressionThreshold: UNRESOLVED_DIGRESSION_THRESHOLD,
      suggestions: 3,
      suggestionThreshold: 0.2,
      engine: {
        matcher: 'linear',
        autoThreshold: true,
        autoDigressionThreshold: true,
        autoAmbiguityMargin: true,
        targetWrongRate: DEFAULT_TARGET_WRONG_RATE,
        outOfScope: true,
      },
    });
    expect(DEFAULT_TARGET_WRONG_RATE).toBe(0.1);
  });

  it('`auto` written out is the same as leaving the setting out', () => {
    const { config } = load(['threshold: auto', 'digressionThreshold: auto', 'ambiguityMargin: auto']);
    expect(config.nlu).toEqual(load().config.nlu);
  });

  it('numbers are fixed values and switch auto off, setting by setting', () => {
    const { config, problems } = load(['matcher: nlpjs', 'threshold: 0.7', 'targetWrongRate: 0.05', 'outOfScope: false', 'ambiguityMargin: 0.2']);
    expect(errors(problems)).toEqual([]);
    expect(config.nlu.threshold).toBe(0.7);
    expect(config.nlu.ambiguityMargin).toBe(0.2);
    expect(config.nlu.digressionThreshold).toBe(UNRESOLVED_DIGRESSION_THRESHOLD);
    expect(config.nlu.engine).toEqual({
      matcher: 'nlpjs',
      autoThreshold: false,
      autoDigressionThreshold: true,
      autoAmbiguityMargin: false,
      targetWrongRate: 0.05,
      outOfScope: false,
    });
  });

  it.each([
    [['threshold: high'], 'invalid_type: "nlu.threshold": expected number, got string'],
    [['threshold: 1.5'], 'invalid_value: "nlu.threshold": Too big: expected number to be <=1'],
    [['digressionThreshold: automatic'], 'invalid_type: "nlu.digressionThreshold": expected number, got string'],
    [['targetWrongRate: 0'], 'invalid_value: "nlu.targetWrongRate": Too small: expected number to be >=0.005'],
    [['outOfScope: sometimes'], 'invalid_type: "nlu.outOfScope": expected boolean, got string'],
  ])('rejects %j', (nlu, message) => {
    const { config, problems } = load(nlu);
    expect(config).toBeUndefined();
    expect(errors(problems)).toEqual([message]);
  });

  it('rejects an unknown matcher, listing the known ones', () => {
    const { problems } = load(['matcher: spacy']);
    const p = problems.find((x) => x.code === 'invalid_value')!;
    expect(p.message).toContain('"nlu.matcher"');
    expect(p.hint).toBe('allowed values: linear, nlpjs');
  });

  it('a config built by hand (no engine block) keeps its numbers', () => {
    const e = engineConfigOf({ threshold: 0.6, ambiguityMargin: 0.1, digressionThreshold: 0.8, suggestions: 3, suggestionThreshold: 0.2 });
    expect(e).toMatchObject({ matcher: 'linear', autoThreshold: false, autoDigressionThreshold: false, autoAmbiguityMargin: false });
  });

  it('digressionThreshold auto is halfway between the threshold and 1', () => {
    expect(autoDigressionThreshold(0.6)).toBeCloseTo(0.8);
    expect(autoDigressionThreshold(0.9)).toBeCloseTo(0.95);
    expect(autoDigressionThreshold(1)).toBe(1);
  });
});
