/** Normalising authored messages and the bot's default wording. */
import type { Button, MessageTemplate } from './model';
import { BATON_LANGUAGES, isLanguageMapValue, localizeText, textIn, type BatonLanguage, type LocaleContext } from './i18n';

type Text = string | Record<string, string>;
type RawButton = Text | { title: Text; payload?: string; url?: string };
type RawMessage =
  | Text
  | {
      text?: Text;
      quickReplies?: RawButton[];
      buttons?: RawButton[];
      image?: string | { url: string; alt?: Text };
      cards?: { title: Text; subtitle?: Text; image?: string; url?: string; buttons?: RawButton[] }[];
      links?: { title: Text; url: string }[];
    };

export function normalizeButton(b: RawButton): Button {
  return typeof b === 'string' ? { title: b } : { ...(b as Button) };
}

/** Build a message from its raw form, taking every customer-visible text through `text(raw, path, what)`. */
function buildMessage(m: RawMessage, path: (string | number)[], text: (raw: unknown, path: (string | number)[], what: string) => string): MessageTemplate {
  const button = (b: RawButton, p: (string | number)[]): Button => {
    if (typeof b === 'string' || isLanguageMapValue(b)) return { title: text(b, p, 'this button title') };
    const o = b as { title: Text; payload?: string; url?: string };
    return { ...o, title: text(o.title, [...p, 'title'], 'this button title') };
  };
  if (typeof m === 'string' || isLanguageMapValue(m)) return { text: text(m, path, 'this text') };
  const o = m as Exclude<RawMessage, Text>;
  const out: MessageTemplate = {};
  if (o.text !== undefined) out.text = text(o.text, [...path, 'text'], 'this text');
  if (o.quickReplies) out.quickReplies = o.quickReplies.map((b, i) => button(b, [...path, 'quickReplies', i]));
  if (o.buttons) out.buttons = o.buttons.map((b, i) => button(b, [...path, 'buttons', i]));
  if (o.image)
    out.image =
      typeof o.image === 'string'
        ? { url: o.image }
        : { url: o.image.url, ...(o.image.alt !== undefined ? { alt: text(o.image.alt, [...path, 'image', 'alt'], 'this alt text') } : {}) };
  if (o.cards)
    out.cards = o.cards.map((c, i) => {
      const p = [...path, 'cards', i];
      const card: NonNullable<MessageTemplate['cards']>[number] = { ...(c as object), title: text(c.title, [...p, 'title'], 'this card title') } as never;
      if (c.subtitle !== undefined) card.subtitle = text(c.subtitle, [...p, 'subtitle'], 'this card subtitle');
      if (c.buttons) card.buttons = c.buttons.map((b, j) => button(b, [...p, 'buttons', j]));
      else delete card.buttons;
      return card;
    });
  if (o.links) out.links = o.links.map((l, i) => ({ title: text(l.title, [...path, 'links', i, 'title'], 'this link title'), url: l.url }));
  return out;
}

/**
 * Authored message(s) → templates. With a locale context (the bot's languages), per-language texts
 * (`{ en: …, es: … }`) are resolved: the template holds the default language's texts and, when some
 * text differs by language, `translations` the others; problems (unknown languages, missing or
 * untranslated texts) are reported at `path`. Without one, texts must be plain (as before languages).
 */
