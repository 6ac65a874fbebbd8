/** TLS extension types that carry a session to resume (RFC 8446 §4.2.11, RFC 5077 §3.2). */
const EXT_PRE_SHARED_KEY = 41;
const EXT_SESSION_TICKET = 35;

/**
 * Whether the first bytes a client sent are a TLS ClientHello that offers to resume a session: a TLS 1.3
 * pre_shared_key, or a non-empty TLS 1.2 session ticket. Only a hint for scheduling (a reconnecting daimon offers its
 * ticket; an `okesu` command, a new process, has none): nothing is trusted from it, and anything it cannot read whole
 * (another protocol, a ClientHello split over several segments) counts as not resuming.
 */
export function offersResumption(chunk: Buffer): boolean {
  // Record header: type 22 (handshake), version, length; then the handshake header: type 1 (ClientHello), length.
  if (chunk.length < 9 || chunk[0] !== 22 || chunk[5] !== 1) return false;
  const end = Math.min(chunk.length, 5 + chunk.readUInt16BE(3));
  // client_version (2) and random (32), then session_id, cipher_suites and compression_methods.
  let at = 9 + 2 + 32;
  if (at >= end) return false;
  at += 1 + chunk[at];
  if (at + 2 > end) return false;
  at += 2 + chunk.readUInt16BE(at);
  if (at >= end) return false;
  at += 1 + chunk[at];
  if (at + 2 > end) return false;
  const extEnd = Math.min(end, at + 2 + chunk.readUInt16BE(at));
  at += 2;
  while (at + 4 <= extEnd) {
    const type = chunk.readUInt16BE(at);
    const length = chunk.readUInt16BE(at + 2);
    if (type === EXT_PRE_SHARED_KEY || (type === EXT_SESSION_TICKET && length > 0)) return true;
    at += 4 + length;
  }
  return false;
}
