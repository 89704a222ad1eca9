// Public surface of the AWS provider.
export { AwsProvider } from './aws-provider.ts';
export { DEFAULT_SUBNET_TAGS, TAGS, type AwsProviderOptions } from './options.ts';
export { Ec2RateLimiter, bucketOf, defaultRate, type BucketRate, type Ec2Bucket } from './rate-limiter.ts';
export { DEFAULT_BACKOFF, type BackoffPolicy } from '../../kit/retry.ts';
export { mapAwsError } from './aws-errors.ts';
export type { Ec2Transport } from './ec2-types.ts';
export { Ec2QueryClient, regionalEndpoint, type Ec2QueryOptions } from './ec2-query.ts';
