/**
 * Canned responses for agents: a YAML list in the bot folder (`canned.yaml`, or bot.yaml
 * `handoff.canned`), rendered with the bot's Handlebars (HTML-escaped like bot messages) over
 * `customer`, `slots` and `agent`.
 *
 *   - id: greeting
 *     title: Greeting
 *     template: "Hi {{default customer.name \"there\"}}, this is {{agent.name}} from Acme."
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { z } from 'zod';
import { renderTemplate } from '../flow/templates';

export interface CannedResponse {
  id: string;
  title: string;
  template: string;
}

const cannedFile = z.array(
  z.strictObject({
    id: z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'use letters, digits, "_", "-" or "."'),
    title: z.string().min(1),
    template: z.string().min(1),
  }),
);

/** The bot's canned responses ([] when there is no file). Throws with a clear message when the file is invalid. */
export function loadCanned(botDir: string, file?: string): CannedResponse[] {
  const p = path.resolve(botDir, file ?? 'canned.yaml');
  if (!fs.existsSync(p)) {
    if (file) throw new Error(`handoff.canned: ${p} does not exist`);
    return [];
  }
  const data = parse(fs.readFileSync(p, 'utf8')) ?? [];
  const r = cannedFile.safeParse(data);
  if (!r.success) throw new Error(`${p}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const seen = new Set<string>();
  for (const c of r.data) {
    if (seen.has(c.id)) throw new Error(`${p}: canned response id "${c.id}" is used twice`);
    seen.add(c.id);
    renderTemplate(c.template, {}); // a syntax error shows at start, not when an agent clicks
  }
  return r.data;
}

export function renderCanned(c: CannedResponse, data: { customer: Record<string, unknown>; slots: Record<string, unknown>; agent: { id: string; name: string } }): string {
  return renderTemplate(c.template, data);
}
