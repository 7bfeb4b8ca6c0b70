/**
 * Knowledge articles: Markdown files with YAML front matter.
 *
 *   ---
 *   title: How long does shipping take?
 *   questions: [how long does delivery take, when will my parcel arrive]
 *   ---
 *   Standard shipping takes 3–5 business days…
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Article, ArticleTranslation } from '../flow/model';
import type { Problem } from '../flow/problems';
import { articleFrontMatterSchema, articleTranslationFrontMatterSchema } from '../flow/schema';
import { parseYaml, posAt, type YamlFile } from '../flow/yaml';
import { zodProblems } from '../flow/zod-problems';
import { languageName } from '../flow/i18n';

export function articleIntent(id: string): string {
  return `kb.${id}`;
}

/** Split a Markdown file into its front matter (parsed, positioned) and its body; null (with a problem) when there is none. */
function splitFrontMatter(file: string, text: string, problems: Problem[]): { y: YamlFile; fmText: string; body: string } | null {
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  if (!src.startsWith('---\n')) {
    problems.push({
      severity: 'error',
      code: 'article_front_matter',
      message: 'the article has no front matter',
      hint: 'start the file with a `---` line, then `title:` and `questions:`, then a closing `---` line, then the answer',
      file,
      line: 1,
      col: 1,
    });
    return null;
  }
  const close = src.indexOf('\n---', 3);
  const afterClose = close >= 0 ? src.indexOf('\n', close + 4) : -1;
  if (close < 0 || (afterClose < 0 && src.slice(close + 4).trim() !== '') || (afterClose >= 0 && src.slice(close + 4, afterClose).trim() !== '')) {
    problems.push({
      severity: 'error',
      code: 'article_front_matter',
      message: 'the front matter is not closed',
      hint: 'add a line containing only `---` after the front matter',
      file,
      line: 1,
      col: 1,
    });
    return null;
  }
  const fmText = src.slice(4, close + 1);
  const body = afterClose >= 0 ? src.slice(afterClose + 1).trim() : '';
  const y = parseYaml(file, fmText, problems, 1);
  if (!y.doc) return null;
  return { y, fmText, body };
}

/** Problems about an article's questions and answer (shared by articles and their translations). */
function checkContent(file: string, y: YamlFile, fmText: string, id: string, questions: string[], body: string, problems: Problem[]): void {
  if (questions.length === 0) {
    const qp = posAt(y, ['questions']);
    problems.push({
      severity: 'error',
      code: 'article_no_questions',
      message: `article "${id}" has no sample questions, so nobody can reach it`,
      hint: 'list 5–10 ways a customer would ask for this answer under `questions:`',
      file,
      line: qp.line,
      col: qp.col,
    });
  } else if (questions.length < 3) {
    const qp = posAt(y, ['questions']);
    problems.push({
      severity: 'warning',
      code: 'few_examples',
      message: `article "${id}" has only ${questions.length} sample question(s); it will rarely be recognised`,
      hint: 'add at least 5 varied ways of asking',
      file,
      line: qp.line,
      col: qp.col,
    });
  }
  if (!body) {
    problems.push({
      severity: 'error',
      code: 'article_empty',
      message: `article "${id}" has no answer text after its front matter`,
      hint: 'write the answer below the closing `---`',
      file,
      line: fmText.split('\n').length + 2,
      col: 1,
    });
  }
}

export function parseArticle(file: string, text: string, problems: Problem[], defaults: { askFeedback: boolean }): Article | null {
  const defaultId = path.basename(file).replace(/\.md$/i, '');
  const split = splitFrontMatter(file, text, problems);
  if (!split) return null;
  const { y, fmText, body } = split;
  const r = articleFrontMatterSchema.safeParse(y.data ?? {});
  if (!r.success) {
    problems.push(...zodProblems(y, r.error));
    return null;
  }
  const fm = r.data;
  const id = fm.id ?? defaultId;
  const pos = posAt(y, []);
  checkContent(file, y, fmText, id, fm.questions, body, problems);
  return {
    id,
    title: fm.title,
    intent: articleIntent(id),
    questions: fm.questions,
    questionPos: fm.questions.map((_, i) => posAt(y, ['questions', i])),
    tags: fm.tags ?? [],
    link: fm.link,
    body,
    askFeedback: fm.askFeedback ?? defaults.askFeedback,
    file,
    pos: { file, line: pos.line, col: pos.col },
  };
}

