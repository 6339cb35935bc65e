// report.ts -- turn benchmark results into a table, a Markdown report and SVG charts.
//
// No charting library: a grouped bar chart is a few dozen rectangles and
// labels, and SVG is text. The report is a file a README can link and a
// browser (or GitHub) shows with its charts inline.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CellResult, RunResult } from "./fanout.ts";

/* ============================ Formatting ================================== */

function fmtRate(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "-";
}

function fmtMs(x: number): string {
  if (!Number.isFinite(x)) return "-";
  return x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
}

function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}x` : "-";
}

function short(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(+n.toFixed(2));
}

export function modeLabel(r: CellResult): string {
  const mode = r.mode === "flat" ? "flat-out" : `rate ${short(r.offered)}/s`;
  return r.scenario === "fan-out" ? mode : `${mode}, ${r.scenario}`;
}

// What a reader should know about a row beyond its numbers.
function notesOf(r: CellResult): string {
  if (r.error) return `error: ${r.error}`;
  const notes: string[] = [];
  if (r.drops > 0) notes.push(`server dropped ${r.drops} slow clients`);
  else if (r.closed > 0) notes.push(`${r.closed} connections closed`);
  if (r.corrupt > 0) notes.push(`${r.corrupt} markers cut`);
  // The load process near a full core means it may be what limits the
  // numbers, not the server.
  if (r.loadCpu > 0.9) notes.push(`load cpu ${Math.round(r.loadCpu * 100)}%`);
  // Waiting for a core means a neighbour had it: the latency tail of that
  // row measures the machine, not the server.
  if (Math.max(r.serverWait, r.loadWait) > 0.02) notes.push("waited for a core: tail is noise");
  return notes.join("; ");
}

// The row of `baseline` measured in the same run under the same conditions.
function baselineOf(results: CellResult[], r: CellResult, baseline: string) {
  return results.find(
    (b) =>
      b.step === baseline &&
      b.scenario === r.scenario &&
      b.clients === r.clients &&
      b.mode === r.mode &&
      b.offered === r.offered &&
      !b.error,
  );
}

function rows(results: CellResult[], baseline: string): string[][] {
  const header = [
    "step",
    "clients",
    "mode",
    "delivered msg/s",
    "p50 ms",
    "p99 ms",
    "p99.9 ms",
    "max ms",
    "loss",
    `x vs ${baseline}`,
    `p99 x vs ${baseline}`,
    "per srv cpu-s",
    `cpu-s x vs ${baseline}`,
    "cpu srv/load",
    "waited srv/load",
    "notes",
  ];
  const body = results.map((r) => {
    const b = baselineOf(results, r, baseline);
    return [
      r.step,
      String(r.clients),
      modeLabel(r),
      fmtRate(r.delivered),
      fmtMs(r.p50),
      fmtMs(r.p99),
      fmtMs(r.p999),
      fmtMs(r.max),
      Number.isFinite(r.loss) ? String(r.loss) : "-",
      fmtRatio(b ? r.delivered / b.delivered : Number.NaN),
      fmtRatio(b ? r.p99 / b.p99 : Number.NaN),
      fmtRate(perCpu(r)),
      fmtRatio(b ? perCpu(r) / perCpu(b) : Number.NaN),
      `${pct(r.serverCpu)}/${pct(r.loadCpu)}`,
      `${pct(r.serverWait)}/${pct(r.loadWait)}`,
      notesOf(r),
    ];
  });
  return [header, ...body];
}

// Deliveries per second of the server's CPU time. Unlike msg/s it hardly
// moves when a neighbour takes the core away for a while: the capacity
// comparison that still means something on a busy machine.
function perCpu(r: CellResult): number {
  return r.serverCpu > 0 ? r.delivered / r.serverCpu : Number.NaN;
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${Math.round(x * 100)}%` : "?";
}

