import type { AnalysisReport } from './report.js';

/** Per-frame rows of a report, one per face per frame, for spreadsheets. */
export function reportToCsv(report: AnalysisReport): string {
  const rows = ['frame,pts,track,score,label,x,y,width,height'];
  const all = report.tracks.flatMap((t) => t.perFrame.map((f) => ({ t: t.id, f })));
  all.sort((a, b) => a.f.frame - b.f.frame || a.t - b.t);
  for (const { t, f } of all) {
    rows.push([f.frame, f.pts.toFixed(6), t, f.score.toFixed(6), f.label, f.box.x, f.box.y, f.box.width, f.box.height].join(','));
  }
  return `${rows.join('\n')}\n`;
}
