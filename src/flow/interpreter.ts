/**
 * The flow interpreter: a pure function `(bot, state, input, ctx) -> { state, events, effects }`.
 *
 * It never reads the clock, the database or the network: time and ids come in through
 * `ctx`, the NLU classification comes in with the input, and everything it wants done
 * (send a message, call an action, hand off) goes out as effects. The caller commits the
 * events and new state first, then performs the effects.
 */
import type { Bot, Flow, IntentTarget, MessageTemplate, SlotDef, Step } from './model';
import type { AgentRef, ChannelRoute, ConversationState, Frame, Pending } from './state';
import type { JsonObject, JsonValue } from '../util/json';
import { renderTemplate, renderUrl } from './templates';
import { evaluate } from './expressions';
import { extractSlotValue } from './slot-types';
import { DEFAULT_MESSAGES, RESUME_CONTINUE, RESUME_RESTART } from './messages';
import { uiWords } from './i18n';
import { decideLanguage, LANGUAGE_RULES, type LanguageGuess, type LanguageState } from '../nlu/language';

// ---------------------------------------------------------------- inputs and outputs

export interface IntentCandidate {
  intent: string;
  score: number;
}
/** What NLU said about a message (the edge computes it; the interpreter only reads it). */
export interface Understanding {
  intents: IntentCandidate[];
  sentiment?: { score: number; vote: string };
  /** Entities found in the message (number, email, phone, date, the bot's enums and patterns). */
  entities?: { entity: string; value: JsonValue; text: string }[];
  /**
   * Bots with several languages: the detector's guess and the intents in every language. The
   * interpreter decides the conversation's language (keeping it unless the message is confidently
   * another) and uses that language's intents; `intents` above are the default language's.
   */
  languages?: { guess: LanguageGuess; intents: Record<string, IntentCandidate[]> };
}

/** What an agent did (the agent API and console send these through the conversation service). */
export type AgentAction = 'join' | 'message' | 'note' | 'transfer' | 'resolve' | 'handback';
export interface AgentInput {
  type: 'agent';
  action: AgentAction;
  agent: AgentRef;
  /** message / note: the text. */
  text?: string;
  /** message / note: the id to give it (default: a new id). */
  messageId?: string;
  /** message: the id the console sent it with (idempotency). */
  clientMessageId?: string;
  /** transfer: to this queue (the conversation waits there) … */
  queue?: string;
  /** … or to this agent. */
  to?: AgentRef;
  /** handback: the flow the bot starts (default `handoff.afterFlow`; null: none). */
  flow?: string | null;
}

export type Input =
  | { type: 'start' }
  | AgentInput
  | { type: 'message'; text: string; payload?: string; nlu: Understanding | null; /** The channel it came through (updates `state.route`). */ route?: ChannelRoute }
  | { type: 'action_result'; requestId: string; ok: true; value: JsonValue }
  | { type: 'action_result'; requestId: string; ok: false; error: string; code?: string };

/** Whether a queue can answer now (computed at the edge from opening hours and agents' presence). */
export interface QueueAvailability {
  /** Inside the queue's opening hours. */
  open: boolean;
  /** Agents online with this queue's skill. */
  agentsOnline: number;
  /** When the queue opens next, for people (e.g. "Monday at 8:00 AM EST"); null when open or unknown. */
  opensAt: string | null;
}

export interface Context {
  /** ISO time of this turn. */
  now: string;
  /** Availability of a queue; absent: unknown (the plain `handoff` message is said). */
  availability?: (queue: string) => QueueAvailability | undefined;
  /** 'YYYY-MM-DD' in the bot's time zone, for relative dates. */
  today: string;
  newId: () => string;
  conversationId: string;
}

export interface OutButton {
  title: string;
  payload?: string;
  url?: string;
}
export interface OutMessage {
  id: string;
  text?: string;
  quickReplies?: OutButton[];
  buttons?: OutButton[];
  image?: { url: string; alt?: string };
  cards?: { title: string; subtitle?: string; image?: string; url?: string; buttons?: OutButton[] }[];
  links?: { title: string; url: string }[];
  /** Set on knowledge answers: the article the answer comes from. */
  citation?: { articleId: string; title: string; url?: string };
  /** Set on messages an agent wrote (channels show the name; the customer API shows only the name). */
  agent?: AgentRef;
}

export type Effect =
  | { type: 'send'; message: OutMessage }
  | { type: 'call_action'; requestId: string; action: string; args: JsonObject; timeoutMs: number }
  | { type: 'handoff'; reason: string; queue: string; priority: number };

export interface BotEvent {
  type: string;
  data: JsonObject;
}

export interface TurnResult {
  state: ConversationState;
  events: BotEvent[];
  effects: Effect[];
}

/** Raised when a flow runs too many steps in one turn (a loop without a customer turn). */
export class RunawayFlowError extends Error {
  readonly code = 'runaway_flow';
  readonly retryable = false;
  constructor(readonly flowId: string, readonly steps: number) {
    super(`flow "${flowId}" ran ${steps} steps without waiting for the customer; it probably loops through goto/if without a collect step`);
    this.name = 'RunawayFlowError';
  }
}

export const MAX_STEPS_PER_TURN = 200;

// ---------------------------------------------------------------- the turn

class Turn {
  readonly events: BotEvent[] = [];
  readonly effects: Effect[] = [];
  steps = 0;
  /** The flow and step the customer was in when the turn started (handoff context when the flow ended before the handoff). */
  where: { flow: string | null; step: string | null } = { flow: null, step: null };
  constructor(readonly bot: Bot, readonly s: ConversationState, readonly ctx: Context) {}

  event(type: string, data: JsonObject = {}) {
    this.events.push({ type, data });
  }

  /** The conversation's language: its state's, else the bot's default. */
  lang(): string {
    const l = this.s.language;
    return l && (l === this.bot.language || this.bot.languages?.includes(l)) ? l : this.bot.language;
  }

  /** The language whose model understood this turn's message (usually the conversation's; see chooseLanguage). */
  nluLanguage?: string;

  /** The NLU numbers of the language whose model understood the message (each language has its own model and thresholds). */
  nlu(): Bot['config']['nlu'] {
    const own = this.bot.config.nlu.languages?.[this.nluLanguage ?? this.lang()];
    return own ? { ...this.bot.config.nlu, ...own } : this.bot.config.nlu;
  }

  /** The human title of an intent in the conversation's language. */
  title(intent: string): string {
    return this.bot.localTitles?.[this.lang()]?.[intent] ?? this.bot.titles[intent] ?? intent;
  }

