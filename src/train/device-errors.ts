/**
 * Errors a GPU reports on its own schedule (WebGPU's uncaptured errors, a lost device).
 * The GPU backend records the first; the training loop checks at each read, so a run
 * fails with the device's message instead of training on with garbage.
 */
let first: string | undefined;

export function reportDeviceError(message: string): void {
  first ??= message;
}

export function clearDeviceError(): void {
  first = undefined;
}

export class DeviceError extends Error {}

export function throwIfDeviceFailed(): void {
  if (first !== undefined) throw new DeviceError(first);
}
