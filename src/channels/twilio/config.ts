/**
 * The Twilio channel's settings, read from the environment with the bot's prefix
 * (`ACME_TWILIO_ACCOUNT_SID` for the bot `acme`). Every problem is reported at once, naming the
 * variable, so a business fixes its configuration in one go rather than one restart per mistake.
 */
import { ChannelConfigError, type ChannelConfigProblem, type ChannelFactoryDeps } from '../port';

export const DEFAULT_API_BASE_URL = 'https://api.twilio.com';

/** Twilio's limit for one message body (longer bodies are rejected with error 21617). */
export const MAX_BODY_LENGTH = 1600;

/** Who Twilio sends from: a phone number (`From`) or a Messaging Service that picks one (`MessagingServiceSid`). */
export type TwilioSender = { kind: 'number'; from: string } | { kind: 'service'; messagingServiceSid: string };

export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  sender: TwilioSender;
  /** The answer to HELP/INFO, or null when Twilio (Advanced Opt-Out) answers it instead. */
  helpText: string | null;
  /** Send images as MMS (US/Canada numbers) instead of "alt: url" lines. */
  mms: boolean;
  /** Twilio's REST API, without a trailing slash. */
  apiBaseUrl: string;
}

/** The bot-prefixed variables; setting any of them turns the channel on. */
export const TWILIO_VARIABLES = ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM', 'TWILIO_HELP_TEXT', 'TWILIO_MMS'] as const;

const ACCOUNT_SID = /^AC[0-9a-f]{32}$/i;
const AUTH_TOKEN = /^[0-9a-f]{32}$/i;
const E164 = /^\+[1-9]\d{1,14}$/;
const MESSAGING_SERVICE_SID = /^MG[0-9a-f]{32}$/i;

/** The value HELP_TEXT takes to leave HELP/INFO to Twilio. */
const HELP_OFF = 'off';

export function defaultHelpText(botName: string): string {
  return `${botName}: reply with your question to get help. Reply STOP to unsubscribe.`;
}

/** An unset or blank variable counts as absent. */
function read(env: ChannelFactoryDeps['env'], name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/**
 * The settings, or null when none of the bot's Twilio variables is set (the channel is off).
 * Throws ChannelConfigError listing every missing or malformed variable.
 */
export function readTwilioConfig(deps: Pick<ChannelFactoryDeps, 'env' | 'prefix' | 'botName'>): TwilioConfig | null {
  const name = (v: (typeof TWILIO_VARIABLES)[number]) => deps.prefix + v;
  const values = Object.fromEntries(TWILIO_VARIABLES.map((v) => [v, read(deps.env, name(v))])) as Record<(typeof TWILIO_VARIABLES)[number], string | undefined>;
  if (TWILIO_VARIABLES.every((v) => values[v] === undefined)) return null;

  const problems: ChannelConfigProblem[] = [];
  const problem = (variable: string, message: string) => problems.push({ variable, message });

  const sid = values.TWILIO_ACCOUNT_SID;
  if (!sid) problem(name('TWILIO_ACCOUNT_SID'), 'is missing: set it to the Account SID shown on the Twilio Console home page (AC…)');
  else if (!ACCOUNT_SID.test(sid))
    problem(
      name('TWILIO_ACCOUNT_SID'),
      sid.startsWith('SK')
        ? 'is an API key SID; use the Account SID (AC…) and its Auth Token, which Twilio also uses to sign webhooks'
        : 'is not an Account SID: expected "AC" followed by 32 hexadecimal characters',
    );

  const token = values.TWILIO_AUTH_TOKEN;
  if (!token) problem(name('TWILIO_AUTH_TOKEN'), 'is missing: set it to the Auth Token shown on the Twilio Console home page');
  else if (!AUTH_TOKEN.test(token)) problem(name('TWILIO_AUTH_TOKEN'), 'is not an Auth Token: expected 32 hexadecimal characters');

  const from = values.TWILIO_FROM;
  let sender: TwilioSender | undefined;
  if (!from) problem(name('TWILIO_FROM'), 'is missing: set it to your Twilio phone number (E.164, e.g. +15551234567) or a Messaging Service SID (MG…)');
  else if (E164.test(from)) sender = { kind: 'number', from };
  else if (MESSAGING_SERVICE_SID.test(from)) sender = { kind: 'service', messagingServiceSid: from };
  else problem(name('TWILIO_FROM'), 'must be a phone number in E.164 form (+ and digits only, e.g. +15551234567) or a Messaging Service SID (MG followed by 32 hexadecimal characters)');

  let helpText: string | null = defaultHelpText(deps.botName);
  const help = values.TWILIO_HELP_TEXT;
  if (help !== undefined) {
    if (help.toLowerCase() === HELP_OFF) helpText = null;
    else if (help.length > MAX_BODY_LENGTH) problem(name('TWILIO_HELP_TEXT'), `is ${help.length} characters long; one SMS reply takes at most ${MAX_BODY_LENGTH}`);
    else helpText = help;
  }

  let mms = false;
  const mmsValue = values.TWILIO_MMS;
  if (mmsValue !== undefined) {
    if (/^true$/i.test(mmsValue)) mms = true;
    else if (!/^false$/i.test(mmsValue)) problem(name('TWILIO_MMS'), 'must be "true" or "false"');
  }

  const apiBaseUrl = (read(deps.env, 'TWILIO_API_BASE_URL') ?? DEFAULT_API_BASE_URL).replace(/\/+$/, '');
  if (!isHttpUrl(apiBaseUrl)) problem('TWILIO_API_BASE_URL', `must be an http(s) URL (default ${DEFAULT_API_BASE_URL})`);

  if (problems.length > 0 || !sid || !token || !sender) throw new ChannelConfigError(problems);
  return { accountSid: sid, authToken: token, sender, helpText, mms, apiBaseUrl };
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}
