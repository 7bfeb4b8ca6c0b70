/** Compact, exact-round-trip encodings for model arrays (base64 of raw or deflated bytes). */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export function f32ToBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

export function base64ToF32(s: string): Float32Array {
  const buf = Buffer.from(s, 'base64');
  if (buf.byteLength % 4) throw new Error('float array has a bad length');
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

export function stringsToBase64(strings: string[]): string {
  return deflateRawSync(Buffer.from(strings.join('\n'), 'utf8'), { level: 9 }).toString('base64');
}

export function base64ToStrings(s: string): string[] {
  const text = inflateRawSync(Buffer.from(s, 'base64')).toString('utf8');
  return text ? text.split('\n') : [];
}

/**
 * Quantises feature-major weights (rows of `cols` floats) to int8 with one float32 scale per row
 * (max |w| / 127), and returns the dequantised weights too, so that the in-memory model is
 * exactly the one that import restores.
 */
export function quantizeRows(w: Float32Array, cols: number): { scales: Float32Array; q: Int8Array; dequantized: Float32Array } {
  const rows = cols ? w.length / cols : 0;
  const scales = new Float32Array(rows);
  const q = new Int8Array(w.length);
  const dequantized = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    const off = r * cols;
    for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(w[off + c]!));
    const scale = Math.fround(max / 127);
    scales[r] = scale;
    if (scale === 0) continue;
    for (let c = 0; c < cols; c++) {
      const v = Math.max(-127, Math.min(127, Math.round(w[off + c]! / scale)));
      q[off + c] = v;
      dequantized[off + c] = v * scale;
    }
  }
  return { scales, q, dequantized };
}

export function dequantizeRows(scales: Float32Array, q: Int8Array, cols: number): Float32Array {
  const out = new Float32Array(q.length);
  for (let r = 0; r < scales.length; r++) {
    const scale = scales[r]!;
    const off = r * cols;
    for (let c = 0; c < cols; c++) out[off + c] = q[off + c]! * scale;
  }
  return out;
}

export function int8ToBase64Deflated(q: Int8Array): string {
  return deflateRawSync(Buffer.from(q.buffer, q.byteOffset, q.byteLength), { level: 9 }).toString('base64');
}

export function base64DeflatedToInt8(s: string): Int8Array {
  const buf = inflateRawSync(Buffer.from(s, 'base64'));
  const out = new Int8Array(buf.byteLength);
  new Uint8Array(out.buffer).set(buf);
  return out;
}