  /**
   * Bots with several languages: decide the conversation's language for this message (see
   * decideLanguage) and return the understanding in it.
   */
  chooseLanguage(nlu: Understanding | null): Understanding | null {
    const ml = nlu?.languages;
    if (!nlu || !ml) return nlu;
    const current: LanguageState = { language: this.lang(), source: this.s.languageSource ?? 'default', ...(this.s.languageVote ? { vote: this.s.languageVote } : {}) };
    const understood: Record<string, { confidence: number; confident: boolean }> = {};
    for (const [l, intents] of Object.entries(ml.intents)) {
      const top = intents.find((c) => this.bot.intents[c.intent]);
      const threshold = this.bot.config.nlu.languages?.[l]?.threshold ?? this.bot.config.nlu.threshold;
      understood[l] = { confidence: top?.score ?? 0, confident: !!top && top.score >= threshold };
    }
    const d = decideLanguage(current, { guess: ml.guess, understood });
    this.s.language = d.state.language;
    this.s.languageSource = d.state.source;
    if (d.state.vote) this.s.languageVote = d.state.vote;
    else delete this.s.languageVote;
    if (d.switched)
      this.event('language_switched', { from: d.switched.from, to: d.switched.to, reason: d.switched.reason, scores: ml.guess.scores as unknown as JsonValue[] });
    // Not understood in the conversation's language but confidently in the language the message
    // looks like ("gracias" in a French conversation, one word short of a switch): route it by
    // that language's model this once; the bot still answers in the conversation's language.
    let by = this.lang();
    const [top, ...rest] = ml.guess.scores;
    const lead = top ? top.score - (rest.find((x) => x.language === by)?.score ?? 0) : 0;
    if (top && top.language !== by && ml.guess.letters >= LANGUAGE_RULES.minLetters && lead > 0 && !understood[by]?.confident && understood[top.language]?.confident) by = top.language;
    this.nluLanguage = by;
    return { ...nlu, intents: ml.intents[by] ?? nlu.intents };
  }

  templateData(extra: Record<string, unknown> = {}) {
    return {
      slots: this.s.slots,
      vars: this.s.vars,
      profile: this.s.profile,
      bot: { id: this.bot.id, name: this.bot.name },
      conversation: { id: this.ctx.conversationId, channel: this.s.channel },
      ...extra,
    };
  }

  render(template: MessageTemplate, extra?: Record<string, unknown>): OutMessage {
    const lang = this.lang();
    const t = template.translations?.[lang] ?? template;
    const data = this.templateData(extra);
    const multilingual = (this.bot.languages?.length ?? 1) > 1 || lang !== 'en';
    const r = (x: string) => renderTemplate(x, data, multilingual ? lang : undefined);
    const u = (x: string) => renderUrl(x, data);
    const button = (b: OutButton): OutButton => ({ ...b, title: r(b.title), ...(b.url !== undefined ? { url: u(b.url) } : {}) });
    const out: OutMessage = { id: this.ctx.newId() };
    if (t.text !== undefined) out.text = r(t.text);
    if (t.quickReplies) out.quickReplies = t.quickReplies.map(button);
    if (t.buttons) out.buttons = t.buttons.map(button);
    if (t.image) out.image = { ...t.image, url: u(t.image.url), ...(t.image.alt !== undefined ? { alt: r(t.image.alt) } : {}) };
    if (t.cards)
      out.cards = t.cards.map((c) => ({
        ...c,
        title: r(c.title),
        subtitle: c.subtitle !== undefined ? r(c.subtitle) : undefined,
        image: c.image !== undefined ? u(c.image) : undefined,
        url: c.url !== undefined ? u(c.url) : undefined,
        buttons: c.buttons?.map(button),
      }));
    if (t.links) out.links = t.links.map((l) => ({ title: r(l.title), url: u(l.url) }));
    return out;
  }

  send(message: OutMessage, notice?: string) {
    this.effects.push({ type: 'send', message });
    this.event('bot_message', { message: message as unknown as JsonObject, ...(notice ? { notice } : {}) });
  }

  /** A bot message that reports what happened (an agent joined, …): agents see it as a system line. */
  notice(key: string, extra?: Record<string, unknown>) {
    for (const t of this.bot.messages[key] ?? DEFAULT_MESSAGES[key] ?? []) this.send(this.render(t, extra), key);
  }

  say(templates: MessageTemplate[] | undefined, extra?: Record<string, unknown>) {
    for (const t of templates ?? []) this.send(this.render(t, extra));
  }

  sayKey(key: string, extra?: Record<string, unknown>) {
    this.say(this.bot.messages[key], extra);
  }

  // ------------------------------------------------------------ understanding

  /** Resolve a message to an intent: payloads and keywords first (certain), then NLU. */
  understand(text: string, payload: string | undefined, nlu: Understanding | null): { intent: string | null; confidence: number; via: string; candidates: IntentCandidate[] } {
    const known = (nlu?.intents ?? []).filter((c) => this.bot.intents[c.intent]);
    if (payload) {
      if (this.bot.payloads[payload]) return { intent: this.bot.payloads[payload], confidence: 1, via: 'payload', candidates: known };
      if (payload.startsWith('intent:') && this.bot.intents[payload.slice(7)]) return { intent: payload.slice(7), confidence: 1, via: 'payload', candidates: known };
    }
    const norm = ` ${text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim()} `;
    for (const [kw, intent] of [...Object.entries(this.bot.keywords), ...Object.entries(this.bot.localKeywords?.[this.lang()] ?? {})]) {
      const k = kw.replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
      if (k && norm.includes(` ${k} `)) return { intent, confidence: 1, via: 'keyword', candidates: known };
    }
    const top = known[0];
    return { intent: top?.intent ?? null, confidence: top?.score ?? 0, via: 'nlu', candidates: known };
  }

  // ------------------------------------------------------------ flows

  handedOff(): boolean {
    return this.s.status === 'handed_off';
  }

  top(): Frame | undefined {
    return this.s.stack[this.s.stack.length - 1];
  }

  flowOf(f: Frame): Flow {
    return this.bot.flows[f.flowId];
  }

  slotOf(f: Frame, name: string): SlotDef | undefined {
    return this.flowOf(f)?.slots[name];
  }

  setPc(f: Frame, pc: number) {
    const flow = this.flowOf(f);
    f.pc = pc;
    f.stepId = flow.steps[pc]?.id ?? '$return';
    f.waiting = null;
    f.attempts = 0;
    delete f.requestId;
  }

  /**
   * Continue at `target`. Jumping back (a `goto`, a step-id `then:`/`else:`/`onError:`/`onMaxAttempts:`
   * pointing at an earlier step) runs that part of the flow again, so its questions (and those of
   * the sub-flows it calls) are asked again: otherwise they would be skipped as already answered
   * and the loop would never wait for the customer, although the validator accepts it because
   * it contains a question.
   */
  jumpTo(f: Frame, target: number) {
    if (target <= f.pc) {
      const seen = new Set<string>();
      const forget = (steps: Step[], from: number, to: number) => {
        for (let i = Math.max(0, from); i <= to && i < steps.length; i++) {
          const st = steps[i];
          if (st.kind === 'collect') delete this.s.slots[st.slot];
          else if (st.kind === 'flow' && this.bot.flows[st.flow] && !seen.has(st.flow)) {
            seen.add(st.flow);
            forget(this.bot.flows[st.flow].steps, 0, Infinity);
          }
        }
      };
      forget(this.flowOf(f).steps, target, f.pc);
    }
    this.setPc(f, target);
  }

