//! Chart specifications and their rendering to SVG and PNG with plotters.
//!
//! A chart is data (title, axes, series); [`render`] draws it twice, once per backend, with
//! the same layout. Text in PNGs uses the DejaVu Sans font shipped in `assets/` (registered
//! with plotters' `ab_glyph` font backend), so no system font configuration is needed.

use std::path::Path;
use std::sync::Once;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Pixel size of every chart.
pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 600;

const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("assets/DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES)
            .unwrap_or_else(|_| panic!("the shipped DejaVu Sans font is a valid TTF"));
    });
}

/// A colour-blind-safe palette (Okabe-Ito).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Style {
    Line,
    Dashed,
    /// Points with vertical error bars: each point's third value is the half-width.
    ErrorBars,
}

/// One named series of (x, y) points (and an error half-width for `ErrorBars`).
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub errors: Vec<f64>,
    pub color: RGBColor,
    pub style: Style,
}

impl Series {
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>, color: RGBColor) -> Series {
        Series {
            name: name.into(),
            points,
            errors: Vec::new(),
            color,
            style: Style::Line,
        }
    }
    pub fn dashed(name: impl Into<String>, points: Vec<(f64, f64)>, color: RGBColor) -> Series {
        Series {
            style: Style::Dashed,
            ..Series::line(name, points, color)
        }
    }
}

/// Axis tick formats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ticks {
    /// Plain numbers with thousands separators.
    Number,
    /// A fraction shown as a percentage.
    Percent,
    /// Dollars, abbreviated ($40k, $1.2M).
    Dollars,
    /// The value is log10 of dollars.
    Log10Dollars,
    /// Integer positions name the chart's `categories`; other positions are unlabelled.
    Categories,
}

pub fn format_tick(t: Ticks, v: f64) -> String {
    match t {
        Ticks::Number => thousands(v),
        // Head-room above 100% is for the legend, not for values: no tick there.
        Ticks::Percent if v > 1.0 + 1e-9 => String::new(),
        Ticks::Percent => format!("{:.0}%", v * 100.0),
        Ticks::Dollars => dollars(v),
        Ticks::Log10Dollars => dollars(10f64.powf(v)),
        Ticks::Categories => String::new(),
    }
}

/// An amount of money for a label: thousands separators from $1,000 ("2,923,065"), cents
/// below ("12.50").
pub fn amount(v: f64) -> String {
    if v.abs() >= 1000.0 {
        thousands(v)
    } else {
        format!("{v:.2}")
    }
}

/// 1234567.8 -> "1,234,568"; small numbers keep up to 3 significant decimals.
pub fn thousands(v: f64) -> String {
    if v.abs() < 10.0 && v != 0.0 {
        let s = format!("{v:.3}");
        return s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    let neg = v < 0.0;
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if neg { format!("-{out}") } else { out }
}

/// Dollars abbreviated: $950, $40k, $1.2M.
pub fn dollars(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 1e6 {
        let m = v / 1e6;
        if (m - m.round()).abs() < 1e-9 {
            format!("${m:.0}M")
        } else {
            format!("${m:.1}M")
        }
    } else if a >= 1e3 {
        format!("${:.0}k", v / 1e3)
    } else {
        format!("${v:.0}")
    };
    s.replace("$-", "-$")
}

/// One histogram sample: its name, colour and (bin start, bin end, count) per bin.
pub type Bars = (String, RGBColor, Vec<(f64, f64, f64)>);

/// A chart of lines (time series, step functions, baselines) or a two-sample histogram.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    pub x_ticks: Ticks,
    pub y_ticks: Ticks,
    pub series: Vec<Series>,
    /// Histogram bars: (bin start, bin end, count) per sample, drawn side by side.
    pub bars: Vec<Bars>,
    /// Where the legend goes.
    pub legend_upper_left: bool,
    /// How many x labels plotters should aim for.
    pub x_labels: usize,
    /// Names of x = 0, 1, ... with `Ticks::Categories`.
    pub categories: Vec<String>,
}

