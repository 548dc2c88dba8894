//! `xmrd-tools latency-report`: reads a node snapshot (the file SIGUSR1 writes into the
//! data directory, or `GET /snapshot.json` from `--metrics-bind`), prints per-core
//! latency tables (p50/p90/p99/p99.9/max) and renders plots as PNG and SVG: the latency
//! distribution per core for each metric, and the sync rate over time.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use plotters::coord::Shift;
use plotters::prelude::*;
use xmrd::metrics::{NodeSnapshot, Scope, Series, SyncSample};

/// Where the default font comes from (Debian's fonts-dejavu-core).
pub(crate) const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Quantiles of the tables.
const QUANTILES: [(f64, &str); 4] = [(0.5, "p50"), (0.9, "p90"), (0.99, "p99"), (0.999, "p99.9")];

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// A snapshot file (`latency-snapshot.json` in the data directory after SIGUSR1).
    #[arg(long, conflicts_with = "from", required_unless_present = "from")]
    snapshot: Option<PathBuf>,
    /// A running node's metrics address (`--metrics-bind`): fetch `/snapshot.json`.
    #[arg(long)]
    from: Option<String>,
    /// Folder for the plots (created); no plots without it.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only metrics whose name contains this.
    #[arg(long)]
    metric: Option<String>,
    /// Plot width in pixels.
    #[arg(long, default_value_t = 1000)]
    width: u32,
    /// Plot height in pixels.
    #[arg(long, default_value_t = 600)]
    height: u32,
    /// A TrueType font for the plots' text.
    #[arg(long, default_value = DEFAULT_FONT)]
    font: PathBuf,
}

pub(crate) fn run(a: &Args) -> anyhow::Result<bool> {
    let snap = match (&a.snapshot, &a.from) {
        (Some(path), _) => NodeSnapshot::read(path)?,
        (None, Some(addr)) => fetch(addr)?,
        (None, None) => bail!("give --snapshot FILE or --from HOST:PORT"),
    };
    let filter = a.metric.as_deref().unwrap_or("");
    print!("{}", tables(&snap, filter));
    if let Some(out) = &a.out {
        load_font(&a.font)?;
        let written = render_all(&snap, filter, out, (a.width, a.height))?;
        for p in written {
            println!("wrote {}", p.display());
        }
    }
    Ok(true)
}

/// Fetches `/snapshot.json` from a node's metrics endpoint.
pub(crate) fn fetch(addr: &str) -> anyhow::Result<NodeSnapshot> {
    let mut s = std::net::TcpStream::connect(addr).with_context(|| format!("connect {addr}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "GET /snapshot.json HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let at = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("{addr}: no HTTP response"))?;
    let head = String::from_utf8_lossy(resp.get(..at).unwrap_or_default()).into_owned();
    if !head.starts_with("HTTP/1.1 200") {
        bail!("{addr}: {}", head.lines().next().unwrap_or(""));
    }
    Ok(NodeSnapshot::from_json(
        resp.get(at + 4..).unwrap_or_default(),
        addr,
    )?)
}

/// Registers the font plotters draws text with.
pub(crate) fn load_font(path: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "font {} (install fonts-dejavu-core or pass --font)",
            path.display()
        )
    })?;
    // plotters keeps fonts for the life of the process.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| anyhow!("{}: not a TrueType font", path.display()))
}

fn scope_name(s: &Scope) -> String {
    match s {
        Scope::Shard(i) => format!("shard {i}"),
        Scope::Thread(t) => t.clone(),
    }
}

/// Formats nanoseconds with a unit that keeps three digits.
fn fmt_ns(ns: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let v = ns as f64;
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.1} µs", v / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2} ms", v / 1e6)
    } else {
        format!("{:.2} s", v / 1e9)
    }
}

