import type { TrainingIntent } from './port';

/**
 * Intents every bot understands without declaring them. A bot's own corpus is trained together
 * with these (see {@link builtinIntentsFor}); flows decide what to do when one of them wins.
 *
 * Names are stable API: `builtin.greeting`, `builtin.thanks`, `builtin.goodbye`, `builtin.human`,
 * `builtin.restart`, `builtin.cancel`.
 *
 * The examples deliberately include casual phrasing, missing apostrophes and common typos, because
 * that is what people type on messaging channels. No example appears in two intents.
 */
export const BUILTIN_INTENTS: Record<'en', TrainingIntent[]> = {
  en: [
    {
      intent: 'builtin.greeting',
      examples: [
        'hello',
        'hi',
        'hey there',
        'hiya',
        'good morning',
        'good afternoon',
        'good evening',
        'hello, is anyone there?',
        'hi, I need some help',
        'hey, can you help me',
        'helo',
        'heya!',
        'greetings',
        'yo',
        'howdy',
        'hi there, how are you?',
        'morning!',
      ],
    },
    {
      intent: 'builtin.thanks',
      examples: [
        'thanks',
        'thank you',
        'thank you so much',
        'thanks a lot',
        'many thanks',
        'thx',
        'ty',
        'cheers',
        'thanks, that helped',
        'great, thanks for your help',
        'much appreciated',
        'I appreciate it',
        'thnaks',
        'thank u',
        'perfect, thank you!',
        'awesome thanks',
        'that was really helpful, thanks',
      ],
    },
    {
      intent: 'builtin.goodbye',
      examples: [
        'bye',
        'goodbye',
        'bye bye',
        'see you',
        'see ya later',
        'talk to you later',
        'have a nice day',
        'have a good one',
        'that is all for today, bye',
        "that's everything, goodbye",
        'gotta go',
        'cya',
        'good night',
        'take care',
        'catch you later',
        'byee',
        "I'm done here, bye",
      ],
    },
    {
      intent: 'builtin.human',
      examples: [
        'I want to talk to a human',
        'can I speak to a person',
        'let me talk to someone',
        'connect me to an agent',
        'I need a real person',
        'transfer me to a representative',
        'get me a human',
        'this bot is useless, get me a human',
        'talk to someone please',
        'is there a human I can chat with',
        'I want to speak with customer service',
        'put me through to a live agent',
        'operator',
        'speak to a real human being',
        'can i talk to an actual person pls',
        'humna please',
        'I dont want to talk to a bot',
        'can a member of staff help me',
        'call me, I want a person',
      ],
    },
    {
      intent: 'builtin.restart',
      examples: [
        'start over',
        "let's begin again",
        'reset',
        'restart',
        'start again',
        'can we start from the beginning',
        'begin from scratch',
        'go back to the start',
        "let's start fresh",
        'reset the conversation',
        'start all over again',
        'restart the chat',
        'from the top please',
        'strat over',
        'i want to start again from the beginning',
        'main menu',
        'take me back to the beginning',
      ],
    },
    {
      intent: 'builtin.cancel',
      examples: [
        'cancel',
        'never mind',
        'stop this',
        'forget it',
        'nevermind',
        'cancel that',
        'no, stop',
        "I don't want to do this anymore",
        "let's not do that",
        'abort',
        'forget about it',
        'stop asking me questions',
        'quit this',
        'nvm',
        'cancle',
        'drop it',
        'actually, never mind',
        "I've changed my mind",
      ],
    },
  ],
};

/** Built-in intents for a language; an empty array (never an exception) when there are none for it. */
export function builtinIntentsFor(language: string): TrainingIntent[] {
  const key = (typeof language === 'string' ? language : '').trim().toLowerCase().split(/[-_]/)[0] ?? '';
  if (!Object.prototype.hasOwnProperty.call(BUILTIN_INTENTS, key)) return [];
  const intents = BUILTIN_INTENTS[key as keyof typeof BUILTIN_INTENTS];
  // Hand out copies: callers may append their own examples.
  return intents.map((i) => ({ intent: i.intent, examples: [...i.examples] }));
}