impl Chart {
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Chart {
        Chart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            x_ticks: Ticks::Number,
            y_ticks: Ticks::Number,
            series: Vec::new(),
            bars: Vec::new(),
            legend_upper_left: false,
            x_labels: 10,
            categories: Vec::new(),
        }
    }

    /// Leaves the top `share` of the plot free for the legend.
    pub fn legend_room(&mut self, share: f64) {
        let (a, b) = self.y_range;
        self.y_range.1 = b + (b - a) * share / (1.0 - share);
    }

    /// Sets the ranges to cover every series and bar, with a margin on y.
    pub fn fit(&mut self, y_from_zero: bool) {
        let mut xs: Vec<f64> = Vec::new();
        let mut ys: Vec<f64> = Vec::new();
        for s in &self.series {
            for (i, &(x, y)) in s.points.iter().enumerate() {
                let e = s.errors.get(i).copied().unwrap_or(0.0);
                xs.push(x);
                ys.push(y - e);
                ys.push(y + e);
            }
        }
        for (_, _, bins) in &self.bars {
            for &(a, b, c) in bins {
                xs.push(a);
                xs.push(b);
                ys.push(c);
            }
        }
        let finite = |v: &Vec<f64>| -> Option<(f64, f64)> {
            let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            if f.is_empty() {
                return None;
            }
            Some((
                f.iter().copied().fold(f64::INFINITY, f64::min),
                f.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            ))
        };
        if let Some((a, b)) = finite(&xs) {
            self.x_range = if b > a { (a, b) } else { (a - 0.5, a + 0.5) };
        }
        if let Some((mut a, mut b)) = finite(&ys) {
            if y_from_zero {
                a = a.min(0.0);
            }
            let pad = if b > a {
                0.06 * (b - a)
            } else {
                a.abs().max(1.0) * 0.05
            };
            if !(y_from_zero && a == 0.0) {
                a -= pad;
            }
            b += pad;
            self.y_range = (a, b);
        }
    }
}

/// A drawing error for people. plotters' bitmap backend shows its errors only in Rust's debug
/// form (`ImageError(IoError(Os { code: 28, .. }))`): the OS error is taken out of it, so the
/// message names the file and the next step as every other output's does, and no debug text
/// reaches the user.
fn drawing_failure(path: &Path, e: impl std::fmt::Debug) -> anyhow::Error {
    let text = format!("{e:?}");
    match os_error_code(&text) {
        Some(code) => anyhow!(crate::outfile::failure(
            path,
            &std::io::Error::from_raw_os_error(code)
        )),
        None => anyhow!(
            "cannot draw {}: the plotting library failed on this chart; the file under that \
             name was left as it was",
            path.display()
        ),
    }
}

