import type { ConversationService } from '../conversation/service';
import type { ConversationStore } from '../store/port';
import type { TokenService } from '../identity/tokens';
import type { CommitFeed } from '../realtime/commit-feed';
import type { Logger } from '../util/logger';
import type { ChannelGateway } from '../channels/gateway';

/** What the API routes need. */
export interface ApiDeps {
  service: ConversationService;
  store: ConversationStore;
  tokens: TokenService;
  /** Verifies identity signatures; undefined: verified identity is refused. */
  identitySecret?: string;
  /** Commits of this process: gives replies their seq and commit time. Optional. */
  commits?: CommitFeed;
  logger: Logger;
  /** Messaging channels (links between channel addresses and verified customers). */
  channels?: ChannelGateway | null;
}
