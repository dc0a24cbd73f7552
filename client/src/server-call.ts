/** Runs a store call that resolves with the server's refusal (or null); a network failure becomes a message too. */
export async function serverCall(call: () => Promise<string | null>): Promise<string | null> {
  try {
    return await call();
  } catch (err) {
    return `cannot reach the server: ${(err as Error).message}`;
  }
}
