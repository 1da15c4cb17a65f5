// A one-line progress bar on stderr; silent when stderr is not a terminal.

export class ProgressBar {
  /** @param {string} label @param {{ enabled?: boolean, stream?: NodeJS.WriteStream }} [options] */
  constructor(label, { enabled = true, stream = process.stderr } = {}) {
    this.label = label;
    this.stream = stream;
    this.enabled = enabled && Boolean(stream.isTTY);
    this.lastDrawn = -1;
  }

  /** @param {number} fraction in [0, 1] @param {string} [stage] */
  update(fraction, stage = '') {
    if (!this.enabled) return;
    const percent = Math.max(0, Math.min(100, Math.floor(fraction * 100)));
    if (percent === this.lastDrawn) return;
    this.lastDrawn = percent;
    const width = 30;
    const filled = Math.round((percent / 100) * width);
    this.stream.write(`\r${this.label.padEnd(22)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${stage.padEnd(12)}`);
  }

  done() {
    if (this.enabled && this.lastDrawn >= 0) this.stream.write('\r\x1b[2K');
    this.lastDrawn = -1;
  }
}
