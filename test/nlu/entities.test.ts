import * as path from 'path';
import { loadBotOrThrow } from '../../src/flow/loader';
import { entityTypesOf, extractEntities } from '../../src/nlu/entities';

const { bot } = loadBotOrThrow(path.join(__dirname, '..', 'cli', 'fixtures', 'shop', 'bots', 'shop'));
const types = entityTypesOf(bot);
const find = (text: string) => extractEntities(types, text, '2026-03-10');

describe('entities recorded with each message', () => {
  it("finds an email and the bot's own order-number pattern", () => {
    expect(find('my email is Ann@Example.com and order ab-123456')).toEqual([
      { entity: 'email', value: 'ann@example.com', text: 'Ann@Example.com' },
      { entity: 'slot:order_id', value: 'AB-123456', text: 'ab-123456' },
    ]);
  });
  it('finds a phone number and a relative date', () => {
    expect(find('call me at +1 415 555 0100 tomorrow')).toEqual([
      { entity: 'phone', value: '+14155550100', text: '+1 415 555 0100' },
      { entity: 'date', value: '2026-03-11', text: 'tomorrow' },
    ]);
  });
  it('finds a lone number', () => {
    expect(find('I want 3 shirts')).toEqual([{ entity: 'number', value: 3, text: '3' }]);
  });
  it('finds nothing in small talk', () => {
    expect(find('hello there')).toEqual([]);
  });
});
