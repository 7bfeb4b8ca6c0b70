import {
  extractSlotValue,
  MAX_PATTERN_LENGTH,
  MAX_SLOT_INPUT_LENGTH,
  validateSlotTypeDefinition,
  type ExtractResult,
  type SlotType,
} from '../../src/flow/slot-types';

/** A Wednesday. */
const TODAY = '2026-06-10';

const answer = (slot: SlotType, text: string, today = TODAY): ExtractResult => extractSlotValue(slot, text, { mode: 'answer', today });
const scan = (slot: SlotType, text: string, today = TODAY): ExtractResult => extractSlotValue(slot, text, { mode: 'scan', today });
const value = (r: ExtractResult) => (r.ok ? r.value : `!${r.reason}`);

describe('text', () => {
  const slot: SlotType = { type: 'text' };

  test('answer returns the trimmed message', () => {
    expect(answer(slot, '  my parcel arrived damaged \n')).toEqual({ ok: true, value: 'my parcel arrived damaged', matched: 'my parcel arrived damaged' });
  });

  test('an empty or blank answer has no value', () => {
    expect(answer(slot, '')).toEqual({ ok: false, reason: 'no_value' });
    expect(answer(slot, '   \n\t')).toEqual({ ok: false, reason: 'no_value' });
  });

  test('minLength / maxLength count characters (code points) of the trimmed text', () => {
    const s: SlotType = { type: 'text', minLength: 3, maxLength: 5 };
    expect(answer(s, ' ab ')).toEqual({ ok: false, reason: 'too_short' });
    expect(value(answer(s, ' abc '))).toBe('abc');
    expect(value(answer(s, 'abcde'))).toBe('abcde');
    expect(answer(s, 'abcdef')).toEqual({ ok: false, reason: 'too_long' });
    expect(value(answer(s, '👋👋👋'))).toBe('👋👋👋'); // 3 code points, 6 UTF-16 units
  });

  test(`messages over ${MAX_SLOT_INPUT_LENGTH} characters are too long`, () => {
    expect(value(answer(slot, 'x'.repeat(MAX_SLOT_INPUT_LENGTH)))).toHaveLength(MAX_SLOT_INPUT_LENGTH);
    expect(answer(slot, 'x'.repeat(MAX_SLOT_INPUT_LENGTH + 1))).toEqual({ ok: false, reason: 'too_long' });
  });

  test('scan never fills a text slot', () => {
    expect(scan(slot, 'my parcel arrived damaged')).toEqual({ ok: false, reason: 'no_value' });
  });
});

describe('number', () => {
  const slot: SlotType = { type: 'number' };

  test.each([
    ['42', 42],
    ["it's 42", 42],
    ['about 42 please', 42],
    ['3.5', 3.5],
    ['0.25', 0.25],
    ['.5', 0.5],
    ['1,234', 1234],
    ['1,234,567.89', 1234567.89],
    ['$1,234.50', 1234.5],
    ['-2', -2],
    ['+7', 7],
    ['0', 0],
    ['#5', 5],
    ['the 3rd', 3],
    ['42.', 42],
    ['(42)', 42],
    ['zero', 0],
    ['one', 1],
    ['Twelve', 12],
    ['twenty', 20],
    ['twenty five', 25],
    ['twenty-five', 25],
    ['ninety nine', 99],
    ['hundred', 100],
    ['a hundred', 100],
    ['one hundred', 100],
    ['a hundred and five', 105],
    ['two hundred forty two', 242],
    ['minus three', -3],
    ['I think five', 5],
    ['five (5)', 5], // the same value twice is not ambiguous
    ['the one with 3', 3], // digits win over number words when answering
  ])('answer %j → %j', (text, expected) => {
    const r = answer(slot, text);
    expect(r.ok).toBe(true);
    expect(value(r)).toBe(expected);
  });

  test('matched is the number as written', () => {
    expect(answer(slot, "it's 1,234 thanks")).toEqual({ ok: true, value: 1234, matched: '1,234' });
    expect(answer(slot, 'twenty-five please')).toEqual({ ok: true, value: 25, matched: 'twenty-five' });
  });

  test.each([
    'no idea',
    '',
    '2 or 3',
    'between 5 and 10',
    'AB-123', // part of a code
    'AB123',
    '555-1234', // a phone number is not a number
    '10:30',
    '1/2',
    '3,5', // ambiguous decimal comma
    '42kg', // glued to a unit
    'someone', // "one" inside a word
    'two three',
  ])('answer %j has no value', (text) => {
    expect(answer(slot, text)).toEqual({ ok: false, reason: 'no_value' });
  });

  test('min and max', () => {
    const s: SlotType = { type: 'number', min: 1, max: 10 };
    expect(answer(s, '0')).toEqual({ ok: false, reason: 'out_of_range' });
    expect(value(answer(s, '1'))).toBe(1);
    expect(value(answer(s, '10'))).toBe(10);
    expect(answer(s, '10.5')).toEqual({ ok: false, reason: 'out_of_range' });
    expect(answer(s, 'minus two')).toEqual({ ok: false, reason: 'out_of_range' });
  });

  test('scan needs exactly one number in the whole message', () => {
    expect(scan(slot, 'I want to order 2 pizzas')).toEqual({ ok: true, value: 2, matched: '2' });
    expect(value(scan(slot, 'tickets for three people'))).toBe(3);
    expect(scan(slot, 'order 12 has 3 items')).toEqual({ ok: false, reason: 'no_value' });
    expect(scan(slot, 'one pizza with 2 toppings')).toEqual({ ok: false, reason: 'no_value' });
    expect(scan(slot, 'track my order')).toEqual({ ok: false, reason: 'no_value' });
  });

  test(`only the first ${MAX_SLOT_INPUT_LENGTH} characters are read`, () => {
    expect(answer(slot, `${'x '.repeat(MAX_SLOT_INPUT_LENGTH / 2)} 42`)).toEqual({ ok: false, reason: 'no_value' });
  });
});

