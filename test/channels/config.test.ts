/** Which channels are on, from the environment; every problem of every channel reported at once. */
import { createChannelAdapters, envPrefix } from '../../src/channels';
import { ChannelConfigError } from '../../src/channels/port';
import { silentLogger } from '../../src/util/logger';

const deps = (env: Record<string, string>) => ({ env, prefix: 'ACME_', botId: 'acme', botName: 'Acme', logger: silentLogger, clock: () => new Date() });
const META = { ACME_WHATSAPP_VERIFY_TOKEN: 'v', ACME_WHATSAPP_APP_SECRET: 's', ACME_WHATSAPP_TOKEN: 't', ACME_WHATSAPP_PHONE_NUMBER_ID: '1065', ACME_MESSENGER_VERIFY_TOKEN: 'v', ACME_MESSENGER_APP_SECRET: 's', ACME_MESSENGER_PAGE_TOKEN: 'p' };

test('the bot id names the variables', () => {
  expect(envPrefix('acme')).toBe('ACME_');
  expect(envPrefix('my-shop.eu')).toBe('MY_SHOP_EU_');
});

test('no variables: no channels; each complete channel is on', () => {
  expect(createChannelAdapters(deps({}))).toEqual([]);
  const on = createChannelAdapters(deps({ ...META, ACME_TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32), ACME_TWILIO_AUTH_TOKEN: 'a'.repeat(32), ACME_TWILIO_FROM: '+15005550006' }));
  expect(on.map((a) => a.name).sort()).toEqual(['messenger', 'twilio', 'whatsapp']);
});

test('half-configured channels stop the start with every missing variable named, shared ones once', () => {
  let err: unknown;
  try {
    createChannelAdapters(deps({ ...META, ACME_TWILIO_AUTH_TOKEN: 'a'.repeat(32), META_GRAPH_API_BASE_URL: 'not a url' }));
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ChannelConfigError);
  const vars = (err as ChannelConfigError).problems.map((p) => p.variable);
  expect(vars).toEqual(expect.arrayContaining(['ACME_TWILIO_ACCOUNT_SID', 'ACME_TWILIO_FROM', 'META_GRAPH_API_BASE_URL']));
  expect(vars.filter((v) => v === 'META_GRAPH_API_BASE_URL')).toHaveLength(1);
  expect((err as Error).message).toMatch(/ACME_TWILIO_ACCOUNT_SID/);
});
