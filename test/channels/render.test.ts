/** Rendering channel-neutral messages for what a channel can show: degradation, never loss. */
import { CHOICES_ONLY_TEXT, numberReply, pickNumbered, renderForChannel, splitText } from '../../src/channels/render';
import type { ChannelCapabilities } from '../../src/channels/port';

const SMS: ChannelCapabilities = { maxTextLength: 1600, maxChoices: 0, maxChoiceTitle: 0, urlButtons: false, images: false, cards: false, markdown: false, typing: false };
const WHATSAPP: ChannelCapabilities = { maxTextLength: 4096, maxChoices: 10, maxChoiceTitle: 24, urlButtons: false, images: true, cards: false, markdown: false, typing: false };
const RICH: ChannelCapabilities = { maxTextLength: 2000, maxChoices: 13, maxChoiceTitle: 20, urlButtons: true, images: true, cards: true, markdown: false, typing: true };

test('quick replies become a numbered list on SMS, and "2" picks the second', () => {
  const r = renderForChannel({ id: 'm1', text: 'Anything else?', quickReplies: [{ title: 'Track an order', payload: 'TRACK' }, { title: 'Talk to a person', payload: 'HUMAN' }] }, SMS);
  expect(r.parts).toEqual([{ kind: 'text', text: 'Anything else?\n\n1. Track an order\n2. Talk to a person\nReply with a number to choose.' }]);
  expect(pickNumbered('2', r.numbered)).toEqual({ title: 'Talk to a person', payload: 'HUMAN' });
  expect(pickNumbered(' 1. ', r.numbered)?.payload).toBe('TRACK');
  expect(pickNumbered('3', r.numbered)).toBeNull();
  expect(pickNumbered('2 please', r.numbered)).toBeNull();
});

test('choices that fit are native and ride on the last text', () => {
  const r = renderForChannel({ id: 'm1', text: 'Pick one', quickReplies: [{ title: 'Yes' }, { title: 'No' }] }, WHATSAPP);
  expect(r.numbered).toEqual([]);
  expect(r.parts).toEqual([{ kind: 'text', text: 'Pick one', choices: [{ title: 'Yes' }, { title: 'No' }] }]);
  // Too many, or a title too long: all numbered (one numbering, not half native).
  const many = renderForChannel({ id: 'm2', text: 'Pick', quickReplies: Array.from({ length: 11 }, (_, i) => ({ title: `Option ${i + 1}` })) }, WHATSAPP);
  expect(many.numbered).toHaveLength(11);
  expect(many.parts[0]).not.toHaveProperty('choices');
  const long = renderForChannel({ id: 'm3', text: 'Pick', quickReplies: [{ title: 'A title far longer than twenty-four' }, { title: 'No' }] }, WHATSAPP);
  expect(long.numbered).toHaveLength(2);
  // Choices without text still get a body.
  expect(renderForChannel({ id: 'm4', quickReplies: [{ title: 'Yes' }] }, WHATSAPP).parts).toEqual([{ kind: 'text', text: CHOICES_ONLY_TEXT, choices: [{ title: 'Yes' }] }]);
});

test('HTML entities from templates are decoded; links, URL buttons, images and citations become lines where needed', () => {
  const m = {
    id: 'm1',
    text: 'Tom&#x27;s &amp; Jerry&#x27;s order',
    image: { url: 'https://cdn.example/p.png', alt: 'Parcel' },
    buttons: [{ title: 'Track on UPS', url: 'https://ups.example/1Z' }],
    links: [{ title: 'Returns policy', url: 'https://acme.example/returns' }],
    citation: { articleId: 'a', title: 'Shipping times', url: 'https://acme.example/shipping' },
  };
  const sms = renderForChannel(m, SMS);
  expect(sms.parts).toHaveLength(1);
  const t = (sms.parts[0] as { text: string }).text;
  expect(t).toContain("Tom's & Jerry's order");
  expect(t).toContain('Parcel: https://cdn.example/p.png');
  expect(t).toContain('Track on UPS: https://ups.example/1Z');
  expect(t).toContain('Returns policy: https://acme.example/returns');
  expect(t).toContain('Source: Shipping times — https://acme.example/shipping');
  const wa = renderForChannel(m, WHATSAPP);
  expect(wa.parts[1]).toEqual({ kind: 'image', url: 'https://cdn.example/p.png', alt: 'Parcel' });
});

test('cards are native where the channel has them, text blocks with numbered choices where not', () => {
  const m = { id: 'm1', cards: [{ title: 'Blue shirt', subtitle: '$20', image: 'https://cdn.example/s.png', buttons: [{ title: 'Buy', payload: 'BUY_1' }, { title: 'Details', url: 'https://acme.example/s' }] }] };
  const rich = renderForChannel(m, RICH);
  expect(rich.parts).toEqual([{ kind: 'card', title: 'Blue shirt', subtitle: '$20', image: 'https://cdn.example/s.png', buttons: [{ title: 'Buy', payload: 'BUY_1' }, { title: 'Details', url: 'https://acme.example/s' }] }]);
  const sms = renderForChannel(m, SMS);
  const t = (sms.parts[0] as { text: string }).text;
  expect(t).toContain('Blue shirt\n$20');
  expect(t).toContain('Details: https://acme.example/s');
  expect(t).toContain('1. Buy');
  expect(sms.numbered).toEqual([{ title: 'Buy', payload: 'BUY_1' }]);
});

test('long texts are split at paragraph, sentence or word boundaries, never losing a character', () => {
  const para = 'First paragraph. '.repeat(10).trim();
  const text = `${para}\n\n${'Second one has words. '.repeat(12).trim()}`;
  const pieces = splitText(text, 160);
  for (const p of pieces) expect([...p].length).toBeLessThanOrEqual(160);
  expect(pieces.join(' ').replace(/\s+/g, ' ')).toBe(text.replace(/\s+/g, ' '));
  expect(pieces[0].endsWith('.')).toBe(true);
  // One enormous word is cut; emoji are not split in half.
  const emoji = '😀'.repeat(25);
  const cut = splitText(emoji, 10);
  expect(cut).toEqual(['😀'.repeat(10), '😀'.repeat(10), '😀'.repeat(5)]);
  const r = renderForChannel({ id: 'm', text: 'word '.repeat(500), quickReplies: [{ title: 'OK' }] }, { ...WHATSAPP, maxTextLength: 1000 });
  expect(r.parts.length).toBe(3);
  expect(r.parts.slice(0, 2).every((p) => !('choices' in p))).toBe(true);
  expect(r.parts[2]).toHaveProperty('choices', [{ title: 'OK' }]);
});

test('numberReply reads only a bare number', () => {
  expect(numberReply('2')).toBe(2);
  expect(numberReply('#3')).toBe(3);
  expect(numberReply('4)')).toBe(4);
  expect(numberReply('AB-123456')).toBeNull();
  expect(numberReply('2 items')).toBeNull();
  expect(numberReply(undefined)).toBeNull();
});
