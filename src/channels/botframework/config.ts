/**
 * The Bot Framework channel's settings, read from the environment.
 *
 * The credential variables keep the names the Bot Framework SDK, the Azure portal and Microsoft's
 * own samples use (`MicrosoftAppId`, `MicrosoftAppPassword`, `MicrosoftAppType`,
 * `MicrosoftAppTenantId`) and are not prefixed with the bot's prefix: a business copies them from
 * the Azure Bot resource as they are. Every problem is reported at once, naming the variable.
 */
import { ChannelConfigError, type ChannelConfigProblem, type ChannelFactoryDeps } from '../port';

/** How the app id authenticates to Microsoft Entra ID (the Azure Bot resource's "Type of App"). */
export type BotFrameworkAppType = 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';

export type BotFrameworkConfig =
  /** Requests are authenticated (Bot Framework JWT) and replies are signed with the app's token. */
  | { mode: 'credentials'; appId: string; appPassword?: string; appType: BotFrameworkAppType; tenantId?: string }
  /** No authentication at all, for the Bot Framework Emulator on a developer's machine. */
  | { mode: 'local' };

export const APP_ID = 'MicrosoftAppId';
export const APP_PASSWORD = 'MicrosoftAppPassword';
export const APP_TYPE = 'MicrosoftAppType';
export const APP_TENANT_ID = 'MicrosoftAppTenantId';
export const LOCAL_MODE = 'BATON_BOTFRAMEWORK_LOCAL';

const APP_TYPES: readonly BotFrameworkAppType[] = ['MultiTenant', 'SingleTenant', 'UserAssignedMSI'];

/** An unset or blank variable counts as absent. */
function read(env: ChannelFactoryDeps['env'], name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/** MicrosoftAppType is matched without regard to case, like the SDK does ("UserAssignedMsi" is its own spelling). */
function parseAppType(value: string | undefined): BotFrameworkAppType | undefined {
  if (value === undefined) return 'MultiTenant';
  return APP_TYPES.find((t) => t.toLowerCase() === value.toLowerCase());
}

/**
 * The settings, or null when the channel is off (no MicrosoftAppId and local mode not asked for).
 * Throws ChannelConfigError listing every missing or bad variable.
 */
export function readBotFrameworkConfig(env: ChannelFactoryDeps['env']): BotFrameworkConfig | null {
  const appId = read(env, APP_ID);
  const appPassword = read(env, APP_PASSWORD);
  const rawType = read(env, APP_TYPE);
  const tenantId = read(env, APP_TENANT_ID);
  const local = read(env, LOCAL_MODE)?.toLowerCase();

  const problems: ChannelConfigProblem[] = [];
  const problem = (variable: string, message: string) => problems.push({ variable, message });

  if (local !== undefined && local !== 'true' && local !== 'false') problem(LOCAL_MODE, `must be "true" or "false", got "${read(env, LOCAL_MODE)}"`);
  const wantsLocal = local === 'true';

  if (appId === undefined) {
    // Credentials without an app id are a half-done setup, not "channel off".
    const orphans = ([[APP_PASSWORD, appPassword], [APP_TYPE, rawType], [APP_TENANT_ID, tenantId]] as const).filter(([, v]) => v !== undefined).map(([n]) => n);
    if (orphans.length) problem(APP_ID, `is required when ${orphans.join(', ')} ${orphans.length === 1 ? 'is' : 'are'} set (copy it from the Azure Bot resource, Configuration page)`);
    if (problems.length) throw new ChannelConfigError(problems);
    if (!wantsLocal) return null;
    if (read(env, 'NODE_ENV') === 'production')
      throw new ChannelConfigError([{ variable: LOCAL_MODE, message: 'local mode accepts unauthenticated requests and is refused when NODE_ENV=production; set MicrosoftAppId and MicrosoftAppPassword instead' }]);
    return { mode: 'local' };
  }

  if (wantsLocal) problem(LOCAL_MODE, `must not be "true" when ${APP_ID} is set (local mode is for the Emulator without credentials)`);
  const appType = parseAppType(rawType);
  if (!appType) problem(APP_TYPE, `must be one of ${APP_TYPES.join(', ')}, got "${rawType}"`);
  if (appType === 'UserAssignedMSI') {
    if (appPassword !== undefined) problem(APP_PASSWORD, 'must not be set for UserAssignedMSI (the managed identity has no password)');
  } else if (appPassword === undefined) {
    problem(APP_PASSWORD, `is required with ${APP_ID} (a client secret of the bot's app registration)`);
  }
  if ((appType === 'SingleTenant' || appType === 'UserAssignedMSI') && tenantId === undefined)
    problem(APP_TENANT_ID, `is required when ${APP_TYPE} is ${appType} (the directory (tenant) id of the app registration)`);
  if (problems.length) throw new ChannelConfigError(problems);

  return {
    mode: 'credentials',
    appId,
    appType: appType!,
    ...(appPassword !== undefined ? { appPassword } : {}),
    ...(tenantId !== undefined ? { tenantId } : {}),
  };
}
