//! The Markdown report of a sync benchmark (`xmrd-tools sync-bench --report DIR`): the
//! figures, a per-node table, and plots (blocks/s over time and RSS over time, one line
//! per node) as PNG and SVG beside `report.md`.
//!
//! `sync-bench` samples each syncing node into a [`Trace`] (height and RSS over time,
//! e.g. every 200 ms in its measuring loop) and hands the traces to [`write_report`].

use std::path::{Path, PathBuf};

use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::latency_report::{load_font, DEFAULT_FONT};

/// Window of the blocks/s curve.
pub(crate) const RATE_WINDOW_SECONDS: f64 = 2.0;

/// One sample of a syncing node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct TracePoint {
    /// Seconds since the node was started.
    pub(crate) t: f64,
    /// Its chain height.
    pub(crate) height: u64,
    /// Its resident memory (MiB).
    pub(crate) rss_mib: f64,
}

/// A node's sync over time.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Trace {
    /// The node's name in the report (`xmrd`, `monerod`).
    pub(crate) name: String,
    /// Samples, in time order.
    pub(crate) points: Vec<TracePoint>,
}

impl Trace {
    /// An empty trace.
    pub(crate) fn new(name: &str) -> Self {
        Trace {
            name: name.to_string(),
            points: Vec::new(),
        }
    }

    /// Adds a sample of process `pid` at `t` seconds with chain height `height`.
    pub(crate) fn sample(&mut self, pid: u32, t: f64, height: u64) {
        self.points.push(TracePoint {
            t,
            height,
            rss_mib: rss_mib(pid).unwrap_or(0.0),
        });
    }

    /// Blocks per second over consecutive windows: `(window end, rate)`.
    fn rates(&self) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        let Some(mut start) = self.points.first().copied() else {
            return out;
        };
        for p in &self.points {
            let dt = p.t - start.t;
            if dt >= RATE_WINDOW_SECONDS {
                #[allow(clippy::cast_precision_loss)]
                let dh = p.height.saturating_sub(start.height) as f64;
                out.push((p.t, dh / dt));
                start = *p;
            }
        }
        out
    }

    /// Seconds from the first sample to the first one at the final height.
    fn duration(&self) -> f64 {
        let top = self.points.iter().map(|p| p.height).max().unwrap_or(0);
        let end = self
            .points
            .iter()
            .find(|p| p.height >= top)
            .map_or(0.0, |p| p.t);
        end - self.points.first().map_or(0.0, |p| p.t)
    }
}

/// Resident memory of a live process, MiB (`VmRSS`).
pub(crate) fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Writes `DIR/report.md` and its plots; returns the report's path. `summary` is
/// Markdown placed under the title (the benchmark's own figures).
pub(crate) fn write_report(
    dir: &Path,
    title: &str,
    summary: &str,
    traces: &[Trace],
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    load_font(Path::new(DEFAULT_FONT))?;
    let size = (1000, 500);
    let (rate_png, rate_svg) = (
        dir.join("sync-blocks-per-s.png"),
        dir.join("sync-blocks-per-s.svg"),
    );
    let (rss_png, rss_svg) = (dir.join("sync-rss.png"), dir.join("sync-rss.svg"));
    let rates: Vec<(String, Vec<(f64, f64)>)> =
        traces.iter().map(|t| (t.name.clone(), t.rates())).collect();
    let rss: Vec<(String, Vec<(f64, f64)>)> = traces
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                t.points.iter().map(|p| (p.t, p.rss_mib)).collect(),
            )
        })
        .collect();
    let rate_title = format!("blocks/s over time ({RATE_WINDOW_SECONDS} s windows)");
    lines(
        &BitMapBackend::new(&rate_png, size).into_drawing_area(),
        &rate_title,
        "blocks/s",
        &rates,
    )?;
    lines(
        &SVGBackend::new(&rate_svg, size).into_drawing_area(),
        &rate_title,
        "blocks/s",
        &rates,
    )?;
    lines(
        &BitMapBackend::new(&rss_png, size).into_drawing_area(),
        "RSS over time",
        "RSS (MiB)",
        &rss,
    )?;
    lines(
        &SVGBackend::new(&rss_svg, size).into_drawing_area(),
        "RSS over time",
        "RSS (MiB)",
        &rss,
    )?;

    let mut md = format!("# {title}\n\n{summary}\n\n");
    md.push_str(
        "| node | blocks | time to top (s) | average blocks/s | best blocks/s | peak RSS (MiB) |\n",
    );
    md.push_str("|---|---:|---:|---:|---:|---:|\n");
    for t in traces {
        let top = t.points.iter().map(|p| p.height).max().unwrap_or(0);
        let base = t.points.first().map_or(0, |p| p.height);
        let secs = t.duration();
        #[allow(clippy::cast_precision_loss)]
        let avg = if secs > 0.0 {
            top.saturating_sub(base) as f64 / secs
        } else {
            0.0
        };
        let best = t.rates().iter().map(|r| r.1).fold(0.0f64, f64::max);
        let peak = t.points.iter().map(|p| p.rss_mib).fold(0.0f64, f64::max);
        md.push_str(&format!(
            "| {} | {top} | {secs:.1} | {avg:.1} | {best:.1} | {peak:.0} |\n",
            t.name
        ));
    }
    md.push_str(
        "\n![blocks/s over time](sync-blocks-per-s.png)\n\n![RSS over time](sync-rss.png)\n\n",
    );
    md.push_str("SVG versions: [blocks/s](sync-blocks-per-s.svg), [RSS](sync-rss.svg).\n");
    let path = dir.join("report.md");
    std::fs::write(&path, md).with_context(|| format!("write {}", path.display()))?;
    Ok(path)
}

fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("plot: {e:?}")
}

/// One line per node against seconds since its start.
fn lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(plot_err)?;
    let all = series.iter().flat_map(|(_, p)| p.iter());
    let t_end = all.clone().map(|p| p.0).fold(1.0f64, f64::max);
    let y_top = all.map(|p| p.1).fold(1.0f64, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .margin_right(30)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..t_end, 0.0..y_top)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the node started")
        .y_desc(y_desc)
        .draw()
        .map_err(plot_err)?;
    for (i, (name, points)) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(plot_err)?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(plot_err)?;
    area.present().map_err(plot_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A node syncing `blocks` at `rate` blocks/s after a `delay`, sampled every 200 ms,
    /// its RSS growing from `rss0`.
    fn trace(name: &str, blocks: u64, rate: f64, delay: f64, rss0: f64) -> Trace {
        let mut t = Trace::new(name);
        for k in 0..400u32 {
            let s = f64::from(k) * 0.2;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let h = (((s - delay).max(0.0) * rate) as u64).min(blocks);
            t.points.push(TracePoint {
                t: s,
                height: h,
                rss_mib: rss0 + s,
            });
        }
        t
    }

    #[test]
    fn report_has_the_figures_and_valid_plots() {
        let dir = tempfile::tempdir().unwrap();
        let traces = [
            trace("monerod", 700, 20.0, 1.0, 100.0),
            trace("xmrd", 700, 50.0, 0.5, 300.0),
        ];
        let path =
            write_report(dir.path(), "sync-bench: 700 blocks", "wall 1.0 s", &traces).unwrap();
        let md = std::fs::read_to_string(path).unwrap();
        assert!(md.starts_with("# sync-bench: 700 blocks\n\nwall 1.0 s\n"));
        // Columns: blocks, time to top, average, best, peak RSS.
        let row = |n: &str| -> Vec<f64> {
            let l = md
                .lines()
                .find(|l| l.starts_with(&format!("| {n} |")))
                .unwrap();
            l.split('|')
                .skip(2)
                .filter(|c| !c.trim().is_empty())
                .map(|c| c.trim().parse().unwrap())
                .collect()
        };
        let near = |got: f64, want: f64, tol: f64| (got - want).abs() <= tol;
        // monerod: 700 blocks at 20/s from 1 s, at the top at 36 s; RSS 100 + 79.8 MiB.
        let m = row("monerod");
        assert_eq!(m[0], 700.0);
        assert!(
            near(m[1], 36.0, 0.21) && near(m[2], 700.0 / 36.0, 0.2),
            "{md}"
        );
        assert!(near(m[3], 20.0, 0.6) && near(m[4], 180.0, 1.0), "{md}");
        // xmrd: 50/s from 0.5 s, at the top at 14.5 s (next sample 14.6).
        let x = row("xmrd");
        assert!(
            near(x[1], 14.6, 0.21) && near(x[2], 700.0 / 14.6, 0.8),
            "{md}"
        );
        assert!(near(x[3], 50.0, 1.0) && near(x[4], 380.0, 1.0), "{md}");
        for png in ["sync-blocks-per-s.png", "sync-rss.png"] {
            assert!(md.contains(&format!("]({png})")));
            crate::latency_report::check_png(&dir.path().join(png), (1000, 500));
        }
        for svg in ["sync-blocks-per-s.svg", "sync-rss.svg"] {
            let s = std::fs::read_to_string(dir.path().join(svg)).unwrap();
            assert!(s.contains("monerod") && s.contains("xmrd"));
            assert!(s.matches("<polyline").count() >= 2);
        }
    }

    #[test]
    fn rss_is_read_for_a_live_process() {
        let mib = rss_mib(std::process::id()).unwrap();
        assert!(mib > 1.0, "{mib}");
        assert!(rss_mib(u32::MAX).is_none());
        let mut t = Trace::new("me");
        t.sample(std::process::id(), 1.5, 42);
        assert_eq!((t.points[0].t, t.points[0].height), (1.5, 42));
        assert!(t.points[0].rss_mib > 1.0);
    }
}
