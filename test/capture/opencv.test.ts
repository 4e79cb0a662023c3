import t from 'tap';
import { loadOpenCv } from '../../src/capture/opencv.js';

t.test('opencv loads and encodes/decodes a PNG round trip', async (t) => {
  const cv = loadOpenCv();
  const m = new cv.Mat(8, 12, cv.CV_8UC3, [10, 20, 30]);
  const png = cv.imencode('.png', m);
  const back = cv.imdecode(png);
  t.equal(back.cols, 12);
  t.equal(back.rows, 8);
  t.same([...back.getData().subarray(0, 3)], [10, 20, 30]);
});
