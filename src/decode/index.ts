/**
 * Public face of src/decode: read one capture file and hand every TCP packet to
 * a callback. Contract (implemented in the files beside this one):
 *
 *   readCapture(path, onTcp, opts?) -> Promise<CaptureInfo>
 *
 * - onTcp gets the decoder's single reused TcpPacket; it must copy what it keeps.
 * - Reading never throws for bad input: when the file is damaged, reading stops,
 *   `error` is set (a CaptureError naming path and byte offset) and every packet
 *   before the damage has already been delivered. It throws only for bugs.
 */
export { TcpPacket } from './packet.js';
export type { CaptureInfo, ReadOptions } from './capture.js';
export { readCapture } from './capture.js';
export { clockImplausible, mergeClocks, type ClockFacts, type ClockStep } from './clock.js';