// A plain-text table for the terminal, numbers right-aligned.
export function formatTable(results: CellResult[], baseline: string): string {
  const table = rows(results, baseline);
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const left = new Set([0, 2, 15]); // step, mode, notes
  const line = (row: string[]) =>
    row
      .map((cell, c) => (left.has(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join("  ")
      .trimEnd();
  return [
    line(table[0]!),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...table.slice(1).map(line),
  ].join("\n");
}

function markdownTable(results: CellResult[], baseline: string): string {
  const [header, ...body] = rows(results, baseline);
  const line = (row: string[]) => `| ${row.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  const align = header!.map((_, c) => ([0, 2, 15].includes(c) ? "---" : "---:"));
  return [line(header!), `| ${align.join(" | ")} |`, ...body.map(line)].join("\n");
}

/* ============================ Targets =====================================
 * The goals from the issues, checked against this run. They are benchmark
 * targets, not tests: a busy machine can miss them, and the report says so
 * instead of failing a build. Every ratio is to a row of the same run.
 * ======================================================================== */

function targets(results: CellResult[]): string[] {
  const find = (step: string, clients: number, mode: "flat" | "rate", offered?: number) =>
    results.find(
      (r) =>
        r.step === step &&
        r.clients === clients &&
        r.mode === mode &&
        r.scenario === "fan-out" &&
        (offered === undefined || r.offered === offered) &&
        !r.error,
    );
  const mark = (ok: boolean) => (ok ? "met" : "**missed**");
  // A target whose rows waited for a core is a coin toss: say so next to it.
  const noisy = (...rs: CellResult[]) => {
    const waited = Math.max(...rs.flatMap((r) => [r.serverWait, r.loadWait]));
    return waited > 0.02 ? `; not meaningful: a process waited for a core ${pct(waited)}` : "";
  };
  const out: string[] = [];
  const s03 = find("03", 100, "flat");
  const s05 = find("05", 100, "flat");
  if (s03 && s05) {
    const ratio = s05.delivered / s03.delivered;
    out.push(
      `- Step 05 delivers >= 1.5x step 03's msg/s at 100 clients flat-out: ${mark(ratio >= 1.5)} (${ratio.toFixed(2)}x)`,
    );
  }
  const clients = [...new Set(results.map((r) => r.clients))].sort((a, b) => a - b);
  const rates = [...new Set(results.filter((r) => r.mode === "rate").map((r) => r.offered))].sort(
    (a, b) => a - b,
  );
  for (const step of ["05", "08"]) {
    for (const n of clients) {
      const redis = find("redis", n, "flat");
      const r = find(step, n, "flat");
      if (redis && r) {
        const ratio = r.delivered / redis.delivered;
        const cpu = perCpu(r) / perCpu(redis);
        out.push(
          `- Step ${step}, ${n} clients, flat-out >= 1.0x redis with zero loss: ${mark(ratio >= 1 && r.loss === 0)} (${ratio.toFixed(2)}x, loss ${r.loss}; per cpu-s ${fmtRatio(cpu)}${noisy(r, redis)})`,
        );
      }
      // The latency targets, at every fixed rate: p99 <= 1.5x and
      // p99.9 <= 3x redis's.
      for (const rate of rates) {
        const redisRate = find("redis", n, "rate", rate);
        const rr = find(step, n, "rate", rate);
        if (!redisRate || !rr) continue;
        const p99 = rr.p99 / redisRate.p99;
        const p999 = rr.p999 / redisRate.p999;
        out.push(
          `- Step ${step}, ${n} clients, at ${short(rate)}/s p99 <= 1.5x and p99.9 <= 3x redis's: ${mark(p99 <= 1.5 && p999 <= 3)} (p99 ${fmtMs(rr.p99)} ms vs ${fmtMs(redisRate.p99)} ms, ${p99.toFixed(2)}x; p99.9 ${fmtMs(rr.p999)} vs ${fmtMs(redisRate.p999)} ms, ${p999.toFixed(2)}x${noisy(rr, redisRate)})`,
        );
      }
    }
  }
  const later = results.filter((r) => r.step !== "redis" && Number(r.step) >= 2);
  const lossy = later.filter((r) => r.error || r.loss !== 0);
  out.push(
    later.length === 0
      ? "- Zero loss for steps >= 02: not measured in this run"
      : `- Zero loss at every client count for steps >= 02: ${mark(lossy.length === 0)}` +
          (lossy.length > 0
            ? ` (${lossy.map((r) => `${r.step}/${r.clients}/${r.mode}: ${r.error ? "error" : r.loss}`).join(", ")})`
            : ""),
  );
  if (out.length === 1) out.unshift("- Nothing to compare with redis in this run");
  return out;
}

/* ============================ SVG charts ================================== */

interface Series {
  name: string;
  values: number[]; // One per group; NaN for "not measured".
}

const COLORS = ["#8c8c8c", "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// A step for the y axis: 1, 2 or 5 times a power of ten, giving about five
// gridlines up to `max`.
function niceStep(max: number): number {
  const raw = max / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

// A grouped bar chart: one group per label (client counts), one bar per
// series (steps) in each group.
export function barChart(title: string, unit: string, groups: string[], series: Series[]): string {
  const W = 760;
  const H = 380;
  const m = { top: 56, right: 20, bottom: 48, left: 78 };
  const plotW = W - m.left - m.right;
  const plotH = H - m.top - m.bottom;
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const max = Math.max(1e-9, ...all);
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const r1 = (v: number) => Math.round(v * 10) / 10; // Short coordinates.
  const y = (v: number) => r1(m.top + plotH - (v / top) * plotH);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  );
  for (let v = 0; v <= top + step / 2; v += step) {
    out.push(
      `<line x1="${m.left}" x2="${W - m.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e0e0e0"/>`,
      `<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end">${short(v)}</text>`,
    );
  }
  out.push(
    `<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(unit)}</text>`,
  );
  const groupW = plotW / Math.max(1, groups.length);
  const barW = r1(Math.min(48, (groupW * 0.8) / Math.max(1, series.length)));
  groups.forEach((g, gi) => {
    const x0 = r1(m.left + gi * groupW + (groupW - barW * series.length) / 2);
    series.forEach((s, si) => {
      const v = s.values[gi] ?? Number.NaN;
      const x = r1(x0 + si * barW);
      if (!Number.isFinite(v)) return;
      out.push(
        `<rect x="${r1(x + 1)}" y="${y(v)}" width="${r1(barW - 2)}" height="${r1(y(0) - y(v))}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${s.name}, ${g}: ${short(v)} ${unit}`)}</title></rect>`,
        `<text x="${r1(x + barW / 2)}" y="${y(v) - 4}" text-anchor="middle" font-size="10">${short(v)}</text>`,
      );
    });
    out.push(
      `<text x="${r1(m.left + gi * groupW + groupW / 2)}" y="${H - m.bottom + 18}" text-anchor="middle">${esc(g)}</text>`,
    );
  });
  out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  // Legend, across the top.
  series.forEach((s, si) => {
    const x = m.left + si * 120;
    out.push(
      `<rect x="${x}" y="32" width="12" height="12" fill="${COLORS[si % COLORS.length]}"/>`,
      `<text x="${x + 16}" y="42">${esc(s.name)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

// One chart of `metric` for the main scenario in `mode`: groups are client
// counts, bars are steps.
function chartOf(
  results: CellResult[],
  mode: "flat" | "rate",
  metric: (r: CellResult) => number,
  title: string,
  unit: string,
  offered?: number,
): string | null {
  const rs = results.filter(
    (r) =>
      r.mode === mode &&
      r.scenario === "fan-out" &&
      !r.error &&
      (offered === undefined || r.offered === offered),
  );
  if (rs.length === 0) return null;
  const clients = [...new Set(rs.map((r) => r.clients))].sort((a, b) => a - b);
  // Redis first: the anchor bar of each group.
  const steps = [...new Set(rs.map((r) => r.step))].sort((a, b) =>
    a === "redis" ? -1 : b === "redis" ? 1 : a.localeCompare(b),
  );
  const series = steps.map((step) => ({
    name: step === "redis" ? "redis pub/sub" : `step ${step}`,
    values: clients.map((c) => {
      const r = rs.find((x) => x.step === step && x.clients === c);
      return r ? metric(r) : Number.NaN;
    }),
  }));
  return barChart(
    title,
    unit,
    clients.map((c) => `${c} clients`),
    series,
  );
}

/* ============================ The report ================================== */

// Write report.md, fanout.svg (delivered msg/s, flat-out) and fanout-p99.svg
// (p99 latency at the fixed rate) into run.opts.out.
export function writeReport(run: RunResult): { report: string; charts: string[] } {
  const { results, opts } = run;
  fs.mkdirSync(opts.out, { recursive: true });
  const charts: string[] = [];
  const chartMd: string[] = [];
  const flat = chartOf(
    results,
    "flat",
    (r) => r.delivered,
    "Delivered messages/s, flat-out (higher is better)",
    "deliveries/s",
  );
  if (flat) {
    fs.writeFileSync(path.join(opts.out, "fanout.svg"), flat);
    charts.push(path.join(opts.out, "fanout.svg"));
    chartMd.push("![Delivered messages/s per step, flat-out](fanout.svg)");
  }
  // The p99 chart at the highest fixed rate: where the tail shows.
  const rate = Math.max(...opts.rates);
  const p99 = chartOf(
    results,
    "rate",
    (r) => r.p99,
    `p99 latency at ${short(rate)} deliveries/s (lower is better)`,
    "ms",
    rate,
  );
  if (p99) {
    fs.writeFileSync(path.join(opts.out, "fanout-p99.svg"), p99);
    charts.push(path.join(opts.out, "fanout-p99.svg"));
    chartMd.push("![p99 latency per step at a fixed rate](fanout-p99.svg)");
  }
  const cpu = os.cpus();
  const md = [
    "# Fan-out benchmark",
    "",
    `Run ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${cpu.length} x ${cpu[0]?.model ?? "?"}, Node ${process.version}, ${os.platform()}, load average ${run.loadAverage.toFixed(1)} at the start; ${run.seconds.toFixed(0)} s in all.`,
    `Generated by \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}\` (test/bench/fanout.ts); rerun it to refresh this file.`,
    "",
    "Each cell: a fresh server for the step, N clients on loopback, " +
      `${opts.warmup} s of warm-up, then ${opts.seconds} s measured` +
      (opts.repeat > 1 ? `, ${opts.repeat} times (medians shown)` : "") +
      `. Flat-out keeps ${opts.window.toLocaleString("en-US")} deliveries in flight over all clients` +
      " (that is, about window/(N-1) lines, each freed slot going to the next client in turn)." +
      ` Fixed rate offers ${opts.rates.map((r) => r.toLocaleString("en-US")).join(" and ")} deliveries/s in all` +
      " (the clients together send rate/(N-1) lines/s): the same work for the server at every client count." +
      " Clients run in one C process (test/bench/loadgen.c, one epoll loop), separate from the server" +
      (opts.pin ? " (server pinned to core 0, load to core 1)" : "") +
      (opts.rt
        ? "; in fixed-rate cells the server's main thread and the load run at real-time priority (SCHED_FIFO), so other work on the machine cannot take their core in the middle of a message."
        : ".") +
      " Each server starts with the node flags of its step's `npm start` script." +
      " The redis rows are a private redis-server 7 doing the same with pub/sub: each client is a" +
      " SUBSCRIBEd connection and a PUBLISHing one, the same marker lines as payload, the same" +
      " deliveries/s (a line to N subscribers is N deliveries there, since the sender's own" +
      " subscriber hears it too, and rates and windows count deliveries).",
    "",
    ...chartMd.flatMap((c) => [c, ""]),
    "## Results",
    "",
    markdownTable(results, opts.baseline),
    "",
    "- **delivered msg/s**: copies received per second by all clients together (one line to 100",
    "  clients is 99 deliveries), median of half-second slices of the measured window.",
    "- **p50/p99/p99.9/max**: from the send time written in each message to its receipt",
    "  (histogram buckets: within 1.6%).",
    "- **loss**: deliveries expected (lines sent in the window x recipients) minus deliveries",
    "  received, counted after a drain. Receivers count markers in the byte stream, not lines,",
    "  so step 01's merged and split lines are still counted right.",
    `- **x vs ${opts.baseline}**: delivered msg/s (and p99) over step ${opts.baseline}'s in the same run, same cell.`,
    "- **cpu srv/load**: share of one core used by the server and by the busiest load process",
    "  during the measured window. The server near 100% and the load below it means the server",
    "  is the bottleneck, as it should be.",
    "- **per srv cpu-s**: deliveries per second of server CPU time (msg/s over the server's cpu).",
    "  A neighbour that takes the core away lowers msg/s but hardly this, so its ratio",
    `  (**cpu-s x vs ${opts.baseline}**) is the capacity comparison that survives a busy machine.`,
    "- **waited srv/load**: share of the window the main thread of the server (and of the load)",
    "  was ready to run while another process held its core (`/proc/<pid>/task/<pid>/schedstat`).",
    "  A neighbour's time slice is 3-4 ms: above a few percent, p99 and beyond measure the",
    "  machine, not the server.",
    "- **Earlier reports** (before 2026-12-07) were measured with a Node load process",
    "  (load.ts), whose own event loop, timers and GC added milliseconds: their fixed-rate",
    "  p99/p99.9/max columns are the generator's (redis-server's p99 at 100k/s and 10 clients",
    "  read 3.76 ms there; a native client measures 0.2-0.4 ms), and so are their flat-out",
    "  redis rows (the load, not redis-server, used a whole core). This load is loadgen.c;",
    "  its redis p99 agrees with an independent C client within 0.1 ms (README.md,",
    "  `test/bench/precision.ts`).",
    "- Step 01 takes each read as one line, so under load it relays many of our lines as one",
    "  message with one write per recipient: its msg/s is high because it is wrong (the lines",
    "  arrive merged behind one nick). The markers still count every line.",
    "",
    "## Targets",
    "",
    ...targets(results),
    "",
    ...(run.notes.length > 0 ? ["## Notes", "", ...run.notes.map((n) => `- ${n}`), ""] : []),
  ].join("\n");
  const report = path.join(opts.out, "report.md");
  fs.writeFileSync(report, md);
  return { report, charts };
}
