/**
 * A captured frame: 8-bit interleaved pixels straight from OpenCV (BGR order, or one grey
 * channel), never copied on the hot path. `data` is the Mat's own buffer view.
 */
export interface Frame {
  readonly cameraId: string;
  /** Monotonic per camera, starting at 1. */
  readonly seq: number;
  /** Wall-clock capture time, ms since the epoch. */
  readonly capturedAt: number;
  readonly width: number;
  readonly height: number;
  /** 3 (BGR) or 1 (grey). */
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
  /** Where it came from: file path, URL, device index or `sim:<n>`. */
  readonly origin: string;
  /** Ground-truth defect mask (0/255, width×height) when a simulator made the frame. */
  readonly truthMask?: Uint8Array;
  /** Ground-truth label when known (simulator, labelled replay). */
  readonly truthLabel?: 'good' | 'defect';
}
