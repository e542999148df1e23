/** A growable int32 buffer, for collecting token ids. */
export class IdBuffer {
  data = new Int32Array(1024);
  length = 0;

  push(id: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = id;
  }

  pushAll(ids: Int32Array): void {
    const n = ids.length;
    if (this.length + n > this.data.length) this.grow(this.length + n);
    // Most pre-tokens are one or two tokens: a loop beats TypedArray.set for those.
    if (n <= 8) {
      for (let i = 0; i < n; i++) this.data[this.length + i] = ids[i] as number;
    } else {
      this.data.set(ids, this.length);
    }
    this.length += n;
  }

  private grow(needed: number): void {
    const next = new Int32Array(Math.max(needed, this.data.length * 2));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}