describe('integer', () => {
  const slot: SlotType = { type: 'integer', min: 1, max: 100 };

  test('accepts whole numbers in digits or words', () => {
    expect(value(answer(slot, '7'))).toBe(7);
    expect(value(answer(slot, 'seven'))).toBe(7);
    expect(value(answer(slot, '7.0'))).toBe(7);
    expect(value(answer(slot, 'a hundred'))).toBe(100);
  });

  test('rejects non-integers as not_allowed', () => {
    expect(answer(slot, '3.5')).toEqual({ ok: false, reason: 'not_allowed' });
    expect(answer({ type: 'integer' }, '-0.5')).toEqual({ ok: false, reason: 'not_allowed' });
  });

  test('min and max', () => {
    expect(answer(slot, '0')).toEqual({ ok: false, reason: 'out_of_range' });
    expect(answer(slot, '101')).toEqual({ ok: false, reason: 'out_of_range' });
    expect(answer(slot, 'two hundred')).toEqual({ ok: false, reason: 'out_of_range' });
  });

  test('scan', () => {
    expect(value(scan(slot, 'I need 4 seats'))).toBe(4);
    expect(scan(slot, 'I need 4 seats for 2 nights')).toEqual({ ok: false, reason: 'no_value' });
  });
});

describe('email', () => {
  const slot: SlotType = { type: 'email' };

  test.each([
    ['a@b.co', 'a@b.co'],
    ['my email is a@b.co', 'a@b.co'],
    ["it's Jane.Doe+support@Example.CO.UK.", 'jane.doe+support@example.co.uk'],
    ['<me@site.io>', 'me@site.io'],
    ['email:first_last@mail-server.example.com thanks', 'first_last@mail-server.example.com'],
    ['x@y.com and X@Y.COM', 'x@y.com'], // same address twice
  ])('answer %j → %j', (text, expected) => {
    expect(value(answer(slot, text))).toBe(expected);
  });

  test('matched keeps the original spelling; value is lower-cased', () => {
    expect(answer(slot, 'Mail: Bob@Example.com')).toEqual({ ok: true, value: 'bob@example.com', matched: 'Bob@Example.com' });
  });

  test.each([
    'a@b',
    'no email',
    '@example.com',
    'a..b@example.com',
    '.a@example.com',
    'a@-example.com',
    'a@example.c',
    'a@b.co and c@d.co', // two different addresses
    'a@b@c.com',
  ])('answer %j has no value', (text) => {
    expect(answer(slot, text)).toEqual({ ok: false, reason: 'no_value' });
  });

  test('scan finds an email inside another request', () => {
    expect(scan(slot, 'my email is x@y.com and I forgot my password')).toEqual({ ok: true, value: 'x@y.com', matched: 'x@y.com' });
    expect(scan(slot, 'I forgot my password')).toEqual({ ok: false, reason: 'no_value' });
    expect(scan(slot, 'change a@b.co to c@d.co')).toEqual({ ok: false, reason: 'no_value' });
  });
});

