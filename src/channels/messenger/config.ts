/**
 * Facebook Messenger settings, per bot:
 *   <PREFIX>MESSENGER_VERIFY_TOKEN  the verify token typed into the app's webhook settings
 *   <PREFIX>MESSENGER_APP_SECRET    the Meta app's secret (signs webhooks)
 *   <PREFIX>MESSENGER_PAGE_TOKEN    the Page access token (sends messages as the Page)
 * plus the global META_GRAPH_API_BASE_URL / META_GRAPH_API_VERSION.
 */
import { channelVars } from '../meta/config';
import { readGraphSettings, type GraphSettings } from '../meta/graph';
import { ChannelConfigError, type ChannelFactoryDeps } from '../port';

export interface MessengerConfig {
  verifyToken: string;
  appSecret: string;
  pageToken: string;
  graph: GraphSettings;
}

export const MESSENGER_VARS = ['MESSENGER_VERIFY_TOKEN', 'MESSENGER_APP_SECRET', 'MESSENGER_PAGE_TOKEN'] as const;

const MEANING = {
  MESSENGER_VERIFY_TOKEN: "the verify token entered in the app's Messenger webhook settings",
  MESSENGER_APP_SECRET: 'App settings → Basic → App secret; it signs the webhooks',
  MESSENGER_PAGE_TOKEN: "the Page's access token (Messenger API settings → Generate token)",
};

/** The settings, null when none of the Messenger variables is set; ChannelConfigError listing every problem otherwise. */
export function readMessengerConfig(deps: Pick<ChannelFactoryDeps, 'env' | 'prefix'>): MessengerConfig | null {
  const vars = channelVars(deps, MESSENGER_VARS);
  if (!vars.any) return null;
  const graph = readGraphSettings(deps.env);
  const problems = [...vars.missing(MESSENGER_VARS, MEANING), ...graph.problems];
  if (problems.length) throw new ChannelConfigError(problems);
  const v = vars.values;
  return { verifyToken: v.MESSENGER_VERIFY_TOKEN!, appSecret: v.MESSENGER_APP_SECRET!, pageToken: v.MESSENGER_PAGE_TOKEN!, graph: graph.settings };
}