  startFlow(flowId: string, kind: Frame['kind'], via: string, triggerText?: string) {
    const flow = this.bot.flows[flowId];
    // A flow starts with its questions unanswered. A sub-flow keeps the answers to questions its
    // callers also ask (e.g. the order number), so they are not asked twice.
    if (kind === 'digression') {
      const below = this.top();
      if (below && !below.saved) below.saved = { slots: structuredClone(this.s.slots), vars: structuredClone(this.s.vars) };
    }
    const shared = kind === 'sub' ? new Set(this.s.stack.flatMap((fr) => Object.keys(this.bot.flows[fr.flowId]?.slots ?? {}))) : new Set<string>();
    for (const name of Object.keys(flow.slots)) if (!shared.has(name)) delete this.s.slots[name];
    const frame: Frame = { flowId, pc: 0, stepId: flow.steps[0].id, kind, waiting: null, attempts: 0 };
    this.s.stack.push(frame);
    this.event('flow_started', { flow: flowId, via, kind });
    if (triggerText) {
      // One piece of the message fills at most one slot ("I'm 30" is an age, not also a budget).
      const used = new Set<string>();
      for (const slot of Object.values(flow.slots)) {
        if (!slot.fromTrigger) continue;
        const r = extractSlotValue(slot, triggerText, { mode: 'scan', today: this.ctx.today });
        if (r.ok && !used.has(r.matched)) {
          used.add(r.matched);
          this.s.slots[slot.name] = r.value;
          this.event('slot_filled', { flow: flowId, slot: slot.name, value: r.value, source: 'trigger' });
        }
      }
    }
    this.run();
  }

  /** Pop the top frame with an outcome; returns the popped frame. */
  finishFrame(outcome: string): Frame | undefined {
    const f = this.s.stack.pop();
    if (f) this.event('flow_ended', { flow: f.flowId, outcome });
    return f;
  }

  /** Called after a digression finished: re-ask the interrupted question. */
  resumeInterrupted() {
    const f = this.top();
    if (!f) return;
    this.restoreScope(f);
    this.event('flow_resumed', { flow: f.flowId, step: f.stepId });
    if (f.waiting === 'collect') {
      this.sayKey('resume', { flow: { title: this.flowOf(f).title } });
      this.ask(f, false);
    } else this.run();
  }

  /**
   * After a digression, the interrupted flows get back the values of their own slots and
   * variables (the digression may have used the same names); other values it set are kept.
   */
  restoreScope(f: Frame) {
    const saved = f.saved;
    if (!saved) return;
    delete f.saved;
    for (const fr of this.s.stack) {
      const flow = this.bot.flows[fr.flowId];
      if (!flow) continue;
      for (const name of Object.keys(flow.slots)) {
        if (name in saved.slots) this.s.slots[name] = saved.slots[name];
        else delete this.s.slots[name];
      }
      for (const name of flowVars(flow)) {
        if (name in saved.vars) this.s.vars[name] = saved.vars[name];
        else delete this.s.vars[name];
      }
    }
  }

  ask(f: Frame, reprompt: boolean) {
    const step = this.flowOf(f).steps[f.pc] as Extract<Step, { kind: 'collect' }>;
    const slot = this.slotOf(f, step.slot)!;
    const tpl = reprompt ? step.reprompt ?? slot.reprompt ?? step.prompt ?? slot.prompt : step.prompt ?? slot.prompt;
    this.say(withChoices(slot, tpl, this.lang()));
  }

  /** Advance the top frame until it waits for the customer or an action, or the stack empties. */
  run() {
    for (;;) {
      const f = this.top();
      if (!f || f.waiting) return;
      if (++this.steps > MAX_STEPS_PER_TURN) throw new RunawayFlowError(f.flowId, this.steps - 1);
      const flow = this.flowOf(f);
      const step = flow.steps[f.pc];
      if (!step) {
        this.setPc(f, flow.steps.length - 1);
        continue;
      }
      switch (step.kind) {
        case 'say':
          this.say(step.messages);
          this.setPc(f, f.pc + 1);
          break;
        case 'collect': {
          const v = this.s.slots[step.slot];
          if (v !== undefined && v !== null) {
            this.setPc(f, f.pc + 1);
            break;
          }
          f.waiting = 'collect';
          f.attempts = 0;
          this.ask(f, false);
          return;
        }
        case 'branch': {
          const v = evaluate(step.cond, this.templateData());
          this.setPc(f, truthy(v) ? f.pc + 1 : step.whenFalse);
          break;
        }
        case 'jump':
          this.jumpTo(f, step.target);
          break;
        case 'set':
          for (const a of step.assignments) {
            const value = a.expr ? evaluate(a.expr, this.templateData()) : (a.literal ?? null);
            this.s.vars[a.name] = value;
            this.event('var_set', { name: a.name, value });
          }
          this.setPc(f, f.pc + 1);
          break;
        case 'call': {
          const args: JsonObject = {};
          for (const a of step.args) args[a.name] = a.expr ? evaluate(a.expr, this.templateData()) : (a.literal ?? null);
          const requestId = this.ctx.newId();
          f.waiting = 'action';
          f.requestId = requestId;
          this.effects.push({ type: 'call_action', requestId, action: step.action, args, timeoutMs: step.timeoutMs });
          this.event('action_requested', { action: step.action, requestId, args, flow: flow.id });
          return;
        }
        case 'flow':
          this.setPc(f, f.pc + 1);
          this.startFlow(step.flow, 'sub', 'subflow');
          return;
        case 'handoff':
          this.handoff(step.reason, step.queue, step.messages, { priority: step.priority, fromStep: true });
          return;
        case 'record': {
          const data: JsonObject = {};
          for (const a of step.data) data[a.name] = a.expr ? evaluate(a.expr, this.templateData()) : (a.literal ?? null);
          this.event(step.event, { ...data, flow: flow.id });
          this.setPc(f, f.pc + 1);
          break;
        }
        case 'end':
          this.endFlow(step.outcome);
          break;
        case 'return': {
          const done = this.finishFrame(this.s.stack.length > 0 && f.kind === 'sub' ? 'returned' : 'completed');
          if (done?.kind === 'digression') return this.resumeInterrupted();
          break; // a sub-flow returns: the caller continues
        }
      }
    }
  }

  /** `end`: finish the current flow and the flows that called it as sub-flows. */
  endFlow(outcome: string) {
    for (;;) {
      const f = this.finishFrame(outcome);
      if (!f) return;
      if (f.kind === 'digression') return this.resumeInterrupted();
      if (f.kind === 'main') {
        // The customer's request is settled when the flow they started ends `resolved` and
        // nothing else is in progress (a digression that ends resolved leaves its flow open).
        if (outcome === 'resolved' && !this.s.stack.length) this.resolve();
        return;
      }
    }
  }