/// The text tables: one per metric, one row per core (and label).
pub(crate) fn tables(snap: &NodeSnapshot, filter: &str) -> String {
    let mut out = String::new();
    let mut by_metric: BTreeMap<&str, Vec<&Series>> = BTreeMap::new();
    for s in &snap.latency.series {
        if s.metric.contains(filter) {
            by_metric.entry(&s.metric).or_default().push(s);
        }
    }
    out.push_str(&format!(
        "snapshot: height {} (target {}), uptime {:.0} s, RSS {} MiB, store {} MiB\n",
        snap.height,
        snap.target_height,
        snap.uptime_seconds,
        snap.rss_bytes >> 20,
        snap.store_bytes >> 20
    ));
    if let Some(rate) = average_rate(&snap.sync) {
        out.push_str(&format!("sync: {rate:.1} blocks/s on average\n"));
    }
    for (metric, series) in by_metric {
        out.push_str(&format!("\n{metric}\n"));
        out.push_str(&format!(
            "{:<46} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}\n",
            "core / label", "count", "p50", "p90", "p99", "p99.9", "max"
        ));
        for s in series {
            let Some(h) = s.histogram() else { continue };
            let mut who = scope_name(&s.scope);
            for (k, v) in &s.labels {
                who.push_str(&format!(" {k}={v}"));
            }
            let q: Vec<String> = QUANTILES
                .iter()
                .map(|(q, _)| fmt_ns(h.value_at_quantile(*q)))
                .collect();
            out.push_str(&format!(
                "{:<46} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}\n",
                who,
                h.len(),
                q.first().map_or("", String::as_str),
                q.get(1).map_or("", String::as_str),
                q.get(2).map_or("", String::as_str),
                q.get(3).map_or("", String::as_str),
                fmt_ns(h.max())
            ));
        }
    }
    out
}

fn average_rate(sync: &[SyncSample]) -> Option<f64> {
    let (first, last) = (sync.first()?, sync.last()?);
    let dt = last.t - first.t;
    #[allow(clippy::cast_precision_loss)]
    let dh = last.height.saturating_sub(first.height) as f64;
    (dt > 0.0).then(|| dh / dt)
}

/// One line per core: the series of a metric merged over their extra labels.
fn per_core(snap: &NodeSnapshot, metric: &str) -> Vec<(String, hdrhistogram::Histogram<u64>)> {
    let mut merged: BTreeMap<Scope, hdrhistogram::Histogram<u64>> = BTreeMap::new();
    for s in snap.latency.series.iter().filter(|s| s.metric == metric) {
        let Some(h) = s.histogram() else { continue };
        match merged.get_mut(&s.scope) {
            Some(m) => {
                let _ = m.add(&h);
            }
            None => {
                merged.insert(s.scope.clone(), h);
            }
        }
    }
    merged
        .into_iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|(s, h)| (scope_name(&s), h))
        .collect()
}

/// Renders every plot into `out` as PNG and SVG; returns the files written.
pub(crate) fn render_all(
    snap: &NodeSnapshot,
    filter: &str,
    out: &Path,
    size: (u32, u32),
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("create {}", out.display()))?;
    let mut metrics: Vec<&str> = snap
        .latency
        .series
        .iter()
        .map(|s| s.metric.as_str())
        .filter(|m| m.contains(filter))
        .collect();
    metrics.dedup();
    let mut written = Vec::new();
    for metric in metrics {
        let lines = per_core(snap, metric);
        if lines.is_empty() {
            continue;
        }
        let stem = metric.trim_start_matches("xmrd_");
        let png = out.join(format!("{stem}.png"));
        let svg = out.join(format!("{stem}.svg"));
        distribution(
            &BitMapBackend::new(&png, size).into_drawing_area(),
            metric,
            &lines,
        )?;
        distribution(
            &SVGBackend::new(&svg, size).into_drawing_area(),
            metric,
            &lines,
        )?;
        written.extend([png, svg]);
    }
    if snap.sync.len() >= 2 {
        let png = out.join("sync-rate.png");
        let svg = out.join("sync-rate.svg");
        sync_rate(
            &BitMapBackend::new(&png, size).into_drawing_area(),
            &snap.sync,
        )?;
        sync_rate(&SVGBackend::new(&svg, size).into_drawing_area(), &snap.sync)?;
        written.extend([png, svg]);
    }
    Ok(written)
}

fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plot: {e:?}")
}