describe('phone', () => {
  const slot: SlotType = { type: 'phone' };

  test.each([
    ['+1 (555) 123-4567', '+15551234567'],
    ['555.123.4567', '5551234567'],
    ['(555) 123-4567', '5551234567'],
    ['call me on 555 1234', '5551234'],
    ['+44 20 7946 0958 thanks', '+442079460958'],
    ['+447911123456', '+447911123456'],
    ['1234567', '1234567'], // 7 digits
    ['123456789012345', '123456789012345'], // 15 digits
    ['+1 555 123 4567 or +15551234567', '+15551234567'], // same number twice
  ])('answer %j → %j', (text, expected) => {
    expect(value(answer(slot, text))).toBe(expected);
  });

  test('matched is the number as written', () => {
    expect(answer(slot, 'sure, +1 (555) 123-4567!')).toEqual({ ok: true, value: '+15551234567', matched: '+1 (555) 123-4567' });
  });

  test.each([
    '123456', // too short
    '+1234567890123456', // 16 digits, too long
    'no phone',
    '2026-12-01', // a date
    '3.14159265', // a decimal
    '555-1234 or 555-9876', // two numbers
    'AB-1234567', // part of a code
  ])('answer %j has no value', (text) => {
    expect(answer(slot, text)).toEqual({ ok: false, reason: 'no_value' });
  });

  test('scan: formatted or long numbers count, bare 7–9 digit runs (order numbers) do not', () => {
    expect(value(scan(slot, 'please call me on 07911 123456'))).toBe('07911123456');
    expect(value(scan(slot, 'my number is 555-123-4567, I want to cancel'))).toBe('5551234567');
    expect(value(scan(slot, 'call +4915112345678'))).toBe('+4915112345678');
    expect(value(scan(slot, 'call 5551234567 please'))).toBe('5551234567');
    expect(scan(slot, 'order 12345678 is late')).toEqual({ ok: false, reason: 'no_value' });
  });
});