  abandonAll(outcome: string) {
    while (this.s.stack.length) this.finishFrame(outcome);
  }

  /** The `handoff.triggers` entry that applies to a handoff for `reason` (a step's own reason: `flowStep`). */
  triggerOf(reason: string, fromStep: boolean): { queue?: string; priority?: number; action?: 'offer' | 'handoff' } | undefined {
    const triggers = (this.bot.config.handoff.triggers ?? {}) as Record<string, { queue?: string; priority?: number; action?: 'offer' | 'handoff' } | undefined>;
    const name = TRIGGER_OF_REASON[reason] ?? (fromStep ? 'flowStep' : undefined);
    return name ? triggers[name] : undefined;
  }

  handoff(reason: string, queue: string | undefined, messages?: MessageTemplate[], opts: { priority?: number; fromStep?: boolean } = {}) {
    const cfg = this.bot.config.handoff;
    const trigger = this.triggerOf(reason, opts.fromStep ?? false);
    const q = queue ?? trigger?.queue ?? cfg.queue;
    const priority = opts.priority ?? trigger?.priority ?? cfg.queues?.[q]?.priority ?? 0;
    const entry = this.entryFrame();
    const flow = entry?.flowId ?? this.where.flow;
    const step = this.top()?.stepId ?? this.where.step;
    const avail = this.ctx.availability?.(q);
    const answering = !avail || (avail.open && avail.agentsOnline > 0);
    if (messages) this.say(messages);
    else if (answering) this.sayKey('handoff');
    // Nobody can answer now: say when to expect a reply, and that the customer can leave.
    if (avail && !avail.open) this.sayKey('handoff_closed', { handoff: { queue: q, opensAt: avail.opensAt } });
    else if (avail && avail.agentsOnline === 0) this.sayKey('handoff_offline', { handoff: { queue: q, opensAt: null } });
    this.abandonAll('handed_off');
    this.s.pending = null;
    this.s.status = 'handed_off';
    delete this.s.resolvedAt;
    this.s.handoff = { reason, queue: q, at: this.ctx.now, acknowledged: false, priority, flow, step, agent: null };
    this.s.fallbacks = 0;
    this.s.lowConfidence = 0;
    this.s.negative = 0;
    this.effects.push({ type: 'handoff', reason, queue: q, priority });
    this.event('handoff', { reason, queue: q, priority, flow, step, ...(avail ? { open: avail.open, agentsOnline: avail.agentsOnline } : {}) });
  }

  /** A trigger fired: offer a person or hand off at once, as bot.yaml `handoff.triggers` says (default: offer). */
  escalate(reason: string) {
    if (this.triggerOf(reason, false)?.action === 'handoff') return this.handoff(reason, undefined);
    this.offerHandoff(reason);
  }

  offerHandoff(reason: string) {
    this.sayKey('offer_handoff');
    this.s.pending = { kind: 'handoff_offer', reason };
    this.event('handoff_offered', { reason });
  }

  // ------------------------------------------------------------ dispatch

  answerArticle(articleId: string, confidence: number, asDigression: boolean) {
    const base = this.bot.articles[articleId];
    const tr = base.translations?.[this.lang()];
    const a = { id: base.id, title: tr?.title ?? base.title, body: tr?.body ?? base.body, link: tr?.link ?? base.link, askFeedback: base.askFeedback };
    const msg = this.render({ text: a.body, links: a.link ? [{ title: a.title, url: a.link }] : undefined }, { article: { id: a.id, title: a.title } });
    msg.citation = { articleId: a.id, title: a.title, ...(a.link ? { url: a.link } : {}) };
    this.send(msg);
    this.event('knowledge_answer', { article: a.id, confidence });
    if (!asDigression && a.askFeedback) {
      this.sayKey('feedback_question');
      this.s.pending = { kind: 'feedback', articleId: a.id };
    }
  }

  dispatch(intent: string, confidence: number, via: string, text: string, asDigression: boolean) {
    const target = this.bot.intents[intent] as IntentTarget;
    this.s.fallbacks = 0;
    this.s.lastIntent = { intent, confidence };
    this.event('routed', { intent, confidence, via, digression: asDigression });
    let t: IntentTarget = target;
    if (t.kind === 'flow' && intent.startsWith('builtin.') && this.s.stack.some((fr) => fr.flowId === (target as { flowId: string }).flowId)) {
      // Asking for a person inside the "talk to a person" flow: do it now, do not start the flow again.
      t = { kind: 'builtin', name: intent.slice('builtin.'.length) as never };
      asDigression = false;
    }
    switch (t.kind) {
      case 'flow':
        if (!asDigression) this.abandonAll('abandoned');
        return this.startFlow(t.flowId, asDigression ? 'digression' : 'main', via, text);
      case 'article':
        return this.answerArticle(t.articleId, confidence, asDigression);
      case 'builtin':
        switch (t.name) {
          case 'greeting':
          case 'thanks':
          case 'goodbye':
            this.sayKey(t.name);
            if (asDigression) this.resumeInterrupted();
            return;
          case 'human':
            return this.handoff('customer_request', undefined);
          case 'restart':
            return this.restart();
          case 'cancel':
            if (!this.s.stack.length) return this.sayKey('cancel_nothing');
            this.abandonAll('cancelled');
            return this.sayKey('cancel');
        }
    }
  }

  fallback(text: string, u: { confidence: number; candidates: IntentCandidate[] }) {
    this.s.fallbacks += 1;
    this.event('fallback', { text, confidence: u.confidence, count: this.s.fallbacks });
    const after = this.bot.config.handoff.triggers?.fallbacks?.after ?? this.bot.config.fallback.offerHandoffAfter;
    if (this.s.fallbacks >= after) return this.escalate('repeated_fallback');
    this.sayKey('fallback');
    const { suggestions, suggestionThreshold } = this.nlu();
    const options = uniqueTargets(this.bot, u.candidates)
      .filter((c) => c.score >= suggestionThreshold && !c.intent.startsWith('builtin.'))
      .slice(0, suggestions)
      .map((c) => ({ title: this.title(c.intent), intent: c.intent }));
    if (options.length) {
      this.send({ ...this.render(this.bot.messages.fallback_suggestions[0] ?? {}), quickReplies: [...options.map((o) => ({ title: o.title, payload: `intent:${o.intent}` })), { title: uiWords(this.lang()).talkToPerson, payload: 'intent:builtin.human' }] });
      this.s.pending = { kind: 'choose', options, text };
    } else this.sayKey('fallback_rephrase');
  }

