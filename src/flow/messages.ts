/** Normalising authored messages and the bot's default wording. */
import type { Button, MessageTemplate } from './model';

type RawButton = string | { title: string; payload?: string; url?: string };
type RawMessage =
  | string
  | {
      text?: string;
      quickReplies?: RawButton[];
      buttons?: RawButton[];
      image?: string | { url: string; alt?: string };
      cards?: { title: string; subtitle?: string; image?: string; url?: string; buttons?: RawButton[] }[];
      links?: { title: string; url: string }[];
    };

export function normalizeButton(b: RawButton): Button {
  return typeof b === 'string' ? { title: b } : { ...b };
}

export function normalizeMessages(raw: RawMessage | RawMessage[] | undefined): MessageTemplate[] {
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((m) => {
    if (typeof m === 'string') return { text: m };
    const out: MessageTemplate = {};
    if (m.text !== undefined) out.text = m.text;
    if (m.quickReplies) out.quickReplies = m.quickReplies.map(normalizeButton);
    if (m.buttons) out.buttons = m.buttons.map(normalizeButton);
    if (m.image) out.image = typeof m.image === 'string' ? { url: m.image } : { ...m.image };
    if (m.cards) out.cards = m.cards.map((c) => ({ ...c, buttons: c.buttons?.map(normalizeButton) }));
    if (m.links) out.links = m.links.map((l) => ({ ...l }));
    return out;
  });
}

/** Every template string inside a message (text, button titles, card texts), for static checks. */
export function messageTexts(m: MessageTemplate): string[] {
  const out: string[] = [];
  if (m.text) out.push(m.text);
  for (const b of [...(m.quickReplies ?? []), ...(m.buttons ?? [])]) out.push(b.title);
  for (const b of [...(m.quickReplies ?? []), ...(m.buttons ?? [])]) if (b.url) out.push(b.url);
  if (m.image) out.push(m.image.url, ...(m.image.alt ? [m.image.alt] : []));
  for (const l of m.links ?? []) out.push(l.title, l.url);
  for (const c of m.cards ?? []) {
    out.push(c.title);
    if (c.subtitle) out.push(c.subtitle);
    if (c.image) out.push(c.image);
    if (c.url) out.push(c.url);
    for (const b of c.buttons ?? []) out.push(b.title, ...(b.url ? [b.url] : []));
  }
  return out;
}

const YES_NO = [{ title: 'Yes' }, { title: 'No' }];

/** Payloads of the two buttons of `resume_prompt` (the interpreter sets them on its first two quick replies). */
export const RESUME_CONTINUE = 'resume:continue';
export const RESUME_RESTART = 'resume:restart';

/** The bot's own wording. Every key can be overridden in bot.yaml under `messages:`. */
export const DEFAULT_MESSAGES: Record<string, MessageTemplate[]> = {
  welcome: [{ text: "Hi! I'm the {{bot.name}} assistant. Ask me a question, or pick a topic below." }],
  greeting: [{ text: 'Hi! How can I help you today?' }],
  thanks: [{ text: "You're welcome! Is there anything else I can help with?" }],
  goodbye: [{ text: 'Goodbye! You can message us here any time — this conversation will be waiting.' }],
  restart: [{ text: "OK, let's start over. What can I help you with?" }],
  cancel: [{ text: "OK, I've stopped that. Is there anything else I can help with?" }],
  cancel_nothing: [{ text: "There's nothing in progress to cancel. What can I help you with?" }],
  fallback: [{ text: "I'm not sure I understood that." }],
  fallback_suggestions: [{ text: 'Did you mean one of these?' }],
  fallback_rephrase: [{ text: 'Could you say it another way? You can also ask for a person at any time.' }],
  disambiguation: [{ text: 'Did you mean one of these?' }],
  offer_handoff: [
    { text: "I'm sorry, I'm having trouble helping with this. Would you like me to connect you with a person?", quickReplies: YES_NO },
  ],
  handoff: [
    { text: "I'm connecting you with a person from our team. They'll reply right here — you can leave and come back at any time." },
  ],
  handoff_declined: [{ text: 'No problem. What else can I help you with?' }],
  handed_off: [{ text: "A person from our team will reply here soon. You don't need to stay on this page." }],
  handoff_closed: [
    {
      text: "Our team is away right now{{#if handoff.opensAt}} — we're back {{handoff.opensAt}}{{/if}}. Someone will reply right here then; you can close this page, and you'll find the answer in this conversation when you come back.",
    },
  ],
  handoff_offline: [
    { text: "Everyone on our team is away from their desk right now. Someone will reply right here as soon as possible; you can close this page and come back — the answer will be in this conversation." },
  ],
  agent_joined: [{ text: '{{agent.name}} from our team has joined the conversation.' }],
  transferred: [{ text: "I've passed your conversation to another member of our team. They'll reply right here." }],
  resolved_by_agent: [{ text: "{{agent.name}} marked this conversation as resolved. If there's anything else, just write here." }],
  handed_back: [{ text: "You're back with the {{bot.name}} assistant. What else can I help you with?" }],
  feedback_question: [{ text: 'Did that answer your question?', quickReplies: YES_NO }],
  feedback_yes: [{ text: 'Great, glad I could help!' }],
  feedback_no: [{ text: "Sorry that didn't help. Would you like me to connect you with a person?", quickReplies: YES_NO }],
  action_error: [{ text: 'Sorry, something went wrong on our side.' }],
  max_attempts: [{ text: "Sorry, I still couldn't understand that." }],
  resume: [{ text: "Now, back to where we were." }],
  resume_prompt: [
    {
      text: 'Welcome back! We were in the middle of “{{flow.title}}”. Would you like to continue or start over?',
      quickReplies: [
        { title: 'Continue', payload: RESUME_CONTINUE },
        { title: 'Start over', payload: RESUME_RESTART },
      ],
    },
  ],
};

export const MESSAGE_KEYS = Object.keys(DEFAULT_MESSAGES);

/** Template roots a bot message may use besides the usual ones (the interpreter passes them when it renders that message). */
export const MESSAGE_TEMPLATE_ROOTS: Record<string, string[]> = {
  handoff_closed: ['handoff'],
  handoff_offline: ['handoff'],
  agent_joined: ['agent'],
  resolved_by_agent: ['agent'],
  transferred: ['agent'],
  resume: ['flow'],
  resume_prompt: ['flow'],
};