describe('date', () => {
  const slot: SlotType = { type: 'date' };

  test.each([
    ['2026-12-01', '2026-12-01'],
    ['2026-1-5', '2026-01-05'],
    ['2026/12/01', '2026-12-01'],
    ['12/01/2026', '2026-12-01'], // US month/day
    ['12/1/26', '2026-12-01'],
    ['1 December 2026', '2026-12-01'],
    ['1st of December 2026', '2026-12-01'],
    ['the 3rd of may', '2026-05-03'],
    ['1 Dec', '2026-12-01'],
    ['December 1', '2026-12-01'],
    ['December 1, 2027', '2027-12-01'],
    ['Dec 1st', '2026-12-01'],
    ['Dec. 1st, 2027', '2027-12-01'],
    ['sept 9', '2026-09-09'],
    ['today', '2026-06-10'],
    ['tonight', '2026-06-10'],
    ['Tomorrow!', '2026-06-11'],
    ['yesterday', '2026-06-09'],
    ['the day after tomorrow', '2026-06-12'],
    ['day before yesterday', '2026-06-08'],
    ['monday', '2026-06-15'], // the next Monday
    ['Monday please', '2026-06-15'],
    ['wednesday', '2026-06-17'], // today is a Wednesday: the next one is a week away
    ['next friday', '2026-06-12'],
    ['this friday', '2026-06-12'],
    ['last monday', '2026-06-08'],
    ['last wednesday', '2026-06-03'],
    ['Mon', '2026-06-15'],
    ['next week', '2026-06-17'],
    ['last week', '2026-06-03'],
    ['in 3 days', '2026-06-13'],
    ['in three days', '2026-06-13'],
    ['in a day', '2026-06-11'],
    ['in a week', '2026-06-17'],
    ['in 2 weeks', '2026-06-24'],
    ['2 days ago', '2026-06-08'],
    ['a week ago', '2026-06-03'],
    ['12/25', '2026-12-25'], // month/day without a year, answers only
    ['the 5th', '2026-06-05'], // day of this month, answers only
    ['on the 21st please', '2026-06-21'],
    ['I think it was 2026-05-01', '2026-05-01'],
    ['today (2026-06-10)', '2026-06-10'], // the same day twice is not ambiguous
  ])('answer %j → %s', (text, expected) => {
    const r = answer(slot, text);
    expect(value(r)).toBe(expected);
  });

  test('matched is the date expression as written', () => {
    expect(answer(slot, 'it was on Dec 1st I think')).toEqual({ ok: true, value: '2026-12-01', matched: 'Dec 1st' });
    expect(answer(slot, 'hmm, Last Monday')).toEqual({ ok: true, value: '2026-06-08', matched: 'Last Monday' });
  });

  test.each([
    'no idea',
    'soon',
    'in a few days',
    '2026-02-30', // impossible date
    '2026-13-01',
    '13/01/2026', // US format: there is no month 13
    'the 31st', // June has 30 days
    'february 29', // not in 2026
    'today or tomorrow', // ambiguous
    'dec 1 or dec 2',
    '2026-02-30 or 2026-03-01',
  ])('answer %j has no value', (text) => {
    expect(answer(slot, text)).toEqual({ ok: false, reason: 'no_value' });
  });

  test('date math crosses month and year ends in UTC', () => {
    expect(value(answer(slot, 'tomorrow', '2026-12-31'))).toBe('2027-01-01');
    expect(value(answer(slot, 'yesterday', '2026-03-01'))).toBe('2026-02-28');
    expect(value(answer(slot, 'yesterday', '2024-03-01'))).toBe('2024-02-29');
    expect(value(answer(slot, 'in 3 days', '2026-12-30'))).toBe('2027-01-02');
    expect(value(answer(slot, 'next week', '2026-03-25'))).toBe('2026-04-01'); // across a DST change elsewhere
  });

  describe('past', () => {
    const past: SlotType = { type: 'date', past: true };

    test('dates without a year take the nearest past year', () => {
      expect(value(answer(past, 'December 1'))).toBe('2025-12-01');
      expect(value(answer(past, 'June 10'))).toBe('2026-06-10'); // today is allowed
      expect(value(answer(past, 'May 1'))).toBe('2026-05-01');
      expect(value(answer(past, 'february 29'))).toBe('2024-02-29');
      expect(value(answer(past, '12/25'))).toBe('2025-12-25');
    });

    test('a bare day of the month is this month or the one before', () => {
      expect(value(answer(past, 'the 5th'))).toBe('2026-06-05');
      expect(value(answer(past, 'the 15th'))).toBe('2026-05-15');
    });

    test('a bare weekday is the previous one', () => {
      expect(value(answer(past, 'monday'))).toBe('2026-06-08');
      expect(value(answer(past, 'next monday'))).toBe('!out_of_range');
    });

    test('future dates are out of range', () => {
      expect(answer(past, 'tomorrow')).toEqual({ ok: false, reason: 'out_of_range' });
      expect(answer(past, '2027-01-01')).toEqual({ ok: false, reason: 'out_of_range' });
      expect(value(answer(past, 'today'))).toBe('2026-06-10');
      expect(value(answer(past, '2020-01-01'))).toBe('2020-01-01');
    });
  });

  describe('future', () => {
    const future: SlotType = { type: 'date', future: true };

    test('dates without a year take the nearest future year', () => {
      expect(value(answer(future, 'January 5'))).toBe('2027-01-05');
      expect(value(answer(future, 'June 10'))).toBe('2026-06-10');
      expect(value(answer(future, 'December 1'))).toBe('2026-12-01');
      expect(value(answer(future, 'feb 29'))).toBe('2028-02-29');
    });

    test('a bare day of the month is this month or the next', () => {
      expect(value(answer(future, 'the 5th'))).toBe('2026-07-05');
      expect(value(answer(future, 'the 20th'))).toBe('2026-06-20');
    });

    test('past dates are out of range', () => {
      expect(answer(future, 'yesterday')).toEqual({ ok: false, reason: 'out_of_range' });
      expect(answer(future, 'last monday')).toEqual({ ok: false, reason: 'out_of_range' });
      expect(answer(future, '2026-06-09')).toEqual({ ok: false, reason: 'out_of_range' });
      expect(value(answer(future, 'today'))).toBe('2026-06-10');
    });
  });

  test('scan takes explicit date expressions only', () => {
    expect(scan(slot, 'my delivery was due yesterday')).toEqual({ ok: true, value: '2026-06-09', matched: 'yesterday' });
    expect(value(scan(slot, 'I want to return the item delivered on 2026-05-01, it was broken'))).toBe('2026-05-01');
    expect(value(scan(slot, 'book a table for December 1 please'))).toBe('2026-12-01');
    expect(value(scan(slot, 'can you deliver on friday'))).toBe('2026-06-12');
    expect(value(scan(slot, 'I ordered 3 days ago'))).toBe('2026-06-07');
    expect(value(scan(slot, 'I ordered 2 things on the 3rd of May'))).toBe('2026-05-03');
    expect(value(scan(slot, 'I ordered 2 things on 3 May 2026'))).toBe('2026-05-03');
  });

  test.each([
    'I got it 1/2 done', // no bare month/day when scanning
    'change my order for the 5th', // no bare day of the month when scanning
    'see you on sat', // no weekday abbreviations when scanning
    'I have 2 may be wrong', // "2 may" is too weak a signal
    'it came on 1 dec and again on dec 3', // two dates
    'track my order',
  ])('scan %j has no value', (text) => {
    expect(scan(slot, text)).toEqual({ ok: false, reason: 'no_value' });
  });

  test('a malformed today is a programming error', () => {
    expect(() => answer(slot, 'tomorrow', '10/06/2026')).toThrow(TypeError);
    expect(() => answer(slot, 'tomorrow', '2026-02-30')).toThrow(/opts.today/);
    // other slot types do not look at today
    expect(value(answer({ type: 'number' }, '4', 'nonsense'))).toBe(4);
  });
});

