// `npm run secrets`: generate the gitignored env files docker-compose.yml and the Kubernetes
// base read their secrets from (compose/keyflow.secrets.env, compose/k8s/base/keyflow.secrets.env). Values
// already in a file are kept. Prints which variables it wrote, never their values.
import { ensureSecretFile, secretFiles } from './secrets.ts';

const compose = await ensureSecretFile(secretFiles.compose);
// In the cluster, keyflow reaches its database and Redis by their service names: edit these to yours.
const k8s = await ensureSecretFile(secretFiles.k8s, { DATABASE_URL: 'postgres://keyflow@postgres:5432/keyflow', REDIS_URL: 'redis://redis:6379' });
for (const [file, written] of [[secretFiles.compose, compose], [secretFiles.k8s, k8s]] as const) {
  console.log(`${file}: ${written.length === 0 ? 'every secret already set' : `wrote ${written.join(', ')}`}`);
}
