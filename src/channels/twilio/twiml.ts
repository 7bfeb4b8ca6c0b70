/**
 * The TwiML Baton answers Twilio's incoming-message webhook with. Replies normally go through the
 * REST API (an agent's answer may come hours later), so the answer is an empty `<Response/>`:
 * Twilio then sends nothing itself. Only HELP/INFO is answered in place, with a `<Message>`.
 */

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** Tells Twilio "nothing to send". */
export const EMPTY_TWIML = `${DECLARATION}<Response/>`;

/** Escape for XML text and attribute values; characters XML 1.0 forbids (most C0 controls) are dropped. */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A TwiML answer that makes Twilio reply `text` to the sender. */
export function messageTwiml(text: string): string {
  return `${DECLARATION}<Response><Message>${escapeXml(text)}</Message></Response>`;
}