describe('yes_no', () => {
  const slot: SlotType = { type: 'yes_no' };

  test.each([
    'yes',
    'Yes',
    'YES!',
    'yesss',
    'yeah',
    'yep',
    'yup',
    'sure',
    'sure!!!',
    'ok',
    'OK.',
    'okay',
    'correct',
    'Correct.',
    'right',
    'please do',
    'of course',
    'absolutely',
    'Absolutely! 🎉',
    'y',
    'Y',
    'yes please',
    'yes, please do',
    "yes that's right",
    'that is correct',
    'no problem',
    'sounds good',
    'go ahead',
    '👍',
    'yep 👍',
  ])('%j → true', (text) => {
    expect(answer(slot, text)).toMatchObject({ ok: true, value: true });
  });

  test.each([
    'no',
    'No.',
    'NO!!',
    'nooo',
    'nope',
    'nah',
    "nah I'm good",
    'not really',
    'no thanks',
    'no, thank you',
    'n',
    'N',
    'negative',
    'not at all',
    "that's not right",
    "it isn't correct",
    "please don't",
    '👎',
    'no 😞',
  ])('%j → false', (text) => {
    expect(answer(slot, text)).toMatchObject({ ok: true, value: false });
  });

  test.each([
    'yes and no',
    'yes no',
    'ok no',
    'maybe',
    'not sure',
    "I'm not sure",
    "I don't know",
    'no idea',
    'yes maybe',
    'hmm',
    '',
    '🤔',
    'n/a',
    'please',
    'why',
  ])('%j has no value', (text) => {
    expect(answer(slot, text)).toEqual({ ok: false, reason: 'no_value' });
  });

  test('single letters only count as the whole reply', () => {
    expect(answer(slot, 'y not')).toEqual({ ok: false, reason: 'no_value' });
    expect(answer(slot, 'plan b')).toEqual({ ok: false, reason: 'no_value' });
  });

  test('matched is the deciding phrase as written', () => {
    expect(answer(slot, 'Of course!')).toEqual({ ok: true, value: true, matched: 'Of course' });
    expect(answer(slot, 'hmm, not really')).toEqual({ ok: true, value: false, matched: 'not really' });
  });

  test('scan never fills a yes/no slot', () => {
    expect(scan(slot, 'yes')).toEqual({ ok: false, reason: 'no_value' });
    expect(scan(slot, 'no')).toEqual({ ok: false, reason: 'no_value' });
  });
});

