/** A byte count for people: 512 B, 4.2 KB, 13 MB, 1.1 GB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** A duration as m:ss (or h:mm:ss). */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !isFinite(ms) || ms < 0) return '0:00';
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Display size of a picture inside a bubble: the exact aspect, within max × max. */
export function fitBox(width: number, height: number, maxW = 320, maxH = 320): { width: number; height: number } {
  if (!(width > 0) || !(height > 0)) return { width: maxW, height: Math.round(maxW * 0.75) };
  const scale = Math.min(1, maxW / width, maxH / height);
  let w = Math.round(width * scale);
  let h = Math.round(height * scale);
  // Very thin pictures keep a usable box (the picture is letterboxed inside).
  if (w < 80) w = 80;
  if (h < 60) h = 60;
  return { width: w, height: h };
}
