//! SVG plots: latency percentile curves (one line per library), throughput against the
//! number of subscribers, and the records run's throughput and p50 against the record size.

use super::libs::Lib;
use super::reclibs::RecLib;
use super::records;
use super::stats::{LatSeries, TpSeries, CURVE};
use plotters::prelude::*;
use std::path::Path;

const COLORS: [RGBColor; 11] = [
    RGBColor(0, 0, 0),       // limit
    RGBColor(214, 39, 40),   // seqcast
    RGBColor(31, 119, 180),  // tokio
    RGBColor(44, 160, 44),   // crossbeam
    RGBColor(148, 103, 189), // bus
    RGBColor(255, 127, 14),  // disruptor
    RGBColor(140, 86, 75),   // seqcast-newest
    RGBColor(227, 119, 194), // seqcast-gated
    RGBColor(188, 189, 34),  // seqcast-line
    RGBColor(23, 190, 207),  // seqcast-packed
    RGBColor(127, 127, 127), // seqcast-batch-send
];

fn color(lib: Lib) -> RGBColor {
    COLORS[match lib {
        Lib::Limit => 0,
        Lib::Seqcast => 1,
        Lib::Tokio => 2,
        Lib::Crossbeam => 3,
        Lib::Bus => 4,
        Lib::Disruptor => 5,
        Lib::SeqcastNewest => 6,
        Lib::SeqcastGated => 7,
        Lib::SeqcastLine => 8,
        Lib::SeqcastPacked => 9,
        Lib::SeqcastBatchSend => 10,
        Lib::Layout(_) => 0,
    }]
}

/// Writes every plot; returns the file names written.
pub fn all(dir: &Path, lat: &[LatSeries], tp: &[TpSeries]) -> Vec<String> {
    let mut files = Vec::new();
    let mut keys: Vec<(usize, usize)> = lat
        .iter()
        .filter(|s| s.lib != Lib::Limit)
        .map(|s| (s.subs, s.payload))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    for (subs, payload) in keys {
        let name = format!("latency-{subs}sub-{payload}B.svg");
        let series: Vec<&LatSeries> = lat
            .iter()
            .filter(|s| s.subs == subs && (s.payload == payload || s.lib == Lib::Limit))
            .collect();
        match latency_plot(&dir.join(&name), subs, payload, &series) {
            Ok(()) => files.push(name),
            Err(e) => eprintln!("warning: plot {name}: {e}"),
        }
    }
    let mut payloads: Vec<usize> = tp.iter().map(|s| s.payload).collect();
    payloads.sort_unstable();
    payloads.dedup();
    for p in payloads {
        let name = format!("throughput-{p}B.svg");
        let series: Vec<&TpSeries> = tp.iter().filter(|s| s.payload == p).collect();
        match throughput_plot(&dir.join(&name), p, &series) {
            Ok(()) => files.push(name),
            Err(e) => eprintln!("warning: plot {name}: {e}"),
        }
    }
    files
}

type Res = Result<(), Box<dyn std::error::Error>>;

