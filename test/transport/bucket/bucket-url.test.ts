import { describe, expect, it } from 'vitest';
import { OkesuError } from '../../../src/errors.js';
import { parseBucketUrl } from '../../../src/transport/bucket/bucket-url.js';

describe('parseBucketUrl', () => {
  it.each([
    ['s3://jobs', {}, { bucket: 'jobs', prefix: '' }],
    ['s3://jobs/', {}, { bucket: 'jobs', prefix: '' }],
    ['s3://my.jobs-1/okesu', {}, { bucket: 'my.jobs-1', prefix: 'okesu' }],
    ['s3://jobs/okesu/prod/', {}, { bucket: 'jobs', prefix: 'okesu/prod' }],
    ['s3://jobs/ünïcode pre fix', {}, { bucket: 'jobs', prefix: 'ünïcode pre fix' }],
    ['s3://jobs/p', { endpoint: 'http://127.0.0.1:7480' }, { bucket: 'jobs', prefix: 'p', endpoint: 'http://127.0.0.1:7480' }],
    ['s3://jobs/p', { endpoint: 'https://s3.example.com/' }, { bucket: 'jobs', prefix: 'p', endpoint: 'https://s3.example.com' }],
    ['s3://jobs', { region: 'eu-west-3' }, { bucket: 'jobs', prefix: '', region: 'eu-west-3' }],
  ])('%s %j', (url, flags, expected) => {
    expect(parseBucketUrl(url, flags)).toEqual(expected);
  });

  it.each([
    ['jobs/okesu', {}, '--bucket must look like s3://BUCKET[/PREFIX], got "jobs/okesu"'],
    ['https://jobs.s3.amazonaws.com/x', {}, '--bucket must look like s3://BUCKET[/PREFIX]'],
    ['S3://jobs', {}, '--bucket must look like'],
    ['s3://', {}, '--bucket has no bucket name'],
    ['s3:///okesu', {}, '--bucket has no bucket name'],
    ['s3://Jobs', {}, 'bucket name "Jobs" is not a valid S3 bucket name'],
    ['s3://ab', {}, 'bucket name "ab" is not a valid'],
    [`s3://${'a'.repeat(64)}`, {}, 'is not a valid S3 bucket name'],
    ['s3://jobs_1', {}, 'is not a valid S3 bucket name'],
    ['s3://-jobs', {}, 'is not a valid S3 bucket name'],
    ['s3://jobs.', {}, 'is not a valid S3 bucket name'],
    ['s3://jo..bs', {}, 'is not a valid S3 bucket name'],
    ['s3://192.168.1.10', {}, 'is not a valid S3 bucket name'],
    ['s3://jobs:9000/x', {}, '--bucket must not carry credentials or a port'],
    ['s3://jobs//okesu', {}, 'has an empty segment'],
    ['s3://jobs/a//b', {}, 'has an empty segment'],
    ['s3://jobs/a/../b', {}, 'has a ".." segment'],
    ['s3://jobs/./b', {}, 'has a "." segment'],
    ['s3://jobs/a\nb', {}, '--bucket prefix contains a control character'],
    ['s3://jobs/a\u0000b', {}, 'control character'],
    [`s3://jobs/${'p'.repeat(513)}`, {}, 'prefix is longer than 512 bytes'],
    ['s3://jobs', { endpoint: 'not a url' }, '--s3-endpoint is not a URL: "not a url"'],
    ['s3://jobs', { endpoint: 'ftp://127.0.0.1' }, '--s3-endpoint must be an http:// or https:// URL, got "ftp:"'],
    ['s3://jobs', { endpoint: 'http://127.0.0.1:7480/bucket' }, "--s3-endpoint must be the server's root URL"],
    ['s3://jobs', { endpoint: 'http://127.0.0.1:7480/?x=1' }, '--s3-endpoint must not have a query'],
    ['s3://jobs', { endpoint: 'http://[::1' }, '--s3-endpoint is not a URL'],
    ['s3://jobs', { region: 'EU West' }, '--s3-region "EU West" is not a region name'],
    ['s3://jobs', { region: '' }, '--s3-region "" is not a region name'],
  ])('refuses %j %j', (url, flags, message) => {
    let err: unknown;
    try {
      parseBucketUrl(url, flags);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OkesuError);
    expect((err as OkesuError).code).toBe('OKS_ERR_CONFIG');
    expect((err as OkesuError).message).toContain(message);
  });

  it.each([
    ['s3://AKIAEXAMPLE:hunter2secret@jobs/okesu', {}],
    ['s3://hunter2secret@jobs', {}],
    ['https://AKIAEXAMPLE:hunter2secret@s3.example.com/jobs', {}],
    ['s3://jobs', { endpoint: 'http://AKIAEXAMPLE:hunter2secret@127.0.0.1:7480' }],
    ['s3://jobs', { endpoint: 'http://hunter2secret@127.0.0.1:7480' }],
    ['s3://jobs', { endpoint: 'ftp://AKIAEXAMPLE:hunter2secret@[bad' }],
  ])('refuses credentials in %j %j without echoing them', (url, flags) => {
    expect(() => parseBucketUrl(url, flags)).toThrow(OkesuError);
    try {
      parseBucketUrl(url, flags);
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2secret');
      expect((e as Error).message).toMatch(/--bucket|--s3-endpoint/);
    }
  });
});
