/** A call on an object that is closed or otherwise in the wrong state for it. */
export class InvalidStateError extends Error {
  override name = 'InvalidStateError';
}

/** Something the input asks for that Deepwatch cannot do (a codec, a URL scheme, a model layout). */
export class UnsupportedError extends Error {
  override name = 'UnsupportedError';
}
