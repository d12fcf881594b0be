// `npm run services -- up|down|status`: the local PostgreSQL, Redis and Kafka without Docker.
// Exit codes: 0 done / all up, 1 a service failed or is down, 2 usage.
import { ensureChromium, formatStatus, servicesDown, servicesStatus, servicesUp } from './index.ts';

const usage = `usage: npm run services -- <command>

  up       install what is missing, start PostgreSQL, Redis and Kafka, write .env
  ensure   \`up\`, unless DATABASE_URL, REDIS_URL and KAFKA_BROKERS are all set in the
           environment (then someone else runs the services); what \`npm start\` does first
  status   one line per service; exits 1 if any is down
  down     stop what \`up\` started
  chromium install Debian's chromium (for the browser test) unless /usr/bin/chromium exists

Settings: KEYFLOW_SERVICES_DIR (default .keyflow/services), KEYFLOW_SERVICES_PROFILE (dev|test),
KEYFLOW_PG_PORT (55432), KEYFLOW_REDIS_PORT (56379), KEYFLOW_KAFKA_PORT (59092),
KEYFLOW_KAFKA_CONTROLLER_PORT (59093).`;

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'up': {
      const started = Date.now();
      const result = await servicesUp();
      for (const [name, what] of Object.entries(result)) console.log(`${name.padEnd(10)}${what}`);
      console.log(`keyflow services: ready in ${((Date.now() - started) / 1000).toFixed(1)} s; connection settings in .env`);
      return 0;
    }
    case 'ensure': {
      const given = ['DATABASE_URL', 'REDIS_URL', 'KAFKA_BROKERS'].filter((name) => process.env[name]);
      if (given.length === 3) {
        console.log('keyflow services: DATABASE_URL, REDIS_URL and KAFKA_BROKERS are set; not starting local services');
        return 0;
      }
      return main('up');
    }
    case 'status': {
      const statuses = await servicesStatus();
      for (const s of statuses) console.log(formatStatus(s));
      return statuses.every((s) => s.up) ? 0 : 1;
    }
    case 'down': {
      const result = await servicesDown();
      for (const [name, what] of Object.entries(result)) console.log(`${name.padEnd(10)}${what}`);
      return 0;
    }
    case 'chromium': {
      console.log(`chromium  ${await ensureChromium()}`);
      return 0;
    }
    default:
      console.error(usage);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv[2]);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