  /** Route a message that is not an answer to a pending question. */
  route(text: string, payload: string | undefined, nlu: Understanding | null) {
    const u = this.understand(text, payload, nlu);
    const { threshold, ambiguityMargin, suggestionThreshold } = this.nlu();
    const low = this.bot.config.handoff.triggers?.lowConfidence;
    if (low && nlu && u.via === 'nlu') {
      // Repeated low confidence: the bot keeps guessing (or not understanding) — a person will do better.
      this.s.lowConfidence = u.confidence < low.below ? (this.s.lowConfidence ?? 0) + 1 : 0;
      if (this.s.lowConfidence >= low.after) {
        this.event('low_confidence', { confidence: u.confidence, count: this.s.lowConfidence });
        this.s.lowConfidence = 0;
        this.s.fallbacks = 0;
        return this.escalate('low_confidence');
      }
    }
    if (u.intent && u.via === 'nlu') {
      // "Did you mean A or B?": the best intents are too close to tell apart, but together they
      // are likely enough (confidences are shares of one whole, so two close intents rarely
      // both pass the threshold on their own).
      const close = uniqueTargets(this.bot, u.candidates)
        .filter((c) => c.score >= suggestionThreshold && u.confidence - c.score < ambiguityMargin - 1e-9)
        .slice(0, 3);
      const together = close.reduce((sum, c) => sum + c.score, 0);
      if (close.length >= 2 && together >= threshold) {
        const opts = close.map((c) => ({ title: this.title(c.intent), intent: c.intent }));
        this.event('disambiguation', { options: opts.map((o) => o.intent), scores: close.map((o) => o.score) });
        this.send({ ...this.render(this.bot.messages.disambiguation[0] ?? {}), quickReplies: opts.map((o) => ({ title: o.title, payload: `intent:${o.intent}` })) });
        this.s.pending = { kind: 'choose', options: opts, text };
        return;
      }
    }
    if (!u.intent || u.confidence < threshold) return this.fallback(text, u);
    this.dispatch(u.intent, u.confidence, u.via, text, false);
  }

  /** A pending question asked outside a flow. Returns true if the message answered it. */
  answerPending(p: Pending, text: string, payload: string | undefined): boolean {
    this.s.pending = null;
    switch (p.kind) {
      case 'handoff_offer': {
        const yn = extractSlotValue({ type: 'yes_no' }, payload ?? text, { mode: 'answer', today: this.ctx.today, language: this.lang() });
        if (!yn.ok) return false;
        if (yn.value === true) this.handoff(p.reason, undefined);
        else {
          this.event('handoff_declined', { reason: p.reason });
          this.s.fallbacks = 0;
          this.sayKey('handoff_declined');
        }
        return true;
      }
      case 'feedback': {
        const yn = extractSlotValue({ type: 'yes_no' }, payload ?? text, { mode: 'answer', today: this.ctx.today, language: this.lang() });
        if (!yn.ok) return false;
        this.event('feedback', { article: p.articleId, helpful: yn.value === true });
        if (yn.value === true) {
          this.sayKey('feedback_yes');
          // The customer confirmed the answer settled their question. Only a confirmation counts:
          // an answer alone (or with `askFeedback: false`) does not resolve the conversation.
          if (!this.s.stack.length) this.resolve();
        } else {
          this.sayKey('feedback_no');
          this.s.pending = { kind: 'handoff_offer', reason: 'answer_not_helpful' };
        }
        return true;
      }
      case 'choose': {
        const t = (payload ?? text).trim().toLowerCase();
        const n = /^\d+$/.test(t) ? Number(t) : NaN;
        const chosen =
          p.options.find((o) => `intent:${o.intent}` === payload) ??
          p.options.find((o) => o.title.toLowerCase() === t) ??
          (Number.isInteger(n) && n >= 1 && n <= p.options.length ? p.options[n - 1] : undefined);
        if (!chosen) return false;
        this.event('option_chosen', { intent: chosen.intent });
        // "2" picks the second option; it is not an answer to the chosen flow's questions,
        // but the message that led to the choice may be ("where is AB-123456" → "1").
        this.dispatch(chosen.intent, 1, 'choice', p.text ?? '', false);
        return true;
      }
      case 'resume':
        return this.answerResume(p, text, payload);
    }
  }

  /** The customer answered (or did not answer) the question of a collect step. */
  handleCollect(f: Frame, text: string, payload: string | undefined, nlu: Understanding | null) {
    const flow = this.flowOf(f);
    const step = flow.steps[f.pc] as Extract<Step, { kind: 'collect' }>;
    const slot = this.slotOf(f, step.slot)!;
    const u = this.understand(text, payload, nlu);
    const { threshold, digressionThreshold } = this.nlu();
    const r = extractSlotValue(slot, payload ?? text, { mode: 'answer', today: this.ctx.today, language: this.lang() });
    // "cancel", "start over", "talk to a person" work in the middle of any question. A valid
    // answer wins over them ("yes, cancel it" answers "Shall I cancel the order?"), except when
    // they come from a button or keyword, or when any text is a valid answer (free-text
    // questions), where only a very confident match counts.
    const control = u.intent && CONTROL_INTENTS.includes(u.intent);
    const controlWins =
      u.via !== 'nlu' ||
      (slot.type === 'text' ? u.confidence >= digressionThreshold : !r.ok && u.confidence >= threshold);
    if (control && controlWins) {
      const t = this.bot.intents[u.intent!];
      return this.dispatch(u.intent!, u.confidence, u.via, text, t.kind === 'flow');
    }
    if (r.ok) {
      this.s.slots[slot.name] = r.value;
      this.event('slot_filled', { flow: flow.id, slot: slot.name, value: r.value, source: 'answer' });
      this.setPc(f, f.pc + 1);
      return this.run();
    }
    const other = u.intent && u.intent !== flow.intent ? this.bot.intents[u.intent] : undefined;
    const confident = u.via !== 'nlu' || u.confidence >= digressionThreshold;
    if (step.digressions && other && confident && !(other.kind === 'flow' && this.s.stack.some((fr) => fr.flowId === other.flowId))) {
      this.event('digression', { from: flow.id, to: u.intent, confidence: u.confidence });
      this.dispatch(u.intent!, u.confidence, u.via, text, true);
      if (other.kind === 'article') this.resumeInterrupted();
      return;
    }
    f.attempts += 1;
    this.event('slot_rejected', { flow: flow.id, slot: slot.name, reason: r.reason, attempts: f.attempts });
    if (f.attempts >= slot.maxAttempts) {
      this.sayKey('max_attempts');
      if (slot.onMaxAttempts !== undefined) {
        this.jumpTo(f, flow.stepIndex[slot.onMaxAttempts]);
        return this.run();
      }
      this.endFlow('unresolved');
      return this.escalate('max_attempts');
    }
    this.ask(f, true);
  }

  // ------------------------------------------------------------ the conversation's life

  /**
   * Mark the conversation resolved (only an active one: a handed-off conversation is the agent's
   * to resolve). No event of its own: the log already says why — `flow_ended` with outcome
   * `resolved`, or `feedback` with `helpful: true` — and the state has `status`/`resolvedAt`.
   */
  resolve() {
    if (this.s.status !== 'active') return;
    this.s.status = 'resolved';
    this.s.resolvedAt = this.ctx.now;
  }

