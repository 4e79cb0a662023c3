/**
 * The daemon meets the bad inputs in a folder camera: a real 20000×20000 PNG (49 kB
 * on disk; decoding it aborted the process) and a 1×1 image. It keeps running, inspects the
 * good images, counts the refused ones by code, and after a restart goes on after the last
 * file it read instead of starting over into the same files.
 */
import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { validateConfig, type Config } from '../../src/config/index.js';
import { App } from '../../src/daemon/app.js';
import { folderPositionFile } from '../../src/daemon/camera-source.js';
import { realPalettePng } from '../support/image-bytes.js';
import { defaultBundleDir } from '../support/bundle.js';
import { capturingLogger } from '../support/logger.js';
import { until } from '../support/wait.js';
import { writeSimImages } from '../pipeline/helpers.js';
import { daemonTestdir } from '../support/testdir.js';

async function testConfig(dir: string): Promise<Config> {
  return validateConfig(
    {
      stateDirectory: join(dir, 'state'),
      inference: { bundle: await defaultBundleDir(), executionProviders: ['cpu'], warmupRuns: 1 },
      cameras: [
        // Only there to calibrate the shared recipe at the first start; never triggered.
        { id: 'cam-sim', recipe: 'sim-part', source: { kind: 'sim', width: 320, height: 240, seed: 3 }, trigger: { mode: 'on-demand' } },
        { id: 'cam-folder', recipe: 'sim-part', source: { kind: 'folder', path: 'replay', loop: false }, trigger: { mode: 'on-demand' } },
      ],
      archive: { saveFrames: 'none' },
      http: { enabled: false },
      shutdown: { stepTimeoutMs: 5000 },
    },
    'test',
    { baseDir: dir, env: {} },
  );
}

t.test('huge and tiny images in a folder: refused by code, the daemon runs on and resumes after a restart', async (t) => {
  const dir = daemonTestdir(t);
  const replay = join(dir, 'replay');
  mkdirSync(replay);
  await writeSimImages(replay, [1, 2, 4, 6, 7], { seed: 3, clean: true, prefix: 'f' });
  writeFileSync(join(replay, 'f3.png'), realPalettePng(20000, 20000));
  writeFileSync(join(replay, 'f5.png'), realPalettePng(1, 1));
  const config = await testConfig(dir);
  const origin = (v: { frame: { origin: string } }) => basename(v.frame.origin);

  const { logger, lines } = capturingLogger('info');
  const first = new App({ config, logger });
  t.teardown(() => first.stop());
  t.ok((await first.start()).ok, 'started');
  const cam = first.pipeline('cam-folder')!;
  t.equal(origin(await cam.trigger()), 'f1.png');
  t.equal(origin(await cam.trigger()), 'f2.png');
  t.equal(origin(await cam.trigger()), 'f4.png', 'the 20000×20000 PNG was skipped');
  await t.rejects(cam.trigger(), { code: 'E_IMAGE_TOO_SMALL', message: /f5\.png: 1×1/ }, 'the 1×1 image is refused, not judged');
  const status = first.status();
  t.equal(status.state, 'running', 'still running');
  t.match(status.cameras['cam-folder'], {
    counters: { inspected: 3, errors: 1, errorsByCode: { E_IMAGE_TOO_SMALL: 1 } },
    camera: { stats: { unreadable: 1, unreadableByCode: { E_IMAGE_TOO_LARGE: 1 } } },
    lastError: { code: 'E_IMAGE_TOO_SMALL' },
  });
  t.ok(lines.some((l) => l.msg === 'skipping unreadable image' && l.code === 'E_IMAGE_TOO_LARGE'), 'the skipped file is logged with its code');
  t.match(JSON.parse(readFileSync(folderPositionFile(config.stateDirectory, 'cam-folder'), 'utf8')), { last: 'f5.png' });
  t.ok((await first.stop()).ok, 'stopped');

  // The restart (systemd, or a crash): the same state directory.
  const second = new App({ config, logger: capturingLogger('warn').logger });
  t.teardown(() => second.stop());
  t.ok((await second.start()).ok, 'restarted');
  const again = second.pipeline('cam-folder')!;
  t.equal(origin(await again.trigger()), 'f6.png', 'goes on after the last file read, not from f1.png');
  t.equal(origin(await again.trigger()), 'f7.png');
  await t.rejects(again.trigger(), { code: 'E_CAMERA_READ' }, 'then the non-looping folder ends');
  t.match(second.status().cameras['cam-folder'], { counters: { inspected: 2, errors: 0 }, camera: { stats: { unreadable: 0 } } }, 'the bad files are not read again');
  await second.stop();
});

t.test('frames of a camera (not files) above images.maxPixels are refused before inspection and counted', async (t) => {
  const dir = daemonTestdir(t);
  const config = validateConfig(
    {
      stateDirectory: join(dir, 'state'),
      inference: { bundle: await defaultBundleDir(), executionProviders: ['cpu'], warmupRuns: 1 },
      // 320×240 = 76 800 pixels per frame.
      images: { maxPixels: 70_000 },
      cameras: [{ id: 'cam', recipe: 'sim-part', source: { kind: 'sim', width: 320, height: 240, seed: 3 }, trigger: { mode: 'free-run', fps: 0 } }],
      archive: { saveFrames: 'none' },
      http: { enabled: false },
    },
    'test',
    { baseDir: dir, env: {} },
  );
  const app = new App({ config, logger: capturingLogger('warn').logger });
  t.teardown(() => app.stop());
  t.ok((await app.start()).ok);
  const p = app.pipeline('cam')!;
  await until(() => (p.counters.errorsByCode.E_IMAGE_TOO_LARGE ?? 0) >= 3, 10_000, '3 refused frames', 10);
  await app.stop();
  t.ok((p.counters.errorsByCode.E_IMAGE_TOO_LARGE ?? 0) >= 3, 'refused frames counted by code');
  t.equal(p.counters.inspected, 0, 'none was inspected');
  t.match(p.status().lastError, { code: 'E_IMAGE_TOO_LARGE', message: /frame of 320×240 .* refused: above images\.maxPixels 70000/ });
});
