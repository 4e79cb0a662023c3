import t from 'tap';
import { SparkplugTopics, TopicError, Topics, checkPrefix } from '../../../src/publish/mqtt/topics.js';

t.test('topic names under the prefix', async (t) => {
  const topics = new Topics('plant/line1');
  t.equal(topics.status, 'plant/line1/status');
  t.equal(topics.inspection('cam-1'), 'plant/line1/cam-1/inspection');
  t.equal(topics.mask('cam-1'), 'plant/line1/cam-1/mask');
  t.equal(topics.maskOf('cam-1', 'cam-1-1700000000000-7'), 'plant/line1/cam-1/mask/cam-1-1700000000000-7');
  t.equal(topics.state('cam-1'), 'plant/line1/cam-1/state');
  t.equal(topics.command('cam-1', 'trigger'), 'plant/line1/cam-1/cmd/trigger');
  t.equal(topics.reply('plant/line1/cam-1/cmd/recipe'), 'plant/line1/cam-1/cmd/recipe/reply');
  t.equal(topics.commandFilter, 'plant/line1/+/cmd/+');
});

t.test('wildcards, NUL, empty levels and $ are refused', async (t) => {
  for (const bad of ['', 'a/#', 'a/+/b', 'a//b', '/a', 'a/', 'a\u0000b', '$SYS']) {
    t.throws(() => checkPrefix(bad), TopicError, `prefix ${JSON.stringify(bad)}`);
  }
  const topics = new Topics('p');
  for (const bad of ['a/b', 'a+', '#', '', 'x\u0000']) t.throws(() => topics.inspection(bad), TopicError, `camera ${JSON.stringify(bad)}`);
  t.throws(() => topics.maskOf('cam', 'id/with/slash'), TopicError);
});

t.test('command topics parse back; others do not', async (t) => {
  const topics = new Topics('p/q');
  t.same(topics.parseCommand('p/q/cam/cmd/trigger'), { cameraId: 'cam', command: 'trigger' });
  t.same(topics.parseCommand('p/q/cam/cmd/reboot'), { cameraId: 'cam', command: 'reboot' });
  t.equal(topics.parseCommand('p/q/cam/cmd/trigger/reply'), undefined);
  t.equal(topics.parseCommand('p/cam/cmd/trigger'), undefined);
  t.equal(topics.parseCommand('p/q/cam/inspection'), undefined);
});

t.test('Sparkplug B namespace', async (t) => {
  const s = new SparkplugTopics('G', 'E');
  t.equal(s.node('NBIRTH'), 'spBv1.0/G/NBIRTH/E');
  t.equal(s.device('DDATA', 'cam'), 'spBv1.0/G/DDATA/E/cam');
  t.equal(s.deviceCommandFilter, 'spBv1.0/G/DCMD/E/+');
  t.equal(s.parseDeviceCommand('spBv1.0/G/DCMD/E/cam'), 'cam');
  t.equal(s.parseDeviceCommand('spBv1.0/G/DCMD/X/cam'), undefined);
  t.throws(() => new SparkplugTopics('a/b', 'E'), TopicError);
  t.throws(() => new SparkplugTopics('G', 'E+'), TopicError);
});