describe('choice', () => {
  const slot: SlotType = {
    type: 'choice',
    options: [
      { value: 'card', title: 'Card', synonyms: ['credit card', 'debit card', 'visa'] },
      { value: 'gift_card', title: 'Gift card' },
      { value: 'paypal', title: 'PayPal' },
    ],
  };

  test.each([
    ['card', 'card'],
    ['CARD', 'card'],
    ['Card.', 'card'],
    ['visa', 'card'],
    ['my Visa please', 'card'],
    ['I want to use my credit card', 'card'],
    ['gift_card', 'gift_card'],
    ['Gift card', 'gift_card'],
    ['gift card please', 'gift_card'], // "gift card" beats the shorter "card" inside it
    ['with a gift card', 'gift_card'],
    ['paypal', 'paypal'],
    ['PayPal!', 'paypal'],
    ['cards', 'card'], // plural
  ])('answer %j → %s', (text, expected) => {
    expect(value(answer(slot, text))).toBe(expected);
  });

  test.each([
    ['1', 'card'],
    ['2', 'gift_card'],
    ['3', 'paypal'],
    ['#2', 'gift_card'],
    ['3.', 'paypal'],
    ['option 3', 'paypal'],
    ['no. 2', 'gift_card'],
    ['the 2nd one', 'gift_card'],
    ['the second one', 'gift_card'],
    ['third', 'paypal'],
    ['2 please', 'gift_card'],
  ])('answer by number %j → %s', (text, expected) => {
    expect(value(answer(slot, text))).toBe(expected);
  });

  test('an option number out of range is out_of_range', () => {
    expect(answer(slot, '4')).toEqual({ ok: false, reason: 'out_of_range' });
    expect(answer(slot, '0')).toEqual({ ok: false, reason: 'out_of_range' });
    expect(answer(slot, 'the tenth one')).toEqual({ ok: false, reason: 'out_of_range' });
  });

  test('numbers are matched as values, not positions, when options are numbers', () => {
    const rating: SlotType = { type: 'choice', options: [{ value: '1' }, { value: '5' }, { value: '10' }] };
    expect(value(answer(rating, '5'))).toBe('5');
    expect(value(answer(rating, '10 stars'))).toBe('10');
    expect(answer(rating, '2')).toEqual({ ok: false, reason: 'no_value' });
  });

  test('matching ignores accents and case', () => {
    const s: SlotType = { type: 'choice', options: [{ value: 'cafe', title: 'Café' }, { value: 'tea' }] };
    expect(value(answer(s, 'CAFÉ'))).toBe('cafe');
    expect(value(answer(s, 'cafe'))).toBe('cafe');
    expect(answer(s, 'Café au lait')).toEqual({ ok: true, value: 'cafe', matched: 'Café' });
  });

  test.each([
    'paypal or card', // two options
    'not paypal, card',
    'cash',
    'xl',
    'gifts', // a word that merely starts like an option
    'cardboard',
    '',
  ])('answer %j has no value', (text) => {
    expect(answer(slot, text)).toEqual({ ok: false, reason: 'no_value' });
  });

  test('matched is the option text as written', () => {
    expect(answer(slot, 'I would pay with my Credit Card thanks')).toEqual({ ok: true, value: 'card', matched: 'Credit Card' });
    expect(answer(slot, '2')).toEqual({ ok: true, value: 'gift_card', matched: '2' });
  });

  test('scan: an option mentioned once, as whole words, and no other', () => {
    expect(scan(slot, 'I paid with paypal yesterday and want a refund')).toEqual({ ok: true, value: 'paypal', matched: 'paypal' });
    expect(value(scan(slot, 'can I top up my gift card?'))).toBe('gift_card');
    expect(scan(slot, 'refund from card to paypal')).toEqual({ ok: false, reason: 'no_value' });
    expect(scan(slot, 'I want a refund')).toEqual({ ok: false, reason: 'no_value' });
    expect(scan(slot, 'I want option 2')).toEqual({ ok: false, reason: 'no_value' }); // numbers only when answering
    expect(scan(slot, '2')).toEqual({ ok: false, reason: 'no_value' });
  });

  test('an empty option list has no value', () => {
    expect(answer({ type: 'choice', options: [] }, 'anything')).toEqual({ ok: false, reason: 'no_value' });
  });
});

