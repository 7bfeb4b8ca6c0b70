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
import type { Article } from '../flow/model';
import type { Problem } from '../flow/problems';
import { articleFrontMatterSchema } from '../flow/schema';
import { parseYaml, posAt } from '../flow/yaml';
import { zodProblems } from '../flow/zod-problems';

export function articleIntent(id: string): string {
  return `kb.${id}`;
}

export function parseArticle(file: string, text: string, problems: Problem[], defaults: { askFeedback: boolean }): Article | null {
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const defaultId = path.basename(file).replace(/\.md$/i, '');
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
  const r = articleFrontMatterSchema.safeParse(y.data ?? {});
  if (!r.success) {
    problems.push(...zodProblems(y, r.error));
    return null;
  }
  const fm = r.data;
  const id = fm.id ?? defaultId;
  const pos = posAt(y, []);
  if (fm.questions.length === 0) {
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
  } else if (fm.questions.length < 3) {
    const qp = posAt(y, ['questions']);
    problems.push({
      severity: 'warning',
      code: 'few_examples',
      message: `article "${id}" has only ${fm.questions.length} sample question(s); it will rarely be recognised`,
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

export function loadArticles(dir: string, problems: Problem[], defaults: { askFeedback: boolean }): Article[] {
  if (!fs.existsSync(dir)) return [];
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.md') && f.toLowerCase() !== 'readme.md')
    .sort();
  const out: Article[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    const a = parseArticle(file, fs.readFileSync(file, 'utf8'), problems, defaults);
    if (a) out.push(a);
  }
  return out;
}