/// The OS error code in an error's debug text (`Os { code: 28, ... }`, or `(os error 28)`
/// when the PNG encoder wrapped the I/O error), if there is one.
fn os_error_code(text: &str) -> Option<i32> {
    ["Os { code: ", "(os error "].iter().find_map(|marker| {
        let rest = text.split(marker).nth(1)?;
        rest.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    })
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    c: &Chart,
    path: &Path,
) -> anyhow::Result<()> {
    let plot_err = |e| drawing_failure(path, e);
    root.fill(&WHITE).map_err(plot_err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&c.title, (FONT, 26))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(95)
        .build_cartesian_2d(c.x_range.0..c.x_range.1, c.y_range.0..c.y_range.1)
        .map_err(plot_err)?;
    let (xt, yt) = (c.x_ticks, c.y_ticks);
    chart
        .configure_mesh()
        .x_desc(&c.x_label)
        .y_desc(&c.y_label)
        .axis_desc_style((FONT, 20))
        .label_style((FONT, 16))
        .x_labels(c.x_labels)
        .y_labels(8)
        .x_label_formatter(&|v| {
            if xt == Ticks::Categories {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 {
                    return c.categories.get(i as usize).cloned().unwrap_or_default();
                }
            }
            format_tick(xt, *v)
        })
        .y_label_formatter(&|v| format_tick(yt, *v))
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(plot_err)?;

    // Histogram bars: one touching sub-bar per sample inside each bin, a gap between bins.
    let k = c.bars.len().max(1) as f64;
    for (j, (name, color, bins)) in c.bars.iter().enumerate() {
        let color = *color;
        let rects = bins.iter().map(move |&(a, b, n)| {
            let w = 0.84 * (b - a) / k;
            let x0 = a + 0.08 * (b - a) + w * j as f64;
            Rectangle::new([(x0, 0.0), (x0 + w, n)], color.filled())
        });
        chart
            .draw_series(rects)
            .map_err(plot_err)?
            .label(name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], color.filled()));
    }

    for s in &c.series {
        let color = s.color;
        let style = color.stroke_width(3);
        match s.style {
            Style::Line => {
                chart
                    .draw_series(LineSeries::new(s.points.iter().copied(), style))
                    .map_err(plot_err)?
                    .label(s.name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3))
                    });
            }
            Style::Dashed => {
                chart
                    .draw_series(DashedLineSeries::new(
                        s.points.iter().copied(),
                        10,
                        6,
                        color.stroke_width(2),
                    ))
                    .map_err(plot_err)?
                    .label(s.name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 8, y)], color.stroke_width(2))
                    });
            }
            Style::ErrorBars => {
                let pts: Vec<(f64, f64, f64)> = s
                    .points
                    .iter()
                    .enumerate()
                    .map(|(i, &(x, y))| (x, y, s.errors.get(i).copied().unwrap_or(0.0)))
                    .collect();
                chart
                    .draw_series(pts.iter().map(|&(x, y, e)| {
                        PathElement::new(vec![(x, y - e), (x, y + e)], color.stroke_width(2))
                    }))
                    .map_err(plot_err)?;
                chart
                    .draw_series(
                        pts.iter()
                            .map(|&(x, y, _)| Circle::new((x, y), 6, color.filled())),
                    )
                    .map_err(plot_err)?
                    .label(s.name.as_str())
                    .legend(move |(x, y)| Circle::new((x + 9, y), 6, color.filled()));
            }
        }
    }
    if c.series.is_empty() && c.bars.is_empty() {
        root.present().map_err(plot_err)?;
        return Ok(());
    }
    chart
        .configure_series_labels()
        .position(if c.legend_upper_left {
            SeriesLabelPosition::UpperLeft
        } else {
            SeriesLabelPosition::UpperRight
        })
        .label_font((FONT, 17))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .draw()
        .map_err(plot_err)?;
    root.present().map_err(plot_err)?;
    Ok(())
}

/// Writes `<dir>/<stem>.svg` and `<dir>/<stem>.png` (each atomically: no half-drawn plot is
/// left under its name).
pub fn render(chart: &Chart, dir: &Path, stem: &str) -> anyhow::Result<()> {
    register_font();
    let mut svg = String::new();
    let svg_path = dir.join(format!("{stem}.svg"));
    draw(
        SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area(),
        chart,
        &svg_path,
    )?;
    crate::outfile::write_bytes(&svg_path, false, svg.as_bytes())?;
    let png = crate::outfile::OutFile::create(&dir.join(format!("{stem}.png")), false)?;
    draw(
        BitMapBackend::new(png.temp_path(), (WIDTH, HEIGHT)).into_drawing_area(),
        chart,
        png.path(),
    )?;
    png.commit()
}

/// Histogram counts of `values` over `edges` (values outside go to the first or last bin).
pub fn histogram(values: &[f64], edges: &[f64]) -> Vec<(f64, f64, f64)> {
    let bins = edges.len().saturating_sub(1);
    let mut counts = vec![0.0; bins];
    if bins == 0 {
        return Vec::new();
    }
    for &v in values {
        let i = edges[1..]
            .iter()
            .position(|&e| v < e)
            .unwrap_or(bins - 1)
            .min(bins - 1);
        counts[i] += 1.0;
    }
    (0..bins)
        .map(|i| (edges[i], edges[i + 1], counts[i]))
        .collect()
}

/// Weekly hours in 5-hour bins over the decision's range, 0 to 100.
pub fn hours_histogram(hours: &[f64]) -> Vec<(f64, f64, f64)> {
    let edges: Vec<f64> = (0..=20).map(|i| f64::from(i) * 5.0).collect();
    histogram(hours, &edges)
}

