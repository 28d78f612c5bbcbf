import { describe, expect, it } from 'vitest';
import { framesByFile, locateIn } from '../../src/detectors/pieces.js';

/**
 * capture_pieces (src/flows/schema.ts): piece k's frame f is capture frame first_frame + f - 1.
 * The shape of a tcpdump -G set (samples/rotated-tcpdump): an empty first file (tcpdump opens it
 * before the first packet), here also an empty last one, and pieces of 2343, 2974, 1183 frames.
 */
const pieces = [
  { name: 'g1-090112.pcap', firstFrame: 1, frames: 0 },
  { name: 'g1-090113.pcap', firstFrame: 1, frames: 2343 },
  { name: 'g1-090114.pcap', firstFrame: 2344, frames: 2974 },
  { name: 'g1-090115.pcap', firstFrame: 5318, frames: 1183 },
  { name: 'g1-090116.pcap', firstFrame: 6501, frames: 0 },
];

describe('frames of a capture point read from several files', () => {
  it('each capture frame in its file, numbered as that file alone', () => {
    expect(locateIn(pieces, 1)).toEqual({ file: 'g1-090113.pcap', frame: 1 });
    expect(locateIn(pieces, 2343)).toEqual({ file: 'g1-090113.pcap', frame: 2343 });
    expect(locateIn(pieces, 2344)).toEqual({ file: 'g1-090114.pcap', frame: 1 });
    expect(locateIn(pieces, 5317)).toEqual({ file: 'g1-090114.pcap', frame: 2974 });
    expect(locateIn(pieces, 6500)).toEqual({ file: 'g1-090115.pcap', frame: 1183 });
    expect(locateIn(pieces, 6501)).toBeNull();
    expect(locateIn(pieces, 0)).toBeNull();
  });
  it('frames grouped by file in capture order, each group in the order given', () => {
    expect(framesByFile(pieces, [5318, 2345, 2344, 3])).toEqual([
      { file: 'g1-090113.pcap', frames: [3] },
      { file: 'g1-090114.pcap', frames: [2, 1] },
      { file: 'g1-090115.pcap', frames: [1] },
    ]);
    expect(framesByFile(pieces, [])).toEqual([]);
  });
});