describe('pattern', () => {
  const order: SlotType = { type: 'pattern', pattern: '[A-Z]{2}-\\d{6}', normalize: 'upper' };

  test.each([
    ['AB-123456', 'AB-123456'],
    ['ab-123456', 'AB-123456'],
    ["it's AB-123456", 'AB-123456'],
    ['AB-123456 thanks', 'AB-123456'],
    ['my order number is ab-123456', 'AB-123456'],
    ['sure, it is ab-123456, thank you so much!', 'AB-123456'],
    ['"ab-123456".', 'AB-123456'],
    ['AB-123456 and again AB-123456', 'AB-123456'],
  ])('answer %j → %s', (text, expected) => {
    expect(value(answer(order, text))).toBe(expected);
  });

  test('normalize is applied before matching; matched keeps the original text', () => {
    expect(answer(order, 'ab-123456 thanks')).toEqual({ ok: true, value: 'AB-123456', matched: 'ab-123456' });
    const lower: SlotType = { type: 'pattern', pattern: '[a-z]{2}-\\d{6}', normalize: 'lower' };
    expect(answer(lower, 'AB-123456')).toEqual({ ok: true, value: 'ab-123456', matched: 'AB-123456' });
  });

  test("normalize defaults to 'none'", () => {
    const s: SlotType = { type: 'pattern', pattern: '[A-Z]{2}-\\d{6}' };
    expect(answer(s, 'ab-123456')).toEqual({ ok: false, reason: 'no_value' });
    expect(value(answer(s, 'AB-123456'))).toBe('AB-123456');
    expect(value(answer({ ...s, normalize: 'none' }, 'AB-123456'))).toBe('AB-123456');
  });

  test('flags are honoured', () => {
    const s: SlotType = { type: 'pattern', pattern: 'ab-\\d{6}', flags: 'i' };
    expect(answer(s, 'Ab-123456')).toEqual({ ok: true, value: 'Ab-123456', matched: 'Ab-123456' });
  });

  test.each([
    'AB-1234567', // the match must not be glued to more digits
    'XAB-123456',
    'AB-12345',
    'ab-123456 and cd-654321', // two different values
    'AB-123456 but I actually want to cancel my other order', // not mostly the answer
    'I do not know where to find it',
    '',
  ])('answer %j has no value', (text) => {
    expect(answer(order, text)).toEqual({ ok: false, reason: 'no_value' });
  });

  test('answer: the match must be most of the meaningful message', () => {
    const digits: SlotType = { type: 'pattern', pattern: '\\d+' };
    expect(answer(digits, "I don't have it, I ordered 2 weeks ago")).toEqual({ ok: false, reason: 'no_value' });
    expect(value(answer(digits, '1234 is my pin'))).toBe('1234');
  });

  test('anchored patterns still find the value among filler words', () => {
    const anchored: SlotType = { type: 'pattern', pattern: '^[A-Z]{2}-\\d{6}$', normalize: 'upper' };
    expect(answer(anchored, "it's ab-123456, thanks")).toEqual({ ok: true, value: 'AB-123456', matched: 'ab-123456' });
    expect(scan(anchored, 'track order ab-123456')).toEqual({ ok: true, value: 'AB-123456', matched: 'ab-123456' });
  });

  test('patterns with spaces', () => {
    const postcode: SlotType = { type: 'pattern', pattern: '[A-Z]{1,2}\\d[A-Z\\d]? ?\\d[A-Z]{2}', normalize: 'upper' };
    expect(answer(postcode, 'my postcode is sw1a 1aa thanks')).toEqual({ ok: true, value: 'SW1A 1AA', matched: 'sw1a 1aa' });
  });

  test('scan finds the value inside another request', () => {
    expect(scan(order, 'track order ab-123456')).toEqual({ ok: true, value: 'AB-123456', matched: 'ab-123456' });
    expect(value(scan(order, 'hi, where is my parcel AB-123456? it was supposed to come on monday and nobody answers'))).toBe('AB-123456');
    expect(scan(order, 'track my order')).toEqual({ ok: false, reason: 'no_value' });
    expect(scan(order, 'merge AB-123456 with CD-654321')).toEqual({ ok: false, reason: 'no_value' });
  });

  test('unusable definitions yield no_value instead of throwing', () => {
    expect(answer({ type: 'pattern', pattern: '(' }, 'abc')).toEqual({ ok: false, reason: 'no_value' });
    expect(answer({ type: 'pattern', pattern: '' }, 'abc')).toEqual({ ok: false, reason: 'no_value' });
    expect(answer({ type: 'pattern', pattern: `a${'b'.repeat(MAX_PATTERN_LENGTH)}` }, 'ab')).toEqual({ ok: false, reason: 'no_value' });
    expect(answer({ type: 'pattern', pattern: '\\d*' }, 'abc')).toEqual({ ok: false, reason: 'no_value' }); // empty matches are ignored
    expect(value(answer({ type: 'pattern', pattern: 'ab', flags: 'gy' }, 'ab'))).toBe('ab'); // unsupported flags are dropped
  });

  test(`input is capped at ${MAX_SLOT_INPUT_LENGTH} characters`, () => {
    expect(scan(order, `${'x '.repeat(MAX_SLOT_INPUT_LENGTH / 2)}AB-123456`)).toEqual({ ok: false, reason: 'no_value' });
    expect(value(scan(order, `AB-123456 ${'x '.repeat(5000)}`))).toBe('AB-123456');
  });
});

describe('robustness', () => {
  const slots: SlotType[] = [
    { type: 'text' },
    { type: 'number' },
    { type: 'integer' },
    { type: 'email' },
    { type: 'phone' },
    { type: 'date' },
    { type: 'yes_no' },
    { type: 'choice', options: [{ value: 'a' }, { value: 'b' }] },
    { type: 'pattern', pattern: '[A-Z]{2}-\\d{6}' },
  ];
  const nasty = [
    '1'.repeat(5000),
    '1 '.repeat(3000),
    '1-'.repeat(3000),
    'a.'.repeat(3000) + '@',
    'a@' + 'a-'.repeat(2000),
    '(' + '1 '.repeat(1500),
    'yes '.repeat(1000),
    '\u0000\uffff\ud800',
    '🤷'.repeat(2000),
  ];

  test('never throws and stays fast on hostile input', () => {
    const start = Date.now();
    for (const slot of slots) {
      for (const text of nasty) {
        for (const mode of ['answer', 'scan'] as const) {
          const r = extractSlotValue(slot, text, { mode, today: TODAY });
          expect(typeof r.ok).toBe('boolean');
        }
      }
    }
    expect(Date.now() - start).toBeLessThan(5000);
  });

  test('non-string text is treated as empty', () => {
    expect(answer({ type: 'text' }, undefined as unknown as string)).toEqual({ ok: false, reason: 'no_value' });
  });

  test('unknown slot types yield no_value', () => {
    expect(answer({ type: 'colour' } as unknown as SlotType, 'red')).toEqual({ ok: false, reason: 'no_value' });
  });

  test('slot definitions with extra fields (compiled SlotDefs) work', () => {
    const def = { type: 'number', min: 1, name: 'qty', prompt: [], maxAttempts: 3 } as unknown as SlotType;
    expect(value(answer(def, '3'))).toBe(3);
  });
});

