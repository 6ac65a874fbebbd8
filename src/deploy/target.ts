/** An SSH target of `okesu deploy`: who to log in as, where. */
export interface SshTarget {
  user: string;
  /** A DNS name, an IPv4 address, or an IPv6 address (without brackets). */
  host: string;
  port: number;
  /** The normalised form the CP keys pins and audit entries by: `user@host:port` (IPv6 in brackets). */
  text: string;
}

const NAME = /^[A-Za-z0-9._-]+$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

/**
 * Parses `[user@]HOST[:PORT]` (`[v6]:PORT` for IPv6 with a port; a bare IPv6 address takes port 22); `defaultUser`
 * when no user is given. Throws an Error saying what is wrong with the text.
 */
export function parseTarget(text: string, defaultUser: string): SshTarget {
  const at = text.lastIndexOf('@');
  const user = at >= 0 ? text.slice(0, at) : defaultUser;
  const rest = at >= 0 ? text.slice(at + 1) : text;
  if (!NAME.test(user)) throw new Error(`"${text}": the user must be letters, digits, dots, dashes or underscores`);
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new Error(`"${text}": missing "]" after the IPv6 address`);
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw new Error(`"${text}": expected ":PORT" after "]"`);
    portText = after === '' ? undefined : after.slice(1);
    if (!IPV6.test(host) || !host.includes(':')) throw new Error(`"${text}": "${host}" is not an IPv6 address`);
  } else if ((rest.match(/:/g) ?? []).length > 1) {
    host = rest;
    if (!IPV6.test(host)) throw new Error(`"${text}": "${host}" is not an IPv6 address (write [ADDRESS]:PORT with a port)`);
  } else {
    const colon = rest.indexOf(':');
    host = colon >= 0 ? rest.slice(0, colon) : rest;
    portText = colon >= 0 ? rest.slice(colon + 1) : undefined;
    if (!NAME.test(host)) throw new Error(`"${text}": the host must be a name or an address`);
  }
  const port = portText === undefined ? 22 : Number(portText);
  if (portText !== undefined && (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535)) throw new Error(`"${text}": the port must be 1-65535`);
  const hostText = host.includes(':') ? `[${host}]` : host;
  return { user, host, port, text: `${user}@${hostText}:${port}` };
}
