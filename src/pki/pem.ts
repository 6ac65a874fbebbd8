/** Encodes DER bytes as one PEM block with the given label (e.g. `CERTIFICATE`), 64 characters a line. */
export function encodePem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  return `-----BEGIN ${label}-----\n${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;
}

/** Decodes the first PEM block with the given label, or returns undefined when there is none or its body is not base64. */
export function decodePem(pem: string, label: string): Buffer | undefined {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`-----BEGIN ${escaped}-----([^-]*)-----END ${escaped}-----`).exec(pem);
  if (!match) return undefined;
  const body = (match[1] ?? '').replace(/\s+/g, '');
  if (body.length === 0 || body.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return undefined;
  return Buffer.from(body, 'base64');
}