describe('validateSlotTypeDefinition', () => {
  test.each<[SlotType]>([
    [{ type: 'text' }],
    [{ type: 'text', minLength: 0, maxLength: 200 }],
    [{ type: 'number', min: -1.5, max: 1.5 }],
    [{ type: 'integer', min: 1, max: 1 }],
    [{ type: 'email' }],
    [{ type: 'phone' }],
    [{ type: 'date', past: true }],
    [{ type: 'date', future: true, past: false }],
    [{ type: 'yes_no' }],
    [{ type: 'choice', options: [{ value: 'a', title: 'A', synonyms: ['alpha'] }, { value: 'b' }] }],
    [{ type: 'pattern', pattern: '^[A-Z]{2}-\\d{6}$', flags: 'i', normalize: 'upper' }],
    [{ type: 'pattern', pattern: '(\\d+-)+\\d+' }],
    [{ type: 'pattern', pattern: 'x'.repeat(MAX_PATTERN_LENGTH) }],
  ])('%j is fine', (slot) => {
    expect(validateSlotTypeDefinition(slot)).toEqual([]);
  });

  test.each<[unknown, RegExp]>([
    [{ type: 'number', min: 5, max: 1 }, /min \(5\) is greater than max \(1\)/],
    [{ type: 'integer', min: 10, max: 2 }, /min \(10\) is greater than max \(2\)/],
    [{ type: 'integer', min: 1.2, max: 1.8 }, /no whole number lies between min \(1.2\) and max \(1.8\)/],
    [{ type: 'number', min: '1' }, /min must be a number/],
    [{ type: 'text', minLength: 10, maxLength: 5 }, /minLength \(10\) is greater than maxLength \(5\)/],
    [{ type: 'text', minLength: -1 }, /minLength must be at least 0/],
    [{ type: 'text', maxLength: 2.5 }, /maxLength must be a whole number/],
    [{ type: 'text', maxLength: 5000 }, /above the 2000-character limit/],
    [{ type: 'date', past: true, future: true }, /only today would be accepted/],
    [{ type: 'date', past: 'yes' }, /past must be true or false/],
    [{ type: 'choice', options: [] }, /needs at least one option/],
    [{ type: 'choice' }, /needs at least one option/],
    [{ type: 'choice', options: [{ value: '' }] }, /option 1 needs a non-empty "value"/],
    [{ type: 'choice', options: [{ value: 'a' }, { value: 'a' }] }, /"a" appears more than once/],
    [{ type: 'choice', options: [{ value: 'a', synonyms: ['x'] }, { value: 'b', synonyms: ['X'] }] }, /"X" is used by both option "a" and option "b"/],
    [{ type: 'choice', options: [{ value: 'a', synonyms: 'x' }] }, /synonyms must be a list/],
    [{ type: 'choice', options: [{ value: '???' }] }, /has no letters or digits/],
    [{ type: 'pattern', pattern: '[' }, /pattern is not a valid regular expression/],
    [{ type: 'pattern', pattern: '(a' }, /pattern is not a valid regular expression/],
    [{ type: 'pattern', pattern: '' }, /needs a non-empty "pattern"/],
    [{ type: 'pattern' }, /needs a non-empty "pattern"/],
    [{ type: 'pattern', pattern: 'x'.repeat(MAX_PATTERN_LENGTH + 1) }, /pattern is 501 characters long; the limit is 500/],
    [{ type: 'pattern', pattern: 'a', flags: 'g' }, /flags "g" are not allowed; use only i, m, s and u/],
    [{ type: 'pattern', pattern: 'a', flags: 'ii' }, /repeat a letter/],
    [{ type: 'pattern', pattern: 'a', normalize: 'title' }, /normalize must be "upper", "lower" or "none"/],
    [{ type: 'pattern', pattern: '\\d*' }, /matches empty text/],
    [{ type: 'pattern', pattern: '(a+)+b' }, /nests one repetition inside another/],
    [{ type: 'pattern', pattern: '^([a-z]*)*$' }, /nests one repetition inside another/],
    [{ type: 'colour' }, /unknown slot type "colour"/],
    [null, /must be an object/],
  ])('%j → %s', (slot, problem) => {
    const problems = validateSlotTypeDefinition(slot as SlotType);
    expect(problems.some((p) => problem.test(p))).toBe(true);
  });
});