  /** A customer message reopens a resolved conversation; the message is then handled as usual. */
  reopen() {
    const resolvedAt = this.s.resolvedAt ?? null;
    this.s.status = 'active';
    delete this.s.resolvedAt;
    this.event('conversation_reopened', { by: 'customer', resolvedAt });
  }

  /**
   * "Thanks" or "bye" after the request was settled closes the exchange rather than reopening
   * it: the bot answers it (the built-in thanks/goodbye) and the conversation stays resolved,
   * so a polite customer does not count as a reopened conversation (nor, later, land back in
   * an agent's queue).
   */
  courtesy(text: string, payload: string | undefined, nlu: Understanding | null): boolean {
    const u = this.understand(text, payload, nlu);
    if (u.intent !== 'builtin.thanks' && u.intent !== 'builtin.goodbye') return false;
    return this.bot.intents[u.intent]?.kind === 'builtin' && (u.via !== 'nlu' || u.confidence >= this.nlu().threshold);
  }

  /** Start over: stop every flow (outcome `abandoned`) and forget what they collected. */
  restart() {
    this.abandonAll('abandoned');
    this.s.slots = {};
    this.s.vars = {};
    this.s.pending = null;
    this.event('restarted');
    this.sayKey('restart');
  }

  /** The flow the customer asked for that the current question belongs to: the top frame's nearest non-sub-flow. */
  entryFrame(): Frame | undefined {
    for (let i = this.s.stack.length - 1; i >= 0; i--) if (this.s.stack[i].kind !== 'sub') return this.s.stack[i];
    return this.s.stack[0];
  }

  /**
   * The customer comes back to an open question after more than `conversation.resumeAfter`
   * without writing. Someone returning hours or days later may have forgotten the question —
   * or may be writing about something else — so the message is not simply taken as the answer:
   *
   * 1. **Cancel / start over / talk to a person** (button, keyword, or typed with `nlu.threshold`
   *    confidence) happens at once, as mid-question — except that a typed one never loses to
   *    a valid answer of a typed question ("yes, cancel it").
   * 2. **A clear new request** — another flow or a knowledge article, by button, keyword or with
   *    `nlu.threshold` confidence (`nlu.digressionThreshold` when the message is also a valid
   *    answer) — wins over the old question: the customer knows what they want now.
   *    - another flow: the old flows are abandoned (outcome `abandoned`) and the new one starts.
   *      Coming back to a days-old question after finishing it would surprise the customer.
   *    - an article: it is answered (no "Did that help?"), then the bot asks whether to
   *      continue the old flow or start over, so the open flow is never left dangling.
   *    Asking again for a flow that is already open (e.g. "I want to return something" in the
   *    middle of the return) is not new: it is handled like rule 3 or 4.
   * 3. **A valid answer** to the question (e.g. the order number they were asked for) is accepted
   *    and the flow goes on. Free-text (`text`) questions accept anything, so there a message
   *    proves nothing and rule 4 applies.
   * 4. **Anything else** (hello, an unclear message, an invalid answer): "Welcome back! We were in
   *    the middle of …. Continue or start over?" (`resume_prompt`). The message is not used;
   *    Continue re-asks the question, Start over abandons the flows.
   */
  returning(f: Frame, text: string, payload: string | undefined, nlu: Understanding | null, idleMs: number) {
    const flow = this.flowOf(f);
    const step = flow.steps[f.pc] as Extract<Step, { kind: 'collect' }>;
    const slot = this.slotOf(f, step.slot)!;
    const u = this.understand(text, payload, nlu);
    const { threshold, digressionThreshold } = this.nlu();
    const r = extractSlotValue(slot, payload ?? text, { mode: 'answer', today: this.ctx.today, language: this.lang() });
    const answered = r.ok && slot.type !== 'text';
    const certain = u.via !== 'nlu';
    const target = u.intent ? this.bot.intents[u.intent] : undefined;
    const entry = this.entryFrame() ?? f;
    const skipped = (reason: string) =>
      this.event('resume_skipped', { flow: entry.flowId, step: f.stepId, reason, intent: u.intent, idleSeconds: Math.round(idleMs / 1000) });

    if (u.intent && target && CONTROL_INTENTS.includes(u.intent) && (certain || (!answered && u.confidence >= threshold))) {
      skipped('control');
      return this.dispatch(u.intent, u.confidence, u.via, text, target.kind === 'flow');
    }
    const open = target?.kind === 'flow' && this.s.stack.some((fr) => fr.flowId === target.flowId);
    const isNew = !!u.intent && !u.intent.startsWith('builtin.') && !!target && target.kind !== 'builtin' && !open;
    if (isNew && (certain || u.confidence >= (answered ? digressionThreshold : threshold))) {
      if (target.kind === 'article') {
        this.event('digression', { from: flow.id, to: u.intent!, confidence: u.confidence });
        this.dispatch(u.intent!, u.confidence, u.via, text, true);
        return this.offerResume(f, idleMs);
      }
      skipped('new_request');
      return this.dispatch(u.intent!, u.confidence, u.via, text, false);
    }
    if (answered) {
      skipped('answer');
      return this.handleCollect(f, text, payload, nlu);
    }
    this.offerResume(f, idleMs);
  }

  /** Ask "continue or start over?" about the flow waiting at `f`. The first two buttons of `resume_prompt` are Continue and Start over. */
  offerResume(f: Frame, idleMs: number) {
    const entry = this.entryFrame() ?? f;
    const extra = { flow: { title: this.flowOf(entry).title } };
    const tpl = this.bot.messages.resume_prompt?.length ? this.bot.messages.resume_prompt : DEFAULT_MESSAGES.resume_prompt;
    const out = tpl.map((t) => this.render(t, extra));
    const last = out[out.length - 1];
    const where = !last.quickReplies?.length && last.buttons?.length ? 'buttons' : 'quickReplies';
    const words = uiWords(this.lang());
    const defaults = [{ title: words.continue }, { title: words.startOver }];
    const buttons: OutButton[] = [...(last[where] ?? [])];
    for (let i = buttons.length; i < 2; i++) buttons.push({ title: defaults[i].title });
    buttons[0] = { title: buttons[0].title, payload: RESUME_CONTINUE };
    buttons[1] = { title: buttons[1].title, payload: RESUME_RESTART };
    last[where] = buttons;
    for (const m of out) this.send(m);
    this.s.pending = { kind: 'resume', flowId: entry.flowId, titles: { continue: buttons[0].title, restart: buttons[1].title } };
    this.event('resume_offered', { flow: entry.flowId, step: f.stepId, idleSeconds: Math.round(idleMs / 1000) });
  }

