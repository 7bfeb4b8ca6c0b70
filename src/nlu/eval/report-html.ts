/**
 * The self-contained HTML report of `baton eval`: no scripts, no external files; charts are inline SVG.
 */
import type { BotEvaluation, CurvePoint } from './bot';

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (x: number, digits = 1): string => (Number.isFinite(x) ? `${(100 * x).toFixed(digits)}%` : '—');
const num = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : '—');

interface Box {
  w: number;
  h: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function axes(box: Box, xMax: number, xLabel: string, yLabel: string, xTicks: number[], yTicks: number[], xFmt: (x: number) => string): string {
  const { w, h, left, right, top, bottom } = box;
  const X = (x: number): number => left + (x / xMax) * (w - left - right);
  const Y = (y: number): number => h - bottom - y * (h - top - bottom);
  const parts: string[] = [];
  for (const t of yTicks) {
    parts.push(`<line x1="${left}" y1="${Y(t)}" x2="${w - right}" y2="${Y(t)}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${Y(t) + 4}" text-anchor="end">${esc(pct(t, 0))}</text>`);
  }
  for (const t of xTicks) {
    parts.push(`<line x1="${X(t)}" y1="${top}" x2="${X(t)}" y2="${h - bottom}" class="grid"/>`);
    parts.push(`<text x="${X(t)}" y="${h - bottom + 16}" text-anchor="middle">${esc(xFmt(t))}</text>`);
  }
  parts.push(`<line x1="${left}" y1="${h - bottom}" x2="${w - right}" y2="${h - bottom}" class="axis"/>`);
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${h - bottom}" class="axis"/>`);
  parts.push(`<text x="${(left + w - right) / 2}" y="${h - 6}" text-anchor="middle" class="label">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${(top + h - bottom) / 2}) rotate(-90)" text-anchor="middle" class="label">${esc(yLabel)}</text>`);
  return parts.join('');
}

/** Coverage (answered correctly) against the wrong-answer rate, one point per threshold. */
export function tradeOffChart(e: BotEvaluation): string {
  const box: Box = { w: 640, h: 380, left: 56, right: 20, top: 16, bottom: 46 };
  const pts = e.curve.filter((p) => p.answeredRate > 0);
  const maxWrong = Math.max(e.targetWrongRate, ...pts.map((p) => p.wrongRate));
  const xMax = Math.min(1, Math.ceil((maxWrong + 0.0001) * 20) / 20);
  const X = (x: number): number => box.left + (x / xMax) * (box.w - box.left - box.right);
  const Y = (y: number): number => box.h - box.bottom - y * (box.h - box.top - box.bottom);
  const step = xMax <= 0.2 ? 0.05 : xMax <= 0.5 ? 0.1 : 0.2;
  const xTicks = Array.from({ length: Math.floor(xMax / step + 1e-9) + 1 }, (_, i) => i * step);
  const yTicks = [0, 0.2, 0.4, 0.6, 0.8, 1];
  const line = pts.map((p) => `${X(p.wrongRate).toFixed(1)},${Y(p.answeredCorrectRate).toFixed(1)}`).join(' ');
  const labelled = pts.filter((p) => [0.3, 0.5, 0.7, 0.8, 0.9, 0.95].some((t) => Math.abs(p.threshold - t) < 1e-9));
  const rec = e.recommended;
  const recPoint = rec.cv ? { x: X(rec.cv.wrongRate), y: Y(rec.cv.answeredCorrectRate) } : null;
  const conf = e.configured ? { x: X(e.configured.wrongRate), y: Y(e.configured.answeredCorrectRate) } : null;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${box.w} ${box.h}" width="${box.w}" height="${box.h}" role="img" aria-label="Coverage against wrong-answer rate">
${axes(box, xMax, 'wrong answers / answers given', 'answered correctly / in-scope questions', xTicks, yTicks, (x) => pct(x, 0))}
<line x1="${X(e.targetWrongRate)}" y1="${box.top}" x2="${X(e.targetWrongRate)}" y2="${box.h - box.bottom}" class="target"/>
<text x="${X(e.targetWrongRate) + 4}" y="${box.top + 12}" class="small">target ${esc(pct(e.targetWrongRate, 0))}</text>
<polyline points="${line}" class="curve"/>
${labelled.map((p) => `<circle cx="${X(p.wrongRate).toFixed(1)}" cy="${Y(p.answeredCorrectRate).toFixed(1)}" r="2.5" class="dot"/><text x="${(X(p.wrongRate) + 5).toFixed(1)}" y="${(Y(p.answeredCorrectRate) + 12).toFixed(1)}" class="small">t=${p.threshold.toFixed(2)}</text>`).join('\n')}
${conf ? `<circle cx="${conf.x.toFixed(1)}" cy="${conf.y.toFixed(1)}" r="6" class="configured"/><text x="${(conf.x + 8).toFixed(1)}" y="${(conf.y + 4).toFixed(1)}" class="small">bot.yaml ${esc(num(e.configured!.threshold, 2))}</text>` : ''}
${recPoint ? `<circle cx="${recPoint.x.toFixed(1)}" cy="${recPoint.y.toFixed(1)}" r="6" class="chosen"/><text x="${(recPoint.x + 8).toFixed(1)}" y="${(recPoint.y - 6).toFixed(1)}" class="small strong">recommended ${esc(num(rec.threshold, 3))}</text>` : ''}
</svg>`;
}

/** Coverage and wrong-answer rate as functions of the threshold. */
export function thresholdChart(e: BotEvaluation): string {
  const box: Box = { w: 640, h: 300, left: 56, right: 20, top: 16, bottom: 46 };
  const X = (x: number): number => box.left + x * (box.w - box.left - box.right);
  const Y = (y: number): number => box.h - box.bottom - y * (box.h - box.top - box.bottom);
  const series = (f: (p: CurvePoint) => number): string => e.curve.map((p) => `${X(p.threshold).toFixed(1)},${Y(f(p)).toFixed(1)}`).join(' ');
  const t = e.recommended.threshold;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${box.w} ${box.h}" width="${box.w}" height="${box.h}" role="img" aria-label="Rates against the threshold">
${axes(box, 1, 'threshold (answer when confidence ≥ threshold)', 'share', [0, 0.2, 0.4, 0.6, 0.8, 1], [0, 0.2, 0.4, 0.6, 0.8, 1], (x) => x.toFixed(1))}
<polyline points="${series((p) => p.answeredCorrectRate)}" class="curve"/>
<polyline points="${series((p) => p.answeredRate)}" class="curve answered"/>
<polyline points="${series((p) => p.wrongRate)}" class="curve wrong"/>
<line x1="${X(t)}" y1="${box.top}" x2="${X(t)}" y2="${box.h - box.bottom}" class="target"/>
<text x="${X(t) - 4}" y="${box.top + 12}" text-anchor="end" class="small">${esc(num(t, 3))}</text>
<g class="small" transform="translate(${box.w - box.right - 145} ${box.top + 24})"><rect x="0" y="4" width="10" height="3" class="key"/><text x="14" y="9">answered correctly</text>
<rect x="0" y="18" width="10" height="3" class="key answered"/><text x="14" y="23">answered</text>
<rect x="0" y="32" width="10" height="3" class="key wrong"/><text x="14" y="37">wrong answers / answers</text></g>
</svg>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2433;max-width:1000px;margin:2em auto;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #dde2ea;padding-bottom:.2em}
.muted{color:#667085}.big{font-size:1.8em;font-weight:600}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #dde2ea;border-radius:8px;padding:.7em 1em;min-width:150px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 8px;border-bottom:1px solid #eef1f5;text-align:left;vertical-align:top}
th{background:#f6f8fb;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.bad td.f1{color:#b42318;font-weight:600}code{font-size:12px;color:#475467}
svg text{font-size:11px;fill:#475467}svg .label{font-size:12px;fill:#1d2433}svg .small{font-size:10.5px}svg .strong{font-weight:600;fill:#1d2433}
svg .grid{stroke:#eef1f5}svg .axis{stroke:#98a2b3}svg .curve{fill:none;stroke:#2f6fde;stroke-width:2}
svg .answered{stroke:#98a2b3;stroke-dasharray:4 3}svg .wrong{stroke:#d92d20}svg .key{fill:#2f6fde}svg .key.answered{fill:#98a2b3}svg .key.wrong{fill:#d92d20}
svg .target{stroke:#d92d20;stroke-dasharray:5 4}svg .dot{fill:#2f6fde}svg .chosen{fill:#12b76a;stroke:#fff;stroke-width:2}svg .configured{fill:#f79009;stroke:#fff;stroke-width:2}
ul.ex{margin:.2em 0 0 1.2em;padding:0}ul.ex li{margin:.1em 0}`;

/** The whole report page. */
export function renderEvalHtml(e: BotEvaluation, generatedAt = new Date()): string {
  const rec = e.recommended;
  const cv = rec.cv;
  const adjusted =
    rec.adjusted === 'infeasible'
      ? `<p><strong>No threshold reaches ${esc(pct(e.targetWrongRate))} wrong answers</strong> on these examples; <code>auto</code> falls back to ${esc(num(rec.threshold))}. Fix the confusions below (or raise <code>nlu.targetWrongRate</code>).</p>`
      : rec.adjusted === 'no-data'
        ? `<p><strong>Too few examples to cross-validate</strong>; <code>auto</code> uses ${esc(num(rec.threshold, 2))}. Give every intent at least 2 examples (10 or more is better).</p>`
        : rec.adjusted === 'min'
        ? `<p>Cross-validation would allow ${esc(num(rec.chosen ?? NaN))}; <code>auto</code> never goes below ${esc(num(rec.threshold, 2))} (below it the matcher thinks an answer is more likely wrong than right).</p>`
        : '';
  const intentRows = e.perIntent
    .map(
      (i) => `<tr class="${i.f1 < 0.5 ? 'bad' : ''}"><td><strong>${esc(i.intent)}</strong><br><code>${esc(i.where)}</code></td><td>${esc(i.kind)}</td><td class="n">${i.examples}</td>` +
        `<td class="n">${esc(pct(i.precision, 0))}</td><td class="n">${esc(pct(i.recall, 0))}</td><td class="n f1">${esc(pct(i.f1, 0))}</td>` +
        `<td class="n">${esc(pct(i.answeredCorrect, 0))}</td><td class="n">${i.wrongAnswers}</td></tr>`,
    )
    .join('\n');
  const confRows = e.confusions
    .slice(0, 30)
    .map(
      (c) => `<tr><td><strong>${esc(c.a)}</strong> ↔ <strong>${esc(c.b)}</strong></td><td class="n">${c.count}</td><td class="n">${c.aAsB} → / ${c.bAsA} ←</td><td><ul class="ex">` +
        c.examples
          .slice(0, 5)
          .map((x) => `<li>“${esc(x.text)}” <span class="muted">(${esc(x.gold)} taken for ${esc(x.predicted)}${Number.isFinite(x.confidence) ? `, ${esc(pct(x.confidence, 0))}` : ''}) <code>${esc(x.where)}</code></span></li>`)
          .join('') +
        `</ul></td></tr>`,
    )
    .join('\n');
  const wrongAnswers = e.predictions
    .filter((p) => p.predicted !== null && p.confidence >= rec.threshold && !p.correct)
    .sort((a, b) => b.confidence - a.confidence)
    .slice(0, 40)
    .map((p) => `<tr><td>“${esc(p.text)}”<br><code>${esc(p.where || (p.outOfScope ? '(Baton out-of-scope list)' : '(built-in)'))}</code></td><td>${esc(p.gold)}</td><td>${esc(p.predicted)}</td><td class="n">${esc(pct(p.confidence, 0))}</td></tr>`)
    .join('\n');
  const curveRows = e.curve
    .filter((p) => Math.round(p.threshold * 100) % 5 === 0 || p.threshold === rec.threshold)
    .map((p) => `<tr${p.threshold === rec.threshold ? ' style="font-weight:600"' : ''}><td class="n">${esc(num(p.threshold, 3))}</td><td class="n">${esc(pct(p.answeredCorrectRate))}</td><td class="n">${esc(pct(p.wrongRate))}</td><td class="n">${esc(pct(p.answeredRate))}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>baton eval — ${esc(e.bot.name)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(e.bot.name)} <span class="muted">(${esc(e.bot.id)})</span> — intent examples</h1>
<p class="muted">${esc(e.folds)}-fold cross-validation of ${e.examples} examples (${e.intents} intents${e.outOfScopeExamples ? ` + ${e.outOfScopeExamples} generic out-of-scope examples` : ''}) with the <code>${esc(e.matcher)}</code> matcher: every example is classified by a model trained without it. Generated ${esc(generatedAt.toISOString())} by <code>baton eval</code>.</p>
<div class="cards">
<div class="card"><div class="muted">recommended threshold</div><div class="big">${esc(num(rec.threshold))}</div><div class="muted">for ≤ ${esc(pct(e.targetWrongRate, 0))} wrong answers</div></div>
<div class="card"><div class="muted">answered correctly</div><div class="big">${esc(pct(cv?.answeredCorrectRate ?? NaN))}</div><div class="muted">of in-scope examples</div></div>
<div class="card"><div class="muted">wrong answers</div><div class="big">${esc(pct(cv?.wrongRate ?? NaN))}</div><div class="muted">of answers given</div></div>
<div class="card"><div class="muted">top-1 accuracy</div><div class="big">${esc(pct(e.accuracy))}</div><div class="muted">no threshold</div></div>
${e.configured ? `<div class="card"><div class="muted">bot.yaml threshold ${esc(num(e.configured.threshold, 2))}</div><div class="big">${esc(pct(e.configured.answeredCorrectRate))}</div><div class="muted">correct, ${esc(pct(e.configured.wrongRate))} wrong</div></div>` : ''}
</div>
${adjusted}
<h2>Coverage against wrong answers</h2>
<p>Each point is a threshold: the bot answers when its confidence reaches it, and otherwise says it is not sure (with suggestions). Moving right answers more questions, and more of them wrongly. These rates come from held-out examples the author wrote, so they estimate how the bot does on <em>new phrasings</em>; the threshold is chosen on the same predictions, so they are slightly optimistic.</p>
${tradeOffChart(e)}
${thresholdChart(e)}
<h2>Intents, worst first</h2>
<p>Precision, recall and F1 of the top-1 label (no threshold). “Answered ✓” is the share of the intent's examples the bot would answer correctly at the recommended threshold (for the out-of-scope class: the share it declines); “wrong” counts wrong answers that named the intent.</p>
<table><tr><th>intent</th><th>kind</th><th>examples</th><th>precision</th><th>recall</th><th>F1</th><th>answered ✓</th><th>wrong</th></tr>
${intentRows}
</table>
<h2>Intents confused with each other</h2>
<p>Pairs whose examples were taken for one another, with the examples (most confident mistakes first). Reword or move these examples, or merge the intents if customers cannot tell them apart either.</p>
<table><tr><th>pair</th><th>mistakes</th><th>direction</th><th>examples</th></tr>
${confRows || '<tr><td colspan="4" class="muted">none</td></tr>'}
</table>
<h2>Wrong answers at the recommended threshold</h2>
<table><tr><th>example</th><th>intent</th><th>answered as</th><th>confidence</th></tr>
${wrongAnswers || '<tr><td colspan="4" class="muted">none</td></tr>'}
</table>
<h2>Thresholds</h2>
<table><tr><th>threshold</th><th>answered correctly</th><th>wrong answers</th><th>answered</th></tr>
${curveRows}
</table>
</body></html>
`;
}
