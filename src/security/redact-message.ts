/**
 * graphql-js quotes the offending value in some of its own messages ("String cannot represent a
 * non string value: 4791234567", "Variable \"$id\" got invalid value ..."), and a caller may have
 * put a national id or a phone number exactly there. Such numbers are cut out of error messages
 * before they leave (responses over HTTP and WebSocket): runs of digits, with the separators
 * people write in ids, phone numbers and dates, that hold six digits or more.
 */
const NUMBERISH = /\+?\d(?:[\s.\-/]?\d)+/g;

/** Six digits may be a birth date, a national id or a phone number (as in metrics.ts). */
const MIN_DIGITS = 6;

export const REDACTED = '[redacted]';

export function redactPersonalNumbers(message: string): string {
  return message.replace(NUMBERISH, (m) => (m.replace(/\D/g, '').length >= MIN_DIGITS ? REDACTED : m));
}