/// x: 1/(1-p) on a log axis, labelled as percentiles; y: one-way latency in ns, log axis.
fn latency_plot(path: &Path, subs: usize, payload: usize, series: &[&LatSeries]) -> Res {
    let x = |p: f64| 1.0 / (1.0 - p / 100.0);
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| CURVE.iter().map(|&p| s.pct(p)))
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min).max(1.0) * 0.8;
    let hi = all.iter().copied().fold(0.0, f64::max).max(lo * 2.0) * 1.25;
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "one-way latency, {subs} subscriber(s), {payload}-byte payload (median of rounds)"
            ),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (1.5f64..2.0e4)
                .log_scale()
                .with_key_points(CURVE.iter().map(|&p| x(p)).collect()),
            (lo..hi).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (ns)")
        .x_label_formatter(&|v| {
            let p = 100.0 * (1.0 - 1.0 / v);
            format!("{}%", (p * 100.0).round() / 100.0)
        })
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    for s in series {
        let c = color(s.lib);
        let pts: Vec<(f64, f64)> = CURVE.iter().map(|&p| (x(p), s.pct(p))).collect();
        let name = if s.lib == Lib::Limit {
            "limit (1 cache line, 8-byte stamp)".to_string()
        } else if s.shared {
            format!("{} (shared cores)", s.lib.name())
        } else {
            s.lib.name().to_string()
        };
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// x: number of subscribers; y: useful throughput (slowest subscriber's delivered msgs/s).
fn throughput_plot(path: &Path, payload: usize, series: &[&TpSeries]) -> Res {
    let max_subs = series.iter().map(|s| s.subs).max().unwrap_or(1);
    let hi = series
        .iter()
        .map(|s| s.useful().max(s.publisher_rate()) / 1e6)
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.15;
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("useful throughput (slowest subscriber), {payload}-byte payload"),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..(max_subs as f64 + 1.0), 0f64..hi)?;
    chart
        .configure_mesh()
        .x_desc("subscribers")
        .y_desc("delivered to the slowest subscriber (M msgs/s)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    let mut libs: Vec<Lib> = series.iter().map(|s| s.lib).collect();
    libs.dedup();
    libs.sort_by_key(|l| l.name());
    libs.dedup();
    for lib in libs {
        let c = color(lib);
        let mut pts: Vec<(f64, f64)> = series
            .iter()
            .filter(|s| s.lib == lib)
            .map(|s| (s.subs as f64, s.useful() / 1e6))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?
            .label(lib.name())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// The records run's rows: one colour each.
fn rec_color(lib: RecLib) -> RGBColor {
    match lib {
        RecLib::SeqcastRecord => COLORS[1],
        RecLib::SeqcastRecordGated => COLORS[7],
        RecLib::SeqcastTyped => COLORS[6],
        RecLib::TokioBytes => COLORS[2],
        RecLib::TokioString => COLORS[9],
        RecLib::AsyncBroadcast => COLORS[3],
        RecLib::SeqcastSerde | RecLib::SeqcastSerdeGated | RecLib::TokioStruct => COLORS[0],
    }
}

/// The records run's plots: useful throughput and p50 latency against the record size.
pub fn records(dir: &Path, r: &records::Results) -> Vec<String> {
    let mut files = Vec::new();
    let tp: Vec<(RecLib, usize, f64)> =
        r.tp.iter()
            .map(|s| (s.lib, s.payload, s.useful() / 1e6))
            .collect();
    let lat: Vec<(RecLib, usize, f64)> = r
        .lat
        .iter()
        .map(|s| (s.lib, s.payload, s.pct(50.0)))
        .collect();
    for (name, caption, y, pts) in [
        (
            "records-throughput.svg",
            "records to 1 subscriber: useful throughput (median of rounds)",
            "delivered (M records/s)",
            &tp,
        ),
        (
            "records-latency.svg",
            "records to 1 subscriber: p50 one-way latency (median of rounds)",
            "p50 latency (ns)",
            &lat,
        ),
    ] {
        if pts.is_empty() {
            continue;
        }
        match size_plot(&dir.join(name), caption, y, pts) {
            Ok(()) => files.push(name.to_string()),
            Err(e) => eprintln!("warning: plot {name}: {e}"),
        }
    }
    files
}

/// x: record size in bytes, log axis; y: `pts`' values, log axis; one line per row.
fn size_plot(path: &Path, caption: &str, y_desc: &str, pts: &[(RecLib, usize, f64)]) -> Res {
    let good = || pts.iter().filter(|p| p.2.is_finite() && p.2 > 0.0);
    let lo = good().map(|p| p.2).fold(f64::INFINITY, f64::min) * 0.7;
    let hi = good().map(|p| p.2).fold(0.0, f64::max).max(lo * 2.0) * 1.4;
    let (x_lo, x_hi) = good().fold((f64::INFINITY, 0.0f64), |(a, b), p| {
        (a.min(p.1 as f64), b.max(p.1 as f64))
    });
    let mut sizes: Vec<usize> = good().map(|p| p.1).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            ((x_lo * 0.7)..(x_hi * 1.4))
                .log_scale()
                .with_key_points(sizes.iter().map(|&s| s as f64).collect()),
            (lo..hi).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("record size (bytes)")
        .y_desc(y_desc)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| {
            if *v >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        })
        .draw()?;
    // One line per row, in the order the rows first appear.
    let mut libs: Vec<RecLib> = Vec::new();
    for p in pts {
        if !libs.contains(&p.0) {
            libs.push(p.0);
        }
    }
    for lib in libs {
        let c = rec_color(lib);
        let mut line: Vec<(f64, f64)> = good()
            .filter(|p| p.0 == lib)
            .map(|p| (p.1 as f64, p.2))
            .collect();
        line.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(line.clone(), c.stroke_width(2)))?
            .label(lib.name())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(line.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
