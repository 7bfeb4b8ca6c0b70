/**
 * WhatsApp Cloud API settings, per bot:
 *   <PREFIX>WHATSAPP_VERIFY_TOKEN      the verify token typed into the app's webhook settings
 *   <PREFIX>WHATSAPP_APP_SECRET        the Meta app's secret (signs webhooks)
 *   <PREFIX>WHATSAPP_TOKEN             system-user access token (Authorization: Bearer)
 *   <PREFIX>WHATSAPP_PHONE_NUMBER_ID   the business phone number's id (not the number itself)
 *   <PREFIX>WHATSAPP_TEMPLATE          optional: approved template sent outside the 24-hour window
 *   <PREFIX>WHATSAPP_TEMPLATE_LANGUAGE optional: the template's language code (default en_US)
 *   <PREFIX>WHATSAPP_TEMPLATE_PARAM    optional: "text" passes the message as body parameter {{1}}; "none" (default) sends no parameters
 * plus the global META_GRAPH_API_BASE_URL / META_GRAPH_API_VERSION.
 */
import { channelVars } from '../meta/config';
import { readGraphSettings, type GraphSettings } from '../meta/graph';
import { ChannelConfigError, type ChannelConfigProblem, type ChannelFactoryDeps } from '../port';

export interface WhatsAppTemplate {
  name: string;
  /** e.g. "en_US". */
  language: string;
  /** "text": the message text is the template's single body parameter {{1}}. */
  param: 'text' | 'none';
}

export interface WhatsAppConfig {
  verifyToken: string;
  appSecret: string;
  token: string;
  phoneNumberId: string;
  template?: WhatsAppTemplate;
  graph: GraphSettings;
}

export const WHATSAPP_VARS = [
  'WHATSAPP_VERIFY_TOKEN',
  'WHATSAPP_APP_SECRET',
  'WHATSAPP_TOKEN',
  'WHATSAPP_PHONE_NUMBER_ID',
  'WHATSAPP_TEMPLATE',
  'WHATSAPP_TEMPLATE_LANGUAGE',
  'WHATSAPP_TEMPLATE_PARAM',
] as const;
type Key = (typeof WHATSAPP_VARS)[number];

const REQUIRED: readonly Key[] = ['WHATSAPP_VERIFY_TOKEN', 'WHATSAPP_APP_SECRET', 'WHATSAPP_TOKEN', 'WHATSAPP_PHONE_NUMBER_ID'];
const MEANING: Partial<Record<Key, string>> = {
  WHATSAPP_VERIFY_TOKEN: 'the verify token entered in the app\'s WhatsApp webhook settings',
  WHATSAPP_APP_SECRET: 'App settings → Basic → App secret; it signs the webhooks',
  WHATSAPP_TOKEN: 'a system-user access token with whatsapp_business_messaging',
  WHATSAPP_PHONE_NUMBER_ID: 'WhatsApp → API Setup → Phone number ID',
};
export const DEFAULT_TEMPLATE_LANGUAGE = 'en_US';

/** The settings, null when none of the WhatsApp variables is set; ChannelConfigError listing every problem otherwise. */
export function readWhatsAppConfig(deps: Pick<ChannelFactoryDeps, 'env' | 'prefix'>): WhatsAppConfig | null {
  const vars = channelVars(deps, WHATSAPP_VARS);
  if (!vars.any) return null;
  const v = vars.values;
  const problems: ChannelConfigProblem[] = vars.missing(REQUIRED, MEANING);
  if (v.WHATSAPP_PHONE_NUMBER_ID !== undefined && !/^\d+$/.test(v.WHATSAPP_PHONE_NUMBER_ID))
    problems.push({ variable: vars.name('WHATSAPP_PHONE_NUMBER_ID'), message: 'must be the numeric phone number id from API Setup (not the phone number)' });
  if (v.WHATSAPP_TEMPLATE !== undefined && !/^[a-z0-9_]+$/.test(v.WHATSAPP_TEMPLATE))
    problems.push({ variable: vars.name('WHATSAPP_TEMPLATE'), message: 'template names use lowercase letters, digits and "_"' });
  const language = v.WHATSAPP_TEMPLATE_LANGUAGE ?? DEFAULT_TEMPLATE_LANGUAGE;
  if (!/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/.test(language))
    problems.push({ variable: vars.name('WHATSAPP_TEMPLATE_LANGUAGE'), message: `"${language}" is not a language code like en_US, en or pt_BR` });
  const param = (v.WHATSAPP_TEMPLATE_PARAM ?? 'none').toLowerCase();
  if (param !== 'text' && param !== 'none') problems.push({ variable: vars.name('WHATSAPP_TEMPLATE_PARAM'), message: 'must be "text" or "none"' });
  if (v.WHATSAPP_TEMPLATE === undefined)
    for (const k of ['WHATSAPP_TEMPLATE_LANGUAGE', 'WHATSAPP_TEMPLATE_PARAM'] as const)
      if (v[k] !== undefined) problems.push({ variable: vars.name(k), message: `only applies with ${vars.name('WHATSAPP_TEMPLATE')}, which is not set` });
  const graph = readGraphSettings(deps.env);
  problems.push(...graph.problems);
  if (problems.length) throw new ChannelConfigError(problems);
  return {
    verifyToken: v.WHATSAPP_VERIFY_TOKEN!,
    appSecret: v.WHATSAPP_APP_SECRET!,
    token: v.WHATSAPP_TOKEN!,
    phoneNumberId: v.WHATSAPP_PHONE_NUMBER_ID!,
    ...(v.WHATSAPP_TEMPLATE ? { template: { name: v.WHATSAPP_TEMPLATE, language, param: param as 'text' | 'none' } } : {}),
    graph: graph.settings,
  };
}
