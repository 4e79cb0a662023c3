/**
 * Sparkplug B birth/death sequence number (bdSeq), persisted so it keeps increasing across
 * daemon restarts. Sparkplug 3.0 §5.x: the NDEATH (the MQTT will) and the NBIRTH of one
 * session carry the same bdSeq, and every new MQTT CONNECT uses the previous value + 1
 * (0…255, wrapping), so a host application can tell a stale NDEATH from the current session's.
 * (The Tahu JavaScript client never increments it.)
 *
 * Written synchronously (temp + fsync + rename) because mqtt.js builds the CONNECT packet in
 * the same tick as its 'reconnect' event: the will must hold the new value by then.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

export class BdSeqStore {
  readonly #file: string;
  #current: number | undefined;

  constructor(file: string) {
    this.#file = file;
  }

  /** The value used by the current (or last) CONNECT; undefined before the first next(). */
  get current(): number | undefined {
    return this.#current;
  }

  /** The bdSeq for a new CONNECT: the stored one + 1 (0 when none is stored); persisted. */
  next(): number {
    const previous = this.#current ?? this.#read();
    const value = previous === undefined ? 0 : (previous + 1) % 256;
    this.#write(value);
    this.#current = value;
    return value;
  }

  #read(): number | undefined {
    try {
      const n = Number(readFileSync(this.#file, 'utf8').trim());
      return Number.isInteger(n) && n >= 0 && n <= 255 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  #write(value: number): void {
    mkdirSync(path.dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.new`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, `${value}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.#file);
  }
}
