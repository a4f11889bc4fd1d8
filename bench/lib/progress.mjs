// A one-line progress bar on stderr: "[#######.....]  58%  580000/1000000  2103/s  ETA 200s".
export function progressBar(label, total) {
  const start = Date.now();
  let lastDraw = 0;
  function draw(done, force = false) {
    const now = Date.now();
    if (!force && now - lastDraw < 250) return;
    lastDraw = now;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const rate = done / Math.max((now - start) / 1000, 0.001);
    const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const pct = String(Math.floor((done / total) * 100)).padStart(3);
    process.stderr.write(`\r${label} [${bar}] ${pct}% ${done}/${total} ${Math.round(rate)}/s ETA ${eta}s   `);
  }
  return {
    update: (done) => draw(done),
    finish: (done) => {
      draw(done, true);
      process.stderr.write('\n');
    },
  };
}
