/**
 * The token embedding table, outside the decoder graph: SPEC §6 feeds `inputs_embeds` that mix
 * token embeddings with the image token and the prompt learner's 18 vectors, so the lookup is a
 * plain typed-array row copy into the caller's buffer.
 */
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { AppError, ErrorCodes } from '../../errors.js';

export class EmbeddingTable {
  constructor(
    /** Row-major [vocabSize, hidden]. */
    readonly table: Float32Array,
    readonly vocabSize: number,
    readonly hidden: number,
  ) {
    if (table.length !== vocabSize * hidden) {
      throw new AppError(ErrorCodes.MODEL_SHAPE, `embedding table has ${table.length} floats, expected ${vocabSize}×${hidden}`);
    }
  }

  /** Reads a raw little-endian float32 file of shape [vocabSize, hidden]. */
  static async read(path: string, vocabSize: number, hidden: number): Promise<EmbeddingTable> {
    const bytes = await readFile(path);
    const expected = vocabSize * hidden * 4;
    if (bytes.byteLength !== expected) {
      throw new AppError(ErrorCodes.MODEL_SHAPE, `${path}: ${bytes.byteLength} bytes, expected ${expected} for float32 [${vocabSize}, ${hidden}]`);
    }
    let table: Float32Array;
    if (endianness() === 'LE' && bytes.byteOffset % 4 === 0) {
      table = new Float32Array(bytes.buffer, bytes.byteOffset, vocabSize * hidden);
    } else {
      table = new Float32Array(vocabSize * hidden);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < table.length; i++) table[i] = view.getFloat32(4 * i, true);
    }
    return new EmbeddingTable(table, vocabSize, hidden);
  }

  /** Row of token `id` (a view, not a copy). */
  row(id: number): Float32Array {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new AppError(ErrorCodes.LLM_TOKENIZER, `token id ${id} is outside the embedding table (0…${this.vocabSize - 1})`);
    }
    return this.table.subarray(id * this.hidden, (id + 1) * this.hidden);
  }

  /**
   * Embeddings of `ids`, written at row `atRow` of `out` (allocated when absent, ids.length rows),
   * so callers can assemble text, image and prompt-learner rows in one buffer.
   */
  lookup(ids: readonly number[], out?: Float32Array, atRow = 0): Float32Array {
    const dst = out ?? new Float32Array(ids.length * this.hidden);
    if ((atRow + ids.length) * this.hidden > dst.length) {
      throw new AppError(ErrorCodes.MODEL_SHAPE, `embedding buffer of ${dst.length / this.hidden} rows cannot take ${ids.length} rows at ${atRow}`);
    }
    ids.forEach((id, i) => dst.set(this.row(id), (atRow + i) * this.hidden));
    return dst;
  }
}
