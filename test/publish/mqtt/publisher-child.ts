/**
 * A publisher in its own process, so a test can SIGKILL it and watch the broker publish the
 * last will (`offline`, Sparkplug NDEATH). Args: JSON { config, stateDirectory, cameras }.
 * Prints "connected" once the broker accepted it; stdin "burst N" publishes N verdicts and
 * prints "published <id>" as each publish() resolves.
 */
import { createInterface } from 'node:readline';
import { TestCamera, TestControl, frameOf, makePublisher, sleep } from './fixtures.js';

if (process.argv[2] === undefined) {
  // run by `tap <dir>` as if it were a test file: say so in TAP and leave
  process.stdout.write('1..0 # SKIP helper process for the MQTT tests, not a test\n');
  process.exit(0);
}
const args = JSON.parse(process.argv[2]) as { config: Parameters<typeof makePublisher>[1]; stateDirectory: string; cameras: string[] };
const control = new TestControl(args.cameras.map((id) => new TestCamera(id)));
const publisher = makePublisher(control, args.config, args.stateDirectory);
await publisher.start(new AbortController().signal);
while (!publisher.status().connected || (args.config.sparkplug?.enabled && !publisher.status().sparkplug?.connected)) await sleep(10);
await sleep(200); // let the births / online status go out
process.stdout.write('connected\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, n] = line.split(' ');
  if (cmd !== 'burst') return;
  void (async () => {
    // one after another, as a camera pipeline does; "published" = publish() resolved (on disk)
    for (let i = 0; i < Number(n); i++) {
      const v = control.cameras[0].next();
      await publisher.publish(v, frameOf(v));
      process.stdout.write(`published ${v.id}\n`);
    }
  })();
});