export function normalizeMessages(raw: RawMessage | RawMessage[] | undefined, lc?: LocaleContext, path: (string | number)[] = []): MessageTemplate[] {
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((m, i) => {
    const p = Array.isArray(raw) ? [...path, i] : path;
    const seen = new Map<string, { text: string; local?: Record<string, string> }>();
    const base = buildMessage(m, p, (r, at, what) => {
      const t = localizeText(r, at, lc, what);
      seen.set(JSON.stringify(at), t);
      return t.text;
    });
    const languages = lc?.languages ?? [];
    const translations: Record<string, MessageTemplate> = {};
    for (const lang of languages.slice(1)) {
      if (![...seen.values()].some((t) => t.local?.[lang] !== undefined)) continue;
      translations[lang] = buildMessage(m, p, (_r, at) => textIn(seen.get(JSON.stringify(at)) ?? { text: '' }, lang));
    }
    return Object.keys(translations).length ? { ...base, translations } : base;
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
  for (const t of Object.values(m.translations ?? {})) out.push(...messageTexts(t));
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

const yesNo = (yes: string, no: string) => [{ title: yes }, { title: no }];
const resumeButtons = (c: string, r: string) => [
  { title: c, payload: RESUME_CONTINUE },
  { title: r, payload: RESUME_RESTART },
];

/**
 * Baton's default wording in every language it has one for (same keys, same buttons as
 * DEFAULT_MESSAGES). Spanish uses "tú", as most Spanish-language support chats do; French and
 * German the polite "vous" and "Sie" customers expect from a company.
 */
export const DEFAULT_MESSAGES_IN: Record<BatonLanguage, Record<string, MessageTemplate[]>> = {
  en: DEFAULT_MESSAGES,
  es: {
    welcome: [{ text: '¡Hola! Soy el asistente de {{bot.name}}. Hazme una pregunta o elige un tema más abajo.' }],
    greeting: [{ text: '¡Hola! ¿En qué puedo ayudarte hoy?' }],
    thanks: [{ text: '¡De nada! ¿Hay algo más en lo que pueda ayudarte?' }],
    goodbye: [{ text: '¡Hasta pronto! Puedes escribirnos aquí cuando quieras: esta conversación te estará esperando.' }],
    restart: [{ text: 'De acuerdo, empecemos de nuevo. ¿En qué puedo ayudarte?' }],
    cancel: [{ text: 'De acuerdo, lo he cancelado. ¿Hay algo más en lo que pueda ayudarte?' }],
    cancel_nothing: [{ text: 'No hay nada en curso que cancelar. ¿En qué puedo ayudarte?' }],
    fallback: [{ text: 'No estoy seguro de haberte entendido.' }],
    fallback_suggestions: [{ text: '¿Te refieres a alguno de estos temas?' }],
    fallback_rephrase: [{ text: '¿Podrías decirlo de otra manera? También puedes pedir hablar con una persona en cualquier momento.' }],
    disambiguation: [{ text: '¿Te refieres a alguno de estos temas?' }],
    offer_handoff: [{ text: 'Lo siento, me está costando ayudarte con esto. ¿Quieres que te ponga en contacto con una persona?', quickReplies: yesNo('Sí', 'No') }],
    handoff: [{ text: 'Te pongo en contacto con una persona de nuestro equipo. Te responderá aquí mismo; puedes irte y volver cuando quieras.' }],
    handoff_declined: [{ text: 'Sin problema. ¿En qué más puedo ayudarte?' }],
    handed_off: [{ text: 'Una persona de nuestro equipo te responderá aquí muy pronto. No hace falta que te quedes en esta página.' }],
    handoff_closed: [
      {
        text: 'Nuestro equipo no está disponible en este momento{{#if handoff.opensAt}} (volvemos: {{handoff.opensAt}}){{/if}}. Entonces alguien te responderá aquí mismo; puedes cerrar esta página y encontrarás la respuesta en esta conversación cuando vuelvas.',
      },
    ],
    handoff_offline: [
      { text: 'Ahora mismo no hay nadie de nuestro equipo disponible. Alguien te responderá aquí lo antes posible; puedes cerrar esta página y volver más tarde: la respuesta estará en esta conversación.' },
    ],
    agent_joined: [{ text: '{{agent.name}}, de nuestro equipo, se ha unido a la conversación.' }],
    transferred: [{ text: 'He pasado tu conversación a otra persona de nuestro equipo. Te responderá aquí mismo.' }],
    resolved_by_agent: [{ text: '{{agent.name}} ha marcado esta conversación como resuelta. Si necesitas algo más, escríbenos aquí.' }],
    handed_back: [{ text: 'Vuelves a estar con el asistente de {{bot.name}}. ¿En qué más puedo ayudarte?' }],
    feedback_question: [{ text: '¿Ha resuelto esto tu duda?', quickReplies: yesNo('Sí', 'No') }],
    feedback_yes: [{ text: '¡Genial, me alegro de haberte ayudado!' }],
    feedback_no: [{ text: 'Siento que no te haya servido. ¿Quieres que te ponga en contacto con una persona?', quickReplies: yesNo('Sí', 'No') }],
    action_error: [{ text: 'Lo siento, algo ha fallado por nuestra parte.' }],
    max_attempts: [{ text: 'Lo siento, sigo sin entenderlo.' }],
    resume: [{ text: 'Bien, sigamos donde lo habíamos dejado.' }],
    resume_prompt: [
      {
        text: '¡Hola de nuevo! Estábamos con «{{flow.title}}». ¿Quieres continuar o empezar de nuevo?',
        quickReplies: resumeButtons('Continuar', 'Empezar de nuevo'),
      },
    ],
  },
  fr: {
    welcome: [{ text: "Bonjour ! Je suis l'assistant de {{bot.name}}. Posez-moi une question ou choisissez un sujet ci-dessous." }],
    greeting: [{ text: "Bonjour ! Comment puis-je vous aider aujourd'hui ?" }],
    thanks: [{ text: 'Je vous en prie ! Puis-je vous aider pour autre chose ?' }],
    goodbye: [{ text: 'Au revoir ! Vous pouvez nous écrire ici à tout moment : cette conversation vous attendra.' }],
    restart: [{ text: "D'accord, reprenons depuis le début. Que puis-je faire pour vous ?" }],
    cancel: [{ text: "D'accord, j'ai tout arrêté. Puis-je vous aider pour autre chose ?" }],
    cancel_nothing: [{ text: "Il n'y a rien en cours à annuler. Que puis-je faire pour vous ?" }],
    fallback: [{ text: "Je ne suis pas sûr d'avoir bien compris." }],
    fallback_suggestions: [{ text: "Vouliez-vous parler de l'un de ces sujets ?" }],
    fallback_rephrase: [{ text: "Pourriez-vous le formuler autrement ? Vous pouvez aussi demander à parler à un conseiller à tout moment." }],
    disambiguation: [{ text: "Vouliez-vous parler de l'un de ces sujets ?" }],
    offer_handoff: [{ text: "Je suis désolé, j'ai du mal à vous aider sur ce point. Voulez-vous que je vous mette en relation avec un conseiller ?", quickReplies: yesNo('Oui', 'Non') }],
    handoff: [{ text: 'Je vous mets en relation avec un conseiller de notre équipe. Il vous répondra ici même ; vous pouvez partir et revenir à tout moment.' }],
    handoff_declined: [{ text: "Pas de problème. Que puis-je faire d'autre pour vous ?" }],
    handed_off: [{ text: "Un conseiller de notre équipe va vous répondre ici très bientôt. Inutile de rester sur cette page." }],
    handoff_closed: [
      {
        text: "Notre équipe est absente pour le moment{{#if handoff.opensAt}} (retour : {{handoff.opensAt}}){{/if}}. Un conseiller vous répondra alors ici même ; vous pouvez fermer cette page, vous retrouverez la réponse dans cette conversation à votre retour.",
      },
    ],
    handoff_offline: [
      { text: "Aucun conseiller n'est disponible pour le moment. Quelqu'un vous répondra ici dès que possible ; vous pouvez fermer cette page et revenir plus tard : la réponse sera dans cette conversation." },
    ],
    agent_joined: [{ text: '{{agent.name}}, de notre équipe, a rejoint la conversation.' }],
    transferred: [{ text: "J'ai transmis votre conversation à un autre membre de notre équipe. Il vous répondra ici même." }],
    resolved_by_agent: [{ text: "{{agent.name}} a indiqué que votre demande était résolue. Pour toute autre question, écrivez-nous simplement ici." }],
    handed_back: [{ text: "Vous êtes de nouveau avec l'assistant de {{bot.name}}. Que puis-je faire d'autre pour vous ?" }],
    feedback_question: [{ text: 'Cela répond-il à votre question ?', quickReplies: yesNo('Oui', 'Non') }],
    feedback_yes: [{ text: "Parfait, ravi d'avoir pu vous aider !" }],
    feedback_no: [{ text: "Désolé que cela ne vous ait pas aidé. Voulez-vous que je vous mette en relation avec un conseiller ?", quickReplies: yesNo('Oui', 'Non') }],
    action_error: [{ text: 'Désolé, un problème est survenu de notre côté.' }],
    max_attempts: [{ text: 'Désolé, je ne comprends toujours pas.' }],
    resume: [{ text: 'Bien, reprenons là où nous en étions.' }],
    resume_prompt: [
      {
        text: 'Rebonjour ! Nous en étions à « {{flow.title}} ». Voulez-vous continuer ou recommencer ?',
        quickReplies: resumeButtons('Continuer', 'Recommencer'),
      },
    ],
  },
  de: {
    welcome: [{ text: 'Hallo! Ich bin der Assistent von {{bot.name}}. Stellen Sie mir eine Frage oder wählen Sie unten ein Thema.' }],
    greeting: [{ text: 'Hallo! Wie kann ich Ihnen heute helfen?' }],
    thanks: [{ text: 'Gern geschehen! Kann ich Ihnen sonst noch helfen?' }],
    goodbye: [{ text: 'Auf Wiedersehen! Sie können uns hier jederzeit schreiben – dieser Chat bleibt für Sie offen.' }],
    restart: [{ text: 'Gut, fangen wir von vorne an. Wobei kann ich Ihnen helfen?' }],
    cancel: [{ text: 'In Ordnung, ich habe das abgebrochen. Kann ich Ihnen sonst noch helfen?' }],
    cancel_nothing: [{ text: 'Gerade läuft nichts, was ich abbrechen könnte. Wobei kann ich Ihnen helfen?' }],
    fallback: [{ text: 'Ich bin mir nicht sicher, ob ich Sie richtig verstanden habe.' }],
    fallback_suggestions: [{ text: 'Meinten Sie eines dieser Themen?' }],
    fallback_rephrase: [{ text: 'Könnten Sie das anders formulieren? Sie können auch jederzeit nach einem Mitarbeiter fragen.' }],
    disambiguation: [{ text: 'Meinten Sie eines dieser Themen?' }],
    offer_handoff: [{ text: 'Das tut mir leid, dabei kann ich Ihnen leider nicht weiterhelfen. Soll ich Sie mit einem Mitarbeiter verbinden?', quickReplies: yesNo('Ja', 'Nein') }],
    handoff: [{ text: 'Ich verbinde Sie mit einem Mitarbeiter aus unserem Team. Die Antwort erhalten Sie direkt hier – Sie können den Chat jederzeit verlassen und später zurückkommen.' }],
    handoff_declined: [{ text: 'Kein Problem. Wobei kann ich Ihnen sonst helfen?' }],
    handed_off: [{ text: 'Ein Mitarbeiter aus unserem Team antwortet Ihnen hier in Kürze. Sie müssen nicht auf dieser Seite bleiben.' }],
    handoff_closed: [
      {
        text: 'Unser Team ist gerade nicht erreichbar{{#if handoff.opensAt}} (wieder da: {{handoff.opensAt}}){{/if}}. Dann antwortet Ihnen jemand direkt hier; Sie können diese Seite schließen und finden die Antwort in diesem Chat, wenn Sie zurückkommen.',
      },
    ],
    handoff_offline: [
      { text: 'Gerade ist niemand aus unserem Team erreichbar. Wir antworten Ihnen hier so bald wie möglich; Sie können diese Seite schließen und später zurückkommen – die Antwort finden Sie in diesem Chat.' },
    ],
    agent_joined: [{ text: '{{agent.name}} aus unserem Team ist jetzt im Chat.' }],
    transferred: [{ text: 'Ich habe Ihr Anliegen an einen Kollegen aus unserem Team weitergegeben. Die Antwort erhalten Sie direkt hier.' }],
    resolved_by_agent: [{ text: '{{agent.name}} hat Ihr Anliegen als erledigt markiert. Wenn Sie noch etwas brauchen, schreiben Sie einfach hier.' }],
    handed_back: [{ text: 'Sie sind wieder beim Assistenten von {{bot.name}}. Wobei kann ich Ihnen sonst helfen?' }],
    feedback_question: [{ text: 'Hat das Ihre Frage beantwortet?', quickReplies: yesNo('Ja', 'Nein') }],
    feedback_yes: [{ text: 'Prima, freut mich, dass ich helfen konnte!' }],
    feedback_no: [{ text: 'Schade, dass das nicht geholfen hat. Soll ich Sie mit einem Mitarbeiter verbinden?', quickReplies: yesNo('Ja', 'Nein') }],
    action_error: [{ text: 'Entschuldigung, bei uns ist etwas schiefgelaufen.' }],
    max_attempts: [{ text: 'Entschuldigung, das verstehe ich leider immer noch nicht.' }],
    resume: [{ text: 'Gut, machen wir dort weiter, wo wir stehen geblieben waren.' }],
    resume_prompt: [
      {
        text: 'Willkommen zurück! Wir waren gerade bei „{{flow.title}}“. Möchten Sie weitermachen oder neu beginnen?',
        quickReplies: resumeButtons('Weitermachen', 'Neu beginnen'),
      },
    ],
  },
};

/** The default wording of a language (English for languages Baton has none for). */
export function defaultMessagesIn(language: string): Record<string, MessageTemplate[]> {
  return (BATON_LANGUAGES as readonly string[]).includes(language) ? DEFAULT_MESSAGES_IN[language as BatonLanguage] : DEFAULT_MESSAGES;
}

/**
 * Baton's default wording for a bot's languages: each message in the default language, with the
 * other languages as `translations` (so an English-only bot gets exactly DEFAULT_MESSAGES).
 */
export function defaultMessagesFor(languages: readonly string[]): Record<string, MessageTemplate[]> {
  const [first = 'en', ...rest] = languages;
  const out: Record<string, MessageTemplate[]> = {};
  for (const key of MESSAGE_KEYS) {
    const base = defaultMessagesIn(first)[key] ?? DEFAULT_MESSAGES[key];
    out[key] = base.map((t, i) => {
      const translations: Record<string, MessageTemplate> = {};
      for (const l of rest) {
        const tr = defaultMessagesIn(l)[key]?.[i];
        if (tr && tr !== t) translations[l] = tr;
      }
      return Object.keys(translations).length ? { ...t, translations } : t;
    });
  }
  return out;
}


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
