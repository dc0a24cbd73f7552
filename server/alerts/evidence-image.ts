export type EvidenceMime = 'image/png' | 'image/jpeg';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The evidence image's type from its first bytes, or null when it is neither PNG nor JPEG. */
export function imageMime(image: Uint8Array): EvidenceMime | null {
  if (image.length >= 8 && PNG_SIGNATURE.equals(image.subarray(0, 8))) return 'image/png';
  if (image.length >= 3 && image[0] === 0xff && image[1] === 0xd8 && image[2] === 0xff) return 'image/jpeg';
  return null;
}
