import type { TrainingCorpus } from '../../../src/nlu/port';

/** A small support corpus: 4 intents × 8 examples, plus out-of-scope examples. */
export const SMALL_CORPUS: TrainingCorpus = {
  language: 'en',
  intents: [
    {
      intent: 'order.track',
      examples: [
        'where is my order',
        'track my package',
        'has my order shipped yet',
        'when will my parcel arrive',
        'my delivery is late',
        'what is the status of my order',
        'I still have not received my order',
        'is my package on its way',
      ],
    },
    {
      intent: 'order.refund',
      examples: [
        'I want a refund',
        'give me my money back',
        'how do I get reimbursed',
        'refund my purchase please',
        'can I return this for a refund',
        'how long does a refund take',
        'request a refund for my order',
        'when will I see the refund on my card',
      ],
    },
    {
      intent: 'account.password',
      examples: [
        'I forgot my password',
        'reset my password',
        'cant log in to my account',
        'how do I change my password',
        'password reset link not working',
        'locked out of my account',
        'I need a new password',
        'login says wrong password',
      ],
    },
    {
      intent: 'store.hours',
      examples: [
        'what time do you open',
        'when does the store close',
        'opening hours',
        'are you open on sunday',
        'what are your hours',
        'is the shop open today',
        'when do you close tonight',
        'business hours please',
      ],
    },
    {
      intent: 'oos',
      examples: [
        'what is the weather like',
        'tell me a joke',
        'who won the football game',
        'how tall is mount everest',
        'play some music',
        'what is the capital of france',
        'recommend a good movie',
        'how do I bake bread',
      ],
    },
  ],
};