/** An article's translation, `<id>.<lang>.md`: title, questions, answer and (optionally) link in that language. */
export function parseArticleTranslation(file: string, text: string, articleId: string, problems: Problem[]): ArticleTranslation | null {
  const split = splitFrontMatter(file, text, problems);
  if (!split) return null;
  const { y, fmText, body } = split;
  const r = articleTranslationFrontMatterSchema.safeParse(y.data ?? {});
  if (!r.success) {
    problems.push(...zodProblems(y, r.error));
    return null;
  }
  const fm = r.data;
  checkContent(file, y, fmText, articleId, fm.questions, body, problems);
  const pos = posAt(y, []);
  return {
    title: fm.title,
    questions: fm.questions,
    questionPos: fm.questions.map((_, i) => posAt(y, ['questions', i])),
    body,
    ...(fm.link !== undefined ? { link: fm.link } : {}),
    file,
    pos: { file, line: pos.line, col: pos.col },
  };
}

/**
 * Every article of a knowledge folder. A multilingual bot (`languages` with more than one entry)
 * may translate an article `<name>.md` in `<name>.<lang>.md`, for each of its other languages;
 * a missing translation is a `missing_translation` warning.
 */
export function loadArticles(dir: string, problems: Problem[], defaults: { askFeedback: boolean; languages?: string[] }): Article[] {
  if (!fs.existsSync(dir)) return [];
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.md') && f.toLowerCase() !== 'readme.md')
    .sort();
  const languages = defaults.languages ?? [];
  const multilingual = languages.length > 1;
  const names = new Set(files.map((f) => f.replace(/\.md$/i, '')));
  /** `<name>.<xx>.md` with a `<name>.md` next to it (multilingual bots only). */
  const translationOf = (f: string): { base: string; lang: string } | null => {
    const m = /^(.+)\.([a-z]{2})\.md$/i.exec(f);
    if (!multilingual || !m || !names.has(m[1]!)) return null;
    return { base: m[1]!, lang: m[2]! };
  };
  const out: Article[] = [];
  const byName = new Map<string, Article>();
  for (const f of files) {
    const file = path.join(dir, f);
    const tr = translationOf(f);
    if (tr) continue;
    const m = /^(.+)\.([a-z]{2})\.md$/.exec(f);
    if (multilingual && m && languages.slice(1).includes(m[2]!)) {
      problems.push({
        severity: 'error',
        code: 'translation_without_article',
        message: `${f} reads as the ${languageName(m[2]!)} translation of ${m[1]}.md, which does not exist`,
        hint: `write the article in the default language (${languages[0]}) as ${m[1]}.md, next to its translations`,
        file,
        line: 1,
        col: 1,
      });
      continue;
    }
    const a = parseArticle(file, fs.readFileSync(file, 'utf8'), problems, defaults);
    if (a) {
      out.push(a);
      byName.set(f.replace(/\.md$/i, ''), a);
    }
  }
  if (!multilingual) return out;
  for (const f of files) {
    const tr = translationOf(f);
    if (!tr) continue;
    const file = path.join(dir, f);
    const a = byName.get(tr.base);
    if (!languages.includes(tr.lang) || tr.lang === languages[0]) {
      problems.push({
        severity: 'error',
        code: tr.lang === languages[0] ? 'invalid_translation' : 'unknown_language',
        message:
          tr.lang === languages[0]
            ? `${f} would translate ${tr.base}.md into ${languageName(tr.lang)}, the bot's default language, which ${tr.base}.md is already written in`
            : `${f} is a ${languageName(tr.lang)} translation, but the bot's languages are ${languages.join(', ')}`,
        hint: tr.lang === languages[0] ? `merge it into ${tr.base}.md` : 'declare the language under `languages:` in bot.yaml, or rename the file',
        file,
        line: 1,
        col: 1,
      });
      continue;
    }
    if (!a) continue; // the article itself has errors (reported)
    const t = parseArticleTranslation(file, fs.readFileSync(file, 'utf8'), a.id, problems);
    if (t) (a.translations ??= {})[tr.lang] = t;
  }
  for (const a of out)
    for (const l of languages.slice(1))
      if (!a.translations?.[l])
        problems.push({
          severity: 'warning',
          code: 'missing_translation',
          message: `article "${a.id}" has no ${languageName(l)} (${l}) version: customers writing ${languageName(l)} cannot reach it by asking, and a button shows them the ${languageName(languages[0]!)} answer`,
          hint: `translate it in ${path.basename(a.file).replace(/\.md$/i, '')}.${l}.md (title, questions and answer)`,
          file: a.file,
          line: a.pos.line,
          col: a.pos.col,
        });
  return out;
}