/// Histograms of pre-tax incomes on one log10 axis, binned alike so they can be drawn together.
pub struct IncomeHistograms {
    /// Each sample's (from, to, workers) bins, in log10 dollars, in the order given.
    pub bins: Vec<Vec<(f64, f64, f64)>>,
    /// The span in whole decades (log10 dollars): `lo` to `hi`, at least one decade.
    pub lo: f64,
    pub hi: f64,
}

/// Quarter-decade bins of log10 income over the whole decades that span every sample (zero
/// incomes fall into the first bin), shared by all samples: the report's first-against-last
/// chart and the viewer's round chart bin the same way.
pub fn income_histograms(samples: &[&[f64]]) -> IncomeHistograms {
    let logs: Vec<Vec<f64>> = samples
        .iter()
        .map(|v| v.iter().map(|y| y.max(1.0).log10()).collect())
        .collect();
    let all = || logs.iter().flatten().copied();
    let lo = all().fold(f64::INFINITY, f64::min).floor().max(0.0);
    let hi = all().fold(f64::NEG_INFINITY, f64::max).ceil().max(lo + 1.0);
    let n_bins = ((hi - lo) * 4.0).round() as usize;
    let edges: Vec<f64> = (0..=n_bins).map(|i| lo + i as f64 * 0.25).collect();
    IncomeHistograms {
        bins: logs.iter().map(|l| histogram(l, &edges)).collect(),
        lo,
        hi,
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_os_error_is_found_in_plotters_debug_text() {
        let png = "BackendError(DrawingError(ImageError(IoError(Custom { kind: Other, error: \
                   \"File too large (os error 27)\" }))))";
        assert_eq!(os_error_code(png), Some(27));
        assert_eq!(
            os_error_code("IOError(Os { code: 28, kind: StorageFull })"),
            Some(28)
        );
        assert_eq!(os_error_code("LayoutError"), None);
    }

    use super::*;

    #[test]
    fn income_bins_span_whole_decades_shared_by_all_samples() {
        // 500 and 2,000 (decades 2-4) and 0 (into the first bin) with 99,000 (4-5): one axis
        // from 10^0 to 10^5, twenty quarter-decade bins for both.
        let h = income_histograms(&[&[500.0, 2_000.0], &[0.0, 99_000.0]]);
        assert_eq!((h.lo, h.hi), (0.0, 5.0));
        let counts = |i: usize| h.bins[i].iter().map(|b| b.2).collect::<Vec<f64>>();
        let mut first = vec![0.0; 20];
        first[10] = 1.0; // log10(500) = 2.70, in [2.5, 2.75)
        first[13] = 1.0; // log10(2000) = 3.30, in [3.25, 3.5)
        let mut last = vec![0.0; 20];
        last[0] = 1.0; // zero income
        last[19] = 1.0; // log10(99000) = 4.996
        assert_eq!((counts(0), counts(1)), (first, last));
        assert_eq!((h.bins[0][10].0, h.bins[1][10].1), (2.5, 2.75));
        // A single income still gets one decade.
        let one = income_histograms(&[&[100.0]]);
        assert_eq!((one.lo, one.hi, one.bins[0].len()), (2.0, 3.0, 4));
    }

    #[test]
    fn tick_formats() {
        assert_eq!(thousands(1234567.8), "1,234,568");
        assert_eq!(amount(2923064939.4), "2,923,064,939");
        assert_eq!(amount(-1500.0), "-1,500");
        assert_eq!(amount(12.5), "12.50");
        assert_eq!(thousands(-23064.0), "-23,064");
        assert_eq!(thousands(0.25), "0.25");
        assert_eq!(dollars(40_000.0), "$40k");
        assert_eq!(dollars(1_200_000.0), "$1.2M");
        assert_eq!(dollars(950.0), "$950");
        assert_eq!(format_tick(Ticks::Percent, 0.35), "35%");
        assert_eq!(format_tick(Ticks::Log10Dollars, 4.0), "$10k");
    }

    #[test]
    fn histogram_counts_every_value_once() {
        let h = histogram(&[0.0, 5.0, 10.0, 99.0, 100.0, 150.0], &[0.0, 50.0, 100.0]);
        assert_eq!(h, vec![(0.0, 50.0, 3.0), (50.0, 100.0, 3.0)]);
    }
}