/// The latency distribution per core: latency (log) against percentile, HdrHistogram
/// style (x = 1 / (1 - q), so 90 %, 99 %, 99.9 % are evenly spaced).
fn distribution<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    metric: &str,
    lines: &[(String, hdrhistogram::Histogram<u64>)],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(plot_err)?;
    const TOP_X: f64 = 1e5; // up to p99.999
    let max_us = lines
        .iter()
        .map(|(_, h)| us(h.max()))
        .fold(1.0f64, f64::max);
    let min_us = lines
        .iter()
        .map(|(_, h)| us(h.min()))
        .fold(f64::MAX, f64::min)
        .clamp(1e-3, max_us);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("{metric}: latency by percentile, per core"),
            ("sans-serif", 22),
        )
        .margin(12)
        .margin_right(40)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (1.0f64..TOP_X).log_scale(),
            (min_us * 0.8..max_us * 1.25).log_scale(),
        )
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (µs)")
        .x_label_formatter(&|x| {
            let q = format!("{:.3}", 100.0 * (1.0 - 1.0 / x));
            format!("{}%", q.trim_end_matches('0').trim_end_matches('.'))
        })
        .y_label_formatter(&|y| format!("{y}"))
        .draw()
        .map_err(plot_err)?;
    for (i, (name, h)) in lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let points: Vec<(f64, f64)> = (0..=200)
            .map(|k| {
                let x = TOP_X.powf(f64::from(k) / 200.0);
                let q = (1.0 - 1.0 / x).clamp(0.0, 1.0);
                (x, us(h.value_at_quantile(q)).max(min_us))
            })
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(plot_err)?
            .label(format!("{name} ({} samples)", h.len()))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(plot_err)?;
    area.present().map_err(plot_err)?;
    Ok(())
}

fn us(ns: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let v = ns as f64;
    v / 1e3
}

/// Window of the sync-rate plot.
const RATE_WINDOW_SECONDS: f64 = 5.0;

/// Blocks per second over time and the height.
fn sync_rate<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sync: &[SyncSample],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(plot_err)?;
    let rates = windowed_rates(sync, RATE_WINDOW_SECONDS);
    let t_end = sync.last().map_or(1.0, |s| s.t).max(1.0);
    let t_start = sync.first().map_or(0.0, |s| s.t).min(t_end - 1.0);
    let top_rate = rates.iter().map(|r| r.1).fold(1.0f64, f64::max) * 1.1;
    #[allow(clippy::cast_precision_loss)]
    let top_height = sync.iter().map(|s| s.height).max().unwrap_or(1).max(1) as f64 * 1.05;
    let mut chart = ChartBuilder::on(area)
        .caption("sync rate over time", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .right_y_label_area_size(70)
        .build_cartesian_2d(t_start..t_end, 0.0..top_rate)
        .map_err(plot_err)?
        .set_secondary_coord(t_start..t_end, 0.0..top_height);
    chart
        .configure_mesh()
        .x_desc("seconds since start")
        .y_desc(format!("blocks/s ({RATE_WINDOW_SECONDS} s windows)"))
        .draw()
        .map_err(plot_err)?;
    chart
        .configure_secondary_axes()
        .y_desc("height")
        .y_label_formatter(&|h| format!("{h:.0}"))
        .draw()
        .map_err(plot_err)?;
    let blue = BLUE.to_rgba();
    let grey = RGBColor(120, 120, 120).to_rgba();
    chart
        .draw_series(LineSeries::new(rates, blue.stroke_width(2)))
        .map_err(plot_err)?
        .label("blocks/s")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue));
    #[allow(clippy::cast_precision_loss)]
    let heights: Vec<(f64, f64)> = sync.iter().map(|s| (s.t, s.height as f64)).collect();
    chart
        .draw_secondary_series(LineSeries::new(heights, grey.stroke_width(1)))
        .map_err(plot_err)?
        .label("height (right axis)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(plot_err)?;
    area.present().map_err(plot_err)?;
    Ok(())
}

/// Blocks per second over consecutive windows of `window` seconds: `(window end, rate)`.
fn windowed_rates(sync: &[SyncSample], window: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let Some(mut start) = sync.first().copied() else {
        return out;
    };
    for s in sync {
        let dt = s.t - start.t;
        if dt >= window {
            #[allow(clippy::cast_precision_loss)]
            let dh = s.height.saturating_sub(start.height) as f64;
            out.push((s.t, dh / dt));
            start = *s;
        }
    }
    out
}