  /** The reply to "continue or start over?". Returns false (the question is dropped) when the message is neither. */
  answerResume(p: Extract<Pending, { kind: 'resume' }>, text: string, payload: string | undefined): boolean {
    const norm = (x: string) => x.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
    let choice: 'continue' | 'start_over' | undefined;
    if (payload === RESUME_CONTINUE) choice = 'continue';
    else if (payload === RESUME_RESTART) choice = 'start_over';
    else if (!payload) {
      const t = norm(text);
      if (t === norm(p.titles.continue) || t === '1') choice = 'continue';
      else if (t === norm(p.titles.restart) || t === '2') choice = 'start_over';
      else {
        // "yes" = continue; "no" (don't continue) = start over.
        const yn = extractSlotValue({ type: 'yes_no' }, text, { mode: 'answer', today: this.ctx.today, language: this.lang() });
        if (yn.ok) choice = yn.value === true ? 'continue' : 'start_over';
      }
    }
    if (!choice) return false;
    this.event('resume_answered', { flow: p.flowId, choice });
    const f = this.top();
    if (choice === 'continue' && f?.waiting === 'collect') {
      this.sayKey('resume', { flow: { title: this.flowOf(this.entryFrame() ?? f).title } });
      this.ask(f, false);
      return true;
    }
    // Start over — or there is nothing left to continue (the flow was dropped since).
    this.restart();
    return true;
  }

  actionResult(input: Extract<Input, { type: 'action_result' }>) {
    const f = this.top();
    if (!f || f.waiting !== 'action' || f.requestId !== input.requestId) {
      this.event('action_result_ignored', { requestId: input.requestId });
      return;
    }
    const step = this.flowOf(f).steps[f.pc] as Extract<Step, { kind: 'call' }>;
    if (input.ok) {
      if (step.result) {
        this.s.vars[step.result] = input.value;
        this.event('var_set', { name: step.result, value: input.value });
      }
      this.event('action_succeeded', { action: step.action, requestId: input.requestId });
      this.setPc(f, f.pc + 1);
      return this.run();
    }
    this.actionFailed(f, step, input.error, input.code);
  }

  actionFailed(f: Frame, step: Extract<Step, { kind: 'call' }>, error: string, code?: string) {
    this.event('action_failed', { action: step.action, requestId: f.requestId ?? null, error, code: code ?? 'error' });
    if (step.onError >= 0) {
      this.jumpTo(f, step.onError);
      return this.run();
    }
    this.sayKey('action_error');
    this.endFlow('error');
    this.escalate('action_failed');
  }

  message(text: string, payload: string | undefined, nluIn: Understanding | null, route?: ChannelRoute) {
    this.s.turns += 1;
    const nlu = this.chooseLanguage(nluIn);
    const data: JsonObject = payload ? { text, payload } : { text };
    if (route) data.channel = route.channel;
    this.event('customer_message', data);
    if (route) {
      this.s.route = route;
      this.s.channel = route.channel;
    }
    const top = nlu?.intents?.[0];
    if (nlu && (top || nlu.entities?.length))
      this.event('nlu', {
        intent: top?.intent ?? null,
        confidence: top?.score ?? 0,
        candidates: nlu.intents.slice(0, 3) as unknown as JsonValue[],
        entities: (nlu.entities ?? []) as unknown as JsonValue[],
        ...(nlu.sentiment ? { sentiment: nlu.sentiment as unknown as JsonValue } : {}),
        ...(nlu.languages ? { language: this.lang() } : {}),
      });
    const previous = this.s.lastCustomerAt;
    this.s.lastCustomerAt = this.ctx.now;
    const idleMs = previous ? Date.parse(this.ctx.now) - Date.parse(previous) : NaN;
    const resumeAfter = this.bot.config.conversation?.resumeAfterMs ?? null;
    /** The customer comes back after a long time (unknown for states written before `lastCustomerAt` existed: then no). */
    const away = resumeAfter !== null && Number.isFinite(idleMs) && idleMs > resumeAfter;
    if (this.s.status === 'resolved' && !this.courtesy(text, payload, nlu)) this.reopen();
    if (this.s.status === 'handed_off') {
      // A person has the conversation (on every channel: the status belongs to the conversation).
      // The bot says once that someone will answer — unless an agent already joined — then keeps quiet.
      if (this.s.handoff && !this.s.handoff.acknowledged && !this.s.handoff.agent) {
        this.s.handoff.acknowledged = true;
        this.sayKey('handed_off');
      }
      return;
    }
    const neg = this.bot.config.handoff.triggers?.negativeSentiment;
    if (neg && nlu?.sentiment) {
      this.s.negative = nlu.sentiment.score <= neg.below ? (this.s.negative ?? 0) + 1 : 0;
      if (this.s.negative >= neg.after) {
        this.event('negative_sentiment', { score: nlu.sentiment.score, count: this.s.negative });
        this.s.negative = 0;
        this.s.pending = null;
        return this.escalate('negative_sentiment');
      }
    }
    const f = this.top();
    if (f?.waiting === 'action') {
      // An action result never arrived (the process stopped mid-turn): treat it as failed.
      this.actionFailed(f, this.flowOf(f).steps[f.pc] as Extract<Step, { kind: 'call' }>, 'interrupted before the action answered', 'interrupted');
      // The message was written before the bot handed off, offered a person or asked its next
      // question in this turn, so it is not a reply to any of those.
      if (this.s.pending || this.top()?.waiting || this.handedOff()) return;
    }
    // Misunderstandings "in a row" do not span a long absence.
    if (away) this.s.fallbacks = 0;
    // A pending question answered after a long absence still counts (the customer scrolled back
    // and pressed a button or answered it); anything else drops it, as always.
    if (this.s.pending) {
      const p = this.s.pending;
      if (this.answerPending(p, text, payload)) return;
    }
    const cur = this.top();
    if (cur?.waiting === 'collect') return away ? this.returning(cur, text, payload, nlu, idleMs) : this.handleCollect(cur, text, payload, nlu);
    this.route(text, payload, nlu);
  }

