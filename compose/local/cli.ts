// `npm run services -- up|down|status`: the local PostgreSQL, Redis and Kafka without Docker,
// and Jaeger and Prometheus when named.
// Exit codes: 0 done / all up, 1 a service failed or is down, 2 usage.
import { join } from 'node:path';
import { allServices, connectJars, coreServices, ensureChromium, ensureEnvSecret, javaProducer, loadSettings, formatStatus, observabilityServices, repoRoot, servicesDown, servicesStatus, servicesUp, type ServiceName } from './index.ts';

const usage = `usage: npm run services -- <command> [service…]

  up       install what is missing, start PostgreSQL, Redis and Kafka, write .env
           (and KEYFLOW_EDGE_TOKEN into it, generated once and then kept);
           with names, start those instead: \`up jaeger prometheus\`, \`up all\`
           (Jaeger is built from its Go module the first time: about 6 minutes)
  ensure   \`up\`, unless DATABASE_URL, REDIS_URL and KAFKA_BROKERS are all set in the
           environment (then someone else runs the services); what \`npm start\` does first
  status   one line per service; exits 1 if any of PostgreSQL, Redis, Kafka is down
  down     stop what \`up\` started
  chromium install Debian's chromium (for the browser test) unless /usr/bin/chromium exists
  producers install kcat and a JDK when missing and compile the Java test producer (for
           test/producers.test.ts; \`npm test\` does it before that file)
  connect  fetch the Kafka Connect 3.9.1 worker and Debezium's JDBC sink from Maven Central
           into .keyflow/services/connect (cached; the bench's \`--baselines peer\` runs it)

Settings: KEYFLOW_SERVICES_DIR (default .keyflow/services), KEYFLOW_SERVICES_PROFILE (dev|test),
KEYFLOW_PG_PORT (55432), KEYFLOW_REDIS_PORT (56379), KEYFLOW_KAFKA_PORT (59092),
KEYFLOW_KAFKA_CONTROLLER_PORT (59093), KEYFLOW_PROMETHEUS_PORT (59090). Jaeger listens on its
fixed ports: OTLP 4317 (gRPC) and 4318 (HTTP), query API 16686.`;

/** The services named on the command line (`all` = every one), or undefined if one is unknown. */
function selected(args: readonly string[]): readonly ServiceName[] | undefined {
  if (args.length === 0) return coreServices;
  if (args.includes('all')) return allServices;
  return args.every((a) => (allServices as readonly string[]).includes(a)) ? (args as ServiceName[]) : undefined;
}

async function main(command: string | undefined, args: readonly string[] = []): Promise<number> {
  switch (command) {
    case 'up': {
      const names = selected(args);
      if (names === undefined) {
        console.error(`unknown service among ${args.join(' ')}; known: ${allServices.join(', ')}, all`);
        return 2;
      }
      const started = Date.now();
      const result = await servicesUp(process.env, names);
      for (const [name, what] of Object.entries(result)) console.log(`${name.padEnd(11)}${what}`);
      const envNote = names.some((n) => coreServices.includes(n)) ? '; connection settings in .env' : '';
      console.log(`keyflow services: ready in ${((Date.now() - started) / 1000).toFixed(1)} s${envNote}`);
      return 0;
    }
    case 'ensure': {
      const given = ['DATABASE_URL', 'REDIS_URL', 'KAFKA_BROKERS'].filter((name) => process.env[name]);
      if (given.length === 3) {
        console.log('keyflow services: DATABASE_URL, REDIS_URL and KAFKA_BROKERS are set; not starting local services');
        // keyflow still needs the deployment's secret, the same at every start (never printed).
        if (process.env['KEYFLOW_EDGE_TOKEN'] === undefined && (await ensureEnvSecret(join(repoRoot, '.env'), 'KEYFLOW_EDGE_TOKEN'))) {
          console.log('keyflow services: generated KEYFLOW_EDGE_TOKEN into .env (kept for every later start)');
        }
        return 0;
      }
      return main('up');
    }
    case 'status': {
      const statuses = await servicesStatus();
      for (const s of statuses) console.log(formatStatus(s));
      return statuses.every((s) => s.up || observabilityServices.includes(s.name)) ? 0 : 1;
    }
    case 'down': {
      const result = await servicesDown();
      for (const [name, what] of Object.entries(result)) console.log(`${name.padEnd(11)}${what}`);
      return 0;
    }
    case 'connect': {
      const started = Date.now();
      const jars = await connectJars(loadSettings(process.env));
      console.log(`connect   ${jars.classpath.split(':').length} worker jars, plugins in ${jars.pluginPath} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return 0;
    }
    case 'chromium': {
      console.log(`chromium  ${await ensureChromium()}`);
      return 0;
    }
    case 'producers': {
      const p = await javaProducer(loadSettings(process.env));
      console.log(`producers kcat and ${p.mainClass} (${p.classpath.split(':').length} classpath entries)`);
      return 0;
    }
    default:
      console.error(usage);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv[2], process.argv.slice(3));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
