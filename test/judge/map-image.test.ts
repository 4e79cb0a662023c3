/** The anomaly map as an 8-bit image (src/judge/map-image.ts): 128 = the boundary, 255 = twice it. */
import t from 'tap';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { mapLevels, mapPng } from '../../src/judge/map-image.js';

t.test('levels: 0 → 0, the boundary → 128, twice it or more → 255, below 0 and NaN → 0', async (t) => {
  const b = 0.2;
  t.same([...mapLevels([0, b / 2, b, 1.5 * b, 2 * b, 10 * b, -1, Number.NaN], b)], [0, 64, 128, 191, 255, 255, 0, 0]);
});

t.test('mapPng is a decodable single-channel PNG of the map\'s own size with those levels', async (t) => {
  const data = new Float32Array([0, 0.1, 0.2, 0.4, 0.05, 0.3]);
  const png = mapPng({ width: 3, height: 2, data }, 0.2);
  const mat = loadOpenCv().imdecode(png, loadOpenCv().IMREAD_UNCHANGED);
  t.same([mat.cols, mat.rows, mat.channels], [3, 2, 1]);
  t.same([...mat.getData()], [0, 64, 128, 255, 32, 191]);
  t.throws(() => mapPng({ width: 4, height: 2, data }, 0.2), RangeError, 'a map whose size does not match its data');
});
