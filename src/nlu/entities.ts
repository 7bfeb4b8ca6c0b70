/**
 * Entities found in a message: the built-in kinds (number, email, phone, date) plus the
 * bot's own enums (choice slots) and patterns (pattern slots). They are recorded with the
 * NLU result so agents and analytics see what the customer mentioned; slots are filled
 * by the flow's own typed extraction.
 */
import type { Bot } from '../flow/model';
import { extractSlotValue, type SlotType } from '../flow/slot-types';
import type { JsonValue } from '../util/json';

export interface Entity {
  /** 'number' | 'email' | 'phone' | 'date' | 'slot:<name>' */
  entity: string;
  value: JsonValue;
  text: string;
}

const BUILTIN: { entity: string; type: SlotType }[] = [
  { entity: 'email', type: { type: 'email' } },
  { entity: 'phone', type: { type: 'phone' } },
  { entity: 'date', type: { type: 'date' } },
  { entity: 'number', type: { type: 'number' } },
];

export function entityTypesOf(bot: Bot): { entity: string; type: SlotType }[] {
  const out = [...BUILTIN];
  const seen = new Set<string>();
  for (const flow of Object.values(bot.flows))
    for (const slot of Object.values(flow.slots)) {
      if ((slot.type === 'choice' || slot.type === 'pattern') && !seen.has(slot.name)) {
        seen.add(slot.name);
        out.push({ entity: `slot:${slot.name}`, type: slot });
      }
    }
  return out;
}

export function extractEntities(types: { entity: string; type: SlotType }[], text: string, today: string): Entity[] {
  const out: Entity[] = [];
  if (!text.trim()) return out;
  for (const t of types) {
    const r = extractSlotValue(t.type, text, { mode: 'scan', today });
    if (r.ok) {
      // A phone number is also a number; an order id may contain digits: keep the more specific one.
      if (t.entity === 'number' && out.some((e) => e.text.includes(r.matched))) continue;
      out.push({ entity: t.entity, value: r.value, text: r.matched });
    }
  }
  return out;
}