  /** What an agent did. Actions that need the conversation to be with a person are ignored otherwise (`agent_action_ignored`). */
  agentInput(i: AgentInput) {
    const a: AgentRef = { id: i.agent.id, name: i.agent.name };
    const h = this.s.handoff;
    if (i.action === 'note') {
      // Notes are for agents only: never a message, never shown to the customer.
      this.event('agent_note', { id: i.messageId ?? this.ctx.newId(), text: i.text ?? '', agent: a as unknown as JsonObject });
      return;
    }
    if (this.s.status !== 'handed_off' || !h) {
      this.event('agent_action_ignored', { action: i.action, agent: a as unknown as JsonObject, reason: 'not_handed_off' });
      return;
    }
    const join = (who: AgentRef) => {
      h.agent = who;
      this.event('agent_joined', { agent: who as unknown as JsonObject });
      this.notice('agent_joined', { agent: who });
    };
    switch (i.action) {
      case 'join':
        if (h.agent?.id !== a.id) join(a);
        return;
      case 'message': {
        if (h.agent?.id !== a.id) join(a);
        const message: OutMessage = { id: i.messageId ?? this.ctx.newId(), text: i.text ?? '', agent: a };
        this.effects.push({ type: 'send', message });
        this.event('agent_message', {
          message: { id: message.id, text: message.text ?? '' },
          agent: a as unknown as JsonObject,
          ...(i.clientMessageId ? { clientMessageId: i.clientMessageId } : {}),
        });
        return;
      }
      case 'transfer': {
        const from = h.agent ?? null;
        if (i.to) {
          this.event('transferred', { by: a as unknown as JsonObject, from: from as unknown as JsonValue, to: { agent: i.to as unknown as JsonObject } });
          if (from?.id !== i.to.id) join({ id: i.to.id, name: i.to.name });
        } else {
          const queue = i.queue ?? h.queue;
          this.event('transferred', { by: a as unknown as JsonObject, from: from as unknown as JsonValue, to: { queue } });
          h.queue = queue;
          h.agent = null;
          this.sayKey('transferred', { agent: a });
        }
        return;
      }
      case 'resolve':
        this.s.status = 'resolved';
        this.s.resolvedAt = this.ctx.now;
        this.s.handoff = null;
        this.s.pending = null;
        this.event('conversation_resolved', { by: a as unknown as JsonObject });
        this.notice('resolved_by_agent', { agent: a });
        return;
      case 'handback': {
        const flow = i.flow === undefined ? (this.bot.config.handoff.afterFlow ?? null) : i.flow;
        this.s.status = 'active';
        this.s.handoff = null;
        this.s.pending = null;
        this.s.fallbacks = 0;
        this.s.lowConfidence = 0;
        this.s.negative = 0;
        this.event('handed_back', { by: a as unknown as JsonObject, flow: flow && this.bot.flows[flow] ? flow : null });
        if (flow && this.bot.flows[flow]) this.startFlow(flow, 'main', 'handback');
        else this.notice('handed_back');
        return;
      }
    }
  }

  start() {
    this.event('conversation_started', { channel: this.s.channel, ...(this.s.language ? { language: this.s.language } : {}) });
    this.sayKey('welcome');
    if (this.bot.welcomeFlow) this.startFlow(this.bot.welcomeFlow, 'main', 'welcome');
  }
}

/** The `handoff.triggers` entry behind each handoff reason. */
const TRIGGER_OF_REASON: Record<string, string> = {
  customer_request: 'customerRequest',
  repeated_fallback: 'fallbacks',
  low_confidence: 'lowConfidence',
  negative_sentiment: 'negativeSentiment',
  max_attempts: 'maxAttempts',
  action_failed: 'actionFailure',
};

/** Intents that stop or redirect whatever is in progress, even in the middle of a question. */
const CONTROL_INTENTS = ['builtin.cancel', 'builtin.restart', 'builtin.human'];

/** Variables a flow assigns (set steps and action results). */
function flowVars(flow: Flow): string[] {
  const out: string[] = [];
  for (const s of flow.steps) {
    if (s.kind === 'set') out.push(...s.assignments.map((a) => a.name));
    if (s.kind === 'call' && s.result) out.push(s.result);
  }
  return out;
}

/** Offer a choice slot's options (or Yes/No) as quick replies when the prompt offers none. */
function withChoices(slot: SlotDef, tpl: MessageTemplate[], lang: string): MessageTemplate[] {
  const shown = tpl.map((m) => m.translations?.[lang] ?? m);
  if (!tpl.length || shown.some((m) => m.quickReplies?.length || m.buttons?.length)) return tpl;
  let quickReplies: MessageTemplate['quickReplies'];
  if (slot.type === 'choice') quickReplies = slot.options.map((o) => ({ title: o.titles?.[lang] ?? o.title ?? o.value }));
  else if (slot.type === 'yes_no') quickReplies = [{ title: uiWords(lang).yes }, { title: uiWords(lang).no }];
  if (!quickReplies) return tpl;
  const last = shown[shown.length - 1];
  // Rendered in `lang` already: the last message, in that language, with the buttons.
  const { translations: _t, ...plain } = last;
  return [...tpl.slice(0, -1), { ...plain, quickReplies }];
}

function truthy(v: JsonValue): boolean {
  return !(v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0));
}

/** Candidates with at most one entry per target, best first. */
function uniqueTargets(bot: Bot, c: IntentCandidate[]): IntentCandidate[] {
  const seen = new Set<string>();
  return c.filter((x) => {
    if (!bot.intents[x.intent] || seen.has(x.intent)) return false;
    seen.add(x.intent);
    return true;
  });
}

/** Drop frames whose flow or step no longer exists (the bot's files changed since). */
function reconcile(bot: Bot, s: ConversationState, t: Turn) {
  s.stack = s.stack.filter((f) => {
    const flow = bot.flows[f.flowId];
    if (!flow) {
      t.event('flow_dropped', { flow: f.flowId, reason: 'flow no longer exists' });
      return false;
    }
    if (flow.steps[f.pc]?.id !== f.stepId) {
      const idx = flow.stepIndex[f.stepId];
      if (idx === undefined) {
        t.event('flow_dropped', { flow: f.flowId, reason: `step ${f.stepId} no longer exists` });
        return false;
      }
      f.pc = idx;
    }
    // Step ids derived from positions ("steps[1]") can name a different kind of step after an edit.
    const kind = flow.steps[f.pc].kind;
    if ((f.waiting === 'collect' && kind !== 'collect') || (f.waiting === 'action' && kind !== 'call')) {
      t.event('flow_dropped', { flow: f.flowId, reason: `step ${f.stepId} is no longer a ${f.waiting === 'collect' ? 'question' : 'call'}` });
      return false;
    }
    return true;
  });
}

export function interpret(bot: Bot, state: ConversationState, input: Input, ctx: Context): TurnResult {
  const s = JSON.parse(JSON.stringify(state)) as ConversationState;
  const t = new Turn(bot, s, ctx);
  reconcile(bot, s, t);
  const entry = t.entryFrame();
  t.where = { flow: entry?.flowId ?? null, step: t.top()?.stepId ?? null };
  try {
    if (input.type === 'start') t.start();
    else if (input.type === 'message') t.message(input.text, input.payload, input.nlu, input.route);
    else if (input.type === 'agent') t.agentInput(input);
    else t.actionResult(input);
  } catch (e) {
    if (!(e instanceof RunawayFlowError)) throw e;
    // Drop what the looping flow said this turn (up to MAX_STEPS_PER_TURN messages): the customer gets one apology.
    t.effects.splice(0, t.effects.length, ...t.effects.filter((x) => x.type !== 'send'));
    t.events.splice(0, t.events.length, ...t.events.filter((x) => x.type !== 'bot_message'));
    t.event('flow_error', { flow: e.flowId, code: e.code, message: e.message });
    t.abandonAll('error');
    t.sayKey('action_error');
    t.offerHandoff('flow_error');
  }
  return { state: s, events: t.events, effects: t.effects };
}
