import { OkesuError } from '../../errors.js';
import type { BucketLocation } from './bucket.js';

/** The flags that come with `--bucket`: `--s3-endpoint` and `--s3-region`. */
export interface BucketFlags {
  endpoint?: string;
  region?: string;
}

const MAX_PREFIX_BYTES = 512;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4_LIKE = /^\d{1,3}(\.\d{1,3}){3}$/;
const REGION = /^[a-z0-9][a-z0-9-]{0,62}$/;
// eslint-disable-next-line no-control-regex -- the point is to refuse control characters
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Parses `--bucket s3://BUCKET[/PREFIX]` with `--s3-endpoint` and `--s3-region` into a location, or throws
 * OKS_ERR_CONFIG naming the flag and what is wrong. Credentials never belong in any of them (the SDK's default chain
 * supplies those), so a value carrying some is refused without being echoed.
 */
export function parseBucketUrl(url: string, flags: BucketFlags): BucketLocation {
  const location: BucketLocation = { ...parseS3Url(url) };
  if (flags.endpoint !== undefined) location.endpoint = parseEndpoint(flags.endpoint);
  if (flags.region !== undefined) location.region = parseRegion(flags.region);
  return location;
}

function parseS3Url(url: string): { bucket: string; prefix: string } {
  const fail = (why: string): never => {
    throw new OkesuError('OKS_ERR_CONFIG', `--bucket ${why}`);
  };
  if (!url.startsWith('s3://')) fail(`must look like s3://BUCKET[/PREFIX], got ${quote(url)}`);
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (bucket.includes('@') || bucket.includes(':')) fail('must not carry credentials or a port: give the bucket name only (credentials come from the AWS environment, the endpoint from --s3-endpoint)');
  if (bucket === '') fail(`has no bucket name: ${quote(url)}`);
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..') || IPV4_LIKE.test(bucket)) {
    fail(`bucket name ${quote(bucket)} is not a valid S3 bucket name (3–63 characters: lower-case letters, digits, dots and dashes, starting and ending with a letter or digit)`);
  }
  // One trailing slash is a common way to write a folder; it means the same prefix.
  let prefix = slash < 0 ? '' : rest.slice(slash + 1);
  if (prefix.endsWith('/')) prefix = prefix.slice(0, -1);
  if (prefix === '') return { bucket, prefix: '' };
  if (CONTROL.test(prefix)) fail('prefix contains a control character');
  if (Buffer.byteLength(prefix) > MAX_PREFIX_BYTES) fail(`prefix is longer than ${MAX_PREFIX_BYTES} bytes`);
  for (const segment of prefix.split('/')) {
    if (segment === '') fail(`prefix ${quote(prefix)} has an empty segment (a leading slash or "//")`);
    if (segment === '.' || segment === '..') fail(`prefix ${quote(prefix)} has a "${segment}" segment`);
  }
  return { bucket, prefix };
}

function parseEndpoint(endpoint: string): string {
  const fail = (why: string): never => {
    throw new OkesuError('OKS_ERR_CONFIG', `--s3-endpoint ${why}`);
  };
  const u = URL.canParse(endpoint) ? new URL(endpoint) : fail(`is not a URL: ${quote(endpoint)}`);
  if (u.username !== '' || u.password !== '') fail('must not carry credentials (they come from the AWS environment: AWS_ACCESS_KEY_ID, AWS_PROFILE, …)');
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(`must be an http:// or https:// URL, got ${quote(u.protocol)}`);
  if (u.search !== '' || u.hash !== '') fail('must not have a query or a fragment');
  if (u.pathname !== '/' && u.pathname !== '') fail(`must be the server's root URL (scheme, host and port), not a path: ${quote(u.pathname)}`);
  return u.origin;
}

function parseRegion(region: string): string {
  if (!REGION.test(region)) throw new OkesuError('OKS_ERR_CONFIG', `--s3-region ${quote(region)} is not a region name (lower-case letters, digits and dashes, e.g. us-east-1)`);
  return region;
}

/** A user's value for a message: any `user:password@` withheld, shortened, JSON-quoted so control characters show. */
function quote(value: string): string {
  const safe = value.replace(/\/\/[^/]*@/, '//…@');
  return JSON.stringify(safe.length > 80 ? `${safe.slice(0, 80)}…` : safe);
}

/** `s3://bucket[/prefix]`: how a bucket is named in an identity, logs and messages (what parseBucketUrl reads back). */
export function bucketUrl(location: Pick<BucketLocation, 'bucket' | 'prefix'>): string {
  return `s3://${location.bucket}${location.prefix === '' ? '' : `/${location.prefix}`}`;
}