/// Test support: `path` is a PNG of `size` with coloured data on a mostly white ground.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
pub(crate) fn check_png(path: &Path, size: (u32, u32)) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), size, "{}", path.display());
    let px = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    // Non-empty data: many pixels are neither white nor grey/black (the coloured
    // lines), and the image is not one colour.
    let coloured = pixels
        .chunks(px)
        .filter(|p| {
            let (r, g, b) = (p[0], p[1], p[2]);
            r.max(g).max(b) - r.min(g).min(b) > 60
        })
        .count();
    assert!(
        coloured > 300,
        "{}: {coloured} coloured pixels",
        path.display()
    );
    let white = pixels
        .chunks(px)
        .filter(|p| p[..3] == [255, 255, 255])
        .count();
    assert!(white > pixels.len() / px / 2, "mostly white background");
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use xmrd_shards::latency;

    /// A snapshot made by the real recording code: two shard threads and a pool thread,
    /// with known latencies.
    fn recorded_snapshot() -> NodeSnapshot {
        let threads: Vec<_> = (0..2usize)
            .map(|shard| {
                std::thread::spawn(move || {
                    latency::set_scope(Scope::Shard(shard));
                    // Shard 0: 1..=1000 µs; shard 1: ten times slower.
                    let scale = if shard == 0 { 1 } else { 10 };
                    for k in 1..=1000u64 {
                        latency::record_labeled(
                            "report_test_seconds",
                            "command",
                            "TIMED_SYNC",
                            Duration::from_micros(k * scale),
                        );
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let all = latency::snapshot();
        NodeSnapshot {
            height: 2000,
            target_height: 2000,
            uptime_seconds: 60.0,
            sync: (0..=60u32)
                .map(|t| SyncSample {
                    t: f64::from(t),
                    height: u64::from(t) * 30,
                })
                .collect(),
            latency: xmrd::metrics::LatencySnapshot {
                series: all
                    .series
                    .into_iter()
                    .filter(|s| s.metric == "report_test_seconds")
                    .collect(),
            },
            ..Default::default()
        }
    }

    #[test]
    fn report_prints_per_core_quantiles_and_renders_valid_plots() {
        let snap = recorded_snapshot();
        let text = tables(&snap, "");
        let row = |who: &str| {
            text.lines()
                .find(|l| l.starts_with(who))
                .unwrap_or_else(|| panic!("no row {who}:\n{text}"))
                .to_string()
        };
        // Columns after the name: count, then p50 p90 p99 p99.9 max as "value unit".
        let cols = |who: &str| -> (u64, Vec<f64>) {
            let r = row(who);
            let rest: Vec<&str> = r[who.len()..].split_whitespace().collect();
            let count = rest[0].parse().unwrap();
            let ns = rest[1..]
                .chunks(2)
                .map(|c| {
                    let v: f64 = c[0].parse().unwrap();
                    v * match c[1] {
                        "ns" => 1.0,
                        "µs" => 1e3,
                        "ms" => 1e6,
                        "s" => 1e9,
                        u => panic!("unit {u}"),
                    }
                })
                .collect();
            (count, ns)
        };
        let near = |got: f64, want: f64| (got - want).abs() <= want * 0.015;
        for (who, scale) in [
            ("shard 0 command=TIMED_SYNC", 1.0),
            ("shard 1 command=TIMED_SYNC", 10.0),
        ] {
            let (count, q) = cols(who);
            assert_eq!(count, 1000);
            let want = [500e3, 900e3, 990e3, 999e3, 1000e3].map(|v| v * scale);
            assert_eq!(q.len(), want.len());
            for (g, w) in q.iter().zip(want) {
                assert!(near(*g, w), "{who}: {g} vs {w}\n{text}");
            }
        }
        assert!(text.contains("sync: 30.0 blocks/s"), "{text}");

        let dir = tempfile::tempdir().unwrap();
        load_font(Path::new(DEFAULT_FONT)).unwrap();
        let files = render_all(&snap, "", dir.path(), (800, 500)).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "report_test_seconds.png",
                "report_test_seconds.svg",
                "sync-rate.png",
                "sync-rate.svg"
            ]
        );
        check_png(&dir.path().join("report_test_seconds.png"), (800, 500));
        check_png(&dir.path().join("sync-rate.png"), (800, 500));
        let svg = std::fs::read_to_string(dir.path().join("report_test_seconds.svg")).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("shard 0 (1000 samples)") && svg.contains("shard 1"));
        assert!(svg.matches("<polyline").count() >= 2, "one line per core");
    }

    #[test]
    fn rates_are_windowed() {
        let s: Vec<SyncSample> = (0..=30u32)
            .map(|t| SyncSample {
                t: f64::from(t),
                height: if t < 10 { 0 } else { u64::from(t - 10) * 5 },
            })
            .collect();
        let r = windowed_rates(&s, 10.0);
        assert_eq!(r, vec![(10.0, 0.0), (20.0, 5.0), (30.0, 5.0)]);
        assert_eq!(average_rate(&s), Some(100.0 / 30.0));
        assert_eq!(average_rate(&s[..1]), None);
    }
}
