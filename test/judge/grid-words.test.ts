import t from 'tap';
import { describeLocations, gridWord, gridWordFromFractions } from '../../src/judge/grid-words.js';

t.test('all nine words from the SPEC §7 table', async (t) => {
  // Centres of the nine cells of a 300×300 image (x = column, y = row).
  const expected = [
    ['top left', 'top', 'top right'],
    ['left', 'center', 'right'],
    ['bottom left', 'bottom', 'bottom right'],
  ];
  for (let row = 0; row < 3; row++) {
    for (let col = 0; col < 3; col++) {
      t.equal(gridWord(col * 100 + 50, row * 100 + 50, 300, 300), expected[row][col], `cell ${row},${col}`);
    }
  }
});

t.test('band edges: exactly 1/3 and 2/3 belong to the lower band', async (t) => {
  t.equal(gridWordFromFractions(1 / 3, 1 / 3), 'top left');
  t.equal(gridWordFromFractions(2 / 3, 2 / 3), 'center');
  t.equal(gridWordFromFractions(1 / 3 + 1e-9, 0), 'left');
  t.equal(gridWordFromFractions(2 / 3 + 1e-9, 1), 'bottom right');
  // In pixels: row 74.666… of 224 is exactly 1/3, integer examples too.
  t.equal(gridWord(0, 224 / 3, 224, 224), 'top left');
  t.equal(gridWord(2, 2, 6, 6), 'top left');
  t.equal(gridWord(4, 4, 6, 6), 'center');
  t.equal(gridWord(5, 4, 6, 6), 'right');
  t.equal(gridWord(0, 0, 6, 6), 'top left');
  t.equal(gridWord(6, 6, 6, 6), 'bottom right');
});

t.test('rows and columns are not swapped (the original names the row fraction center_x)', async (t) => {
  // A point at the far right, top row of a wide image.
  t.equal(gridWord(900, 10, 1000, 200), 'top right');
  t.equal(gridWord(10, 190, 1000, 200), 'bottom left');
});

t.test('gridWord rejects a bad size or point', async (t) => {
  t.throws(() => gridWord(1, 1, 0, 10), RangeError);
  t.throws(() => gridWord(Number.NaN, 1, 10, 10), RangeError);
});

t.test('describeLocations builds the answer phrases', async (t) => {
  t.equal(describeLocations([]), '');
  t.equal(describeLocations(['bottom left']), 'at the bottom left of the image');
  t.equal(describeLocations(['top', 'bottom right']), 'at the top and bottom right of the image');
  t.equal(describeLocations(['top', 'top']), 'at the top of the image');
  t.equal(describeLocations(['right', 'top', 'right', 'center']), 'at the right, top and center of the image');
});
