//! The report for a reader: `report.md` ([`report_markdown`]) and the caption of `map.png`
//! ([`map_caption`]), both made from the run's [`Report`] (the contents of `report.json`), so
//! that they always agree with it.

use serde::Serialize;

use crate::output::dir::RUN_ID_KEY;
use crate::output::map::render::{MapColour, MapParams};
use crate::pipeline::report::{OpticsSetting, ParamsSection, QualitySection, Report};

/// `v` as `report.json` writes it (compact): `null` for a missing count, a float as JSON has it.
fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `report.md`: the report's main numbers for a reader: counts, the split per setting, and the
/// partition quality of the semantic cells next to each baseline at about the same number of
/// cells. Made from the [`Report`] that is written as `report.json`, so the two always agree.
pub fn report_markdown(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut md = String::from("# geocells report\n\n");
    if let Some(id) = &report.run_id {
        let _ = writeln!(md, "Run id ({RUN_ID_KEY}): `{id}`\n");
    }
    let c = &report.counts;
    let _ = writeln!(
        md,
        "{} input rows: {} labelled ({} snapped to land), {} rejected. {} admin areas, {} admin cells after the fuse ({} above MAX), **{} cells** ({} below MINSIZE, {} above MAX).\n",
        c.input_rows,
        c.points_labelled,
        json(&c.points_snapped),
        c.rejects,
        json(&c.areas),
        json(&c.admin_cells),
        json(&c.admin_cells_above_max),
        json(&c.cells),
        json(&c.cells_below_min),
        json(&c.cells_above_max)
    );
    if let Some(w) = report.warnings.as_ref().filter(|w| !w.is_empty()) {
        md.push_str("Warnings:\n\n");
        for x in w {
            let _ = writeln!(md, "* {x}");
        }
        md.push('\n');
    }
    let p = &report.params;
    let _ = writeln!(md, "{}\n", settings_sentence(p));
    let guard = match p.fuse_max_km {
        Some(km) => format!(
            "{} island cell(s) kept from a cell of their country more than {km} km away",
            report.fuse.as_ref().map_or(0, |f| f.guard.len())
        ),
        None => {
            "fuse guard off (islands join the nearest cell of their country, as in PIGEON)".into()
        }
    };
    let admin = report.admin.as_ref();
    let _ = writeln!(
        md,
        "Boundaries: {} overlap(s) between areas resolved ({:.3} km²), {} gap(s) inside countries ({:.3} km²); {guard}.\n",
        admin.map_or(0, |a| a.overlaps_resolved.count),
        admin.map_or(0.0, |a| a.overlaps_resolved.km2),
        admin.map_or(0, |a| a.gaps.count),
        admin.map_or(0.0, |a| a.gaps.km2),
    );
    let split = report.split.as_ref().and_then(Option::as_ref);
    if split.is_none() && !p.split {
        md.push_str("Split off: cells above MAX were left as the fuse made them.\n\n");
    }
    if let Some(sp) = split {
        md.push_str("## Split\n\n| OPTICS setting | cells above MAX before | cells split | carves | above MAX after |\n| --- | ---: | ---: | ---: | ---: |\n");
        for s in &sp.settings {
            let _ = writeln!(
                md,
                "| ({}, {}) | {} | {} | {} | {} |",
                s.min_samples,
                json(&s.xi),
                s.above_max_before,
                s.cells_split,
                s.carves,
                s.above_max_after
            );
        }
        if let Some(s) = &sp.semantic {
            let _ = writeln!(
                md,
                "| semantic pass ({}, {}) | {} | {} | {} | {} |",
                s.min_samples,
                json(&s.xi),
                s.above_max_before,
                s.cells_split,
                s.carves_xi + s.carves_valley,
                s.above_max_after
            );
        }
        let fallback = if p.fallback {
            format!("{} carves", sp.fallback_carves)
        } else {
            "off".to_string()
        };
        let _ = writeln!(
            md,
            "\nFallback (straight cuts, then an exact division of the locations): {fallback}; cells above MAX at the end: {}.\n",
            sp.above_max_after
        );
        // The share of carves by rule: density-based first, the geometric fallback last.
        let xi: usize = sp.settings.iter().map(|s| s.carves).sum::<usize>()
            + sp.semantic.as_ref().map_or(0, |s| s.carves_xi);
        let mut rules = vec![("xi clusters", xi)];
        if let Some(s) = &sp.semantic {
            rules.push(("density tree", s.carves_valley));
        }
        rules.push(("geometric fallback", sp.fallback_carves));
        let total: usize = rules.iter().map(|r| r.1).sum();
        if total > 0 {
            let shares: Vec<String> = rules
                .iter()
                .map(|(name, n)| format!("{name} {n} ({:.1} %)", 100.0 * *n as f64 / total as f64))
                .collect();
            let _ = writeln!(md, "Carves by rule: {}.\n", shares.join(", "));
        }
    }
    let mut columns: Vec<(String, Option<&QualitySection>)> =
        vec![("semantic cells".to_string(), report.quality.as_ref())];
    for x in report.baselines.iter().flatten() {
        columns.push((format!("{} ({})", x.name, x.parameter), Some(&x.quality)));
    }
    md.push_str("## Partition quality\n\n| | ");
    md.push_str(
        &columns
            .iter()
            .map(|c| c.0.clone())
            .collect::<Vec<_>>()
            .join(" | "),
    );
    md.push_str(" |\n| --- |");
    md.push_str(&" ---: |".repeat(columns.len()));
    md.push('\n');
    // A number `report.json` writes as `null` (NaN, no points) reads "n/a".
    let num = |v: Option<f64>, digits: usize| {
        v.filter(|x| x.is_finite())
            .map_or_else(|| "n/a".to_string(), |x| format!("{x:.digits$}"))
    };
    type Row<'a> = (&'a str, Box<dyn Fn(Option<&QualitySection>) -> String + 'a>);
    let rows: Vec<Row> = vec![
        (
            "cells",
            Box::new(|q: Option<&QualitySection>| json(&q.map(|q| q.cells))),
        ),
        (
            "Gini of sizes",
            Box::new(move |q: Option<&QualitySection>| num(q.map(|q| q.gini), 3)),
        ),
        (
            "normalised entropy",
            Box::new(move |q: Option<&QualitySection>| num(q.map(|q| q.entropy_normalised), 4)),
        ),
        (
            "effective classes",
            Box::new(move |q: Option<&QualitySection>| num(q.map(|q| q.effective_classes), 0)),
        ),
        (
            "median km to cell centroid",
            Box::new(move |q: Option<&QualitySection>| num(q.map(|q| q.quantization.median_km), 1)),
        ),
        (
            "mean km to cell centroid",
            Box::new(move |q: Option<&QualitySection>| num(q.map(|q| q.quantization.mean_km), 1)),
        ),
        (
            "oracle GeoGuessr score",
            Box::new(move |q: Option<&QualitySection>| num(q.map(|q| q.quantization.geoguessr), 0)),
        ),
    ];
    for (name, f) in &rows {
        let _ = writeln!(
            md,
            "| {name} | {} |",
            columns
                .iter()
                .map(|c| f(c.1))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    for (k, km) in crate::quality::metrics::THRESHOLDS_KM.iter().enumerate() {
        let _ = writeln!(
            md,
            "| oracle accuracy at {km} km | {} |",
            columns
                .iter()
                .map(|c| num(
                    c.1.and_then(|q| q.quantization.accuracy.get(k))
                        .map(|a| a.fraction),
                    4
                ))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    md.push_str("\nOracle: every point predicted as its cell's centroid (the best a classifier over these cells can do).\n");
    if columns.iter().any(|c| c.0.starts_with("H3")) {
        md.push_str("H3 cell counts grow about sevenfold per resolution; the resolution shown is the one whose count of occupied cells is closest to the semantic cells'.\n");
    }
    md
}

/// The fields of the report's `params` overridden after choosing the preset
/// ([`crate::pipeline::run::Params::preset_overrides`]).
fn preset_overrides(p: &ParamsSection) -> Vec<&str> {
    p.preset_overrides.iter().map(String::as_str).collect()
}

/// OPTICS settings from the report's `params.optics` as `(8, 0.05) (10, 0.025)`.
fn optics_settings(v: &[OpticsSetting]) -> String {
    v.iter()
        .map(|s| format!("({}, {})", s.min_samples, json(&s.xi)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The sentence of `report.md` that says which settings ran (from the report's `params`):
/// the preset's, the preset's with some values overridden (each shown with the preset's value),
/// or custom settings (no preset).
fn settings_sentence(p: &ParamsSection) -> String {
    let metric = &p.metric;
    let overrides = preset_overrides(p);
    let Some(name) = p.preset.as_deref() else {
        return format!(
            "Custom settings (no preset): MINSIZE {}, MAX {}, OPTICS settings {}, OPTICS metric {metric}.",
            p.min_size,
            p.max_size,
            optics_settings(&p.optics)
        );
    };
    if overrides.is_empty() {
        return format!(
            "Preset `{name}`: MINSIZE {}, MAX {}, OPTICS metric {metric}.",
            p.min_size, p.max_size
        );
    }
    // The preset's own values, to show next to the ones that replaced them.
    let preset = crate::pipeline::params::Params::preset(name)
        .ok()
        .map(|q| q.report_section());
    let shown = |key: &str, label: &str, value: String, preset_value: Option<String>| match (
        overrides.contains(&key),
        preset_value,
    ) {
        (true, Some(preset_value)) => format!("{label} {value} (preset {preset_value})"),
        _ => format!("{label} {value}"),
    };
    let mut parts = vec![
        shown(
            "min_size",
            "MINSIZE",
            p.min_size.to_string(),
            preset.as_ref().map(|q| q.min_size.to_string()),
        ),
        shown(
            "max_size",
            "MAX",
            p.max_size.to_string(),
            preset.as_ref().map(|q| q.max_size.to_string()),
        ),
    ];
    if overrides.contains(&"optics") {
        parts.push(shown(
            "optics",
            "OPTICS settings",
            optics_settings(&p.optics),
            preset.as_ref().map(|q| optics_settings(&q.optics)),
        ));
    }
    parts.push(format!("OPTICS metric {metric}"));
    let names: Vec<&str> = overrides
        .iter()
        .map(|k| match *k {
            "min_size" => "MINSIZE",
            "max_size" => "MAX",
            "optics" => "the OPTICS settings",
            other => other,
        })
        .collect();
    format!(
        "Preset `{name}` with {} overridden: {}.",
        and_list(&names),
        parts.join(", ")
    )
}

/// The caption of `map.png`: cell and point counts, the settings (preset, which of its values
/// were overridden, or custom) and what the colours mean.
pub(crate) fn map_caption(report: &Report, map: &MapParams) -> Vec<String> {
    let c = &report.counts;
    let p = &report.params;
    let overrides: Vec<&str> = preset_overrides(p)
        .into_iter()
        .map(|k| match k {
            "min_size" => "MIN",
            "max_size" => "MAX",
            "optics" => "OPTICS",
            other => other,
        })
        .collect();
    let settings = match p.preset.as_deref() {
        None => "CUSTOM SETTINGS".to_string(),
        Some(name) if overrides.is_empty() => format!("PRESET {name}"),
        Some(name) => format!("PRESET {name} WITH {} OVERRIDDEN", overrides.join(", ")),
    };
    let mut lines = vec![format!(
        "GEOCELLS {}: {} CELLS, {} POINTS, {settings} (MIN {}, MAX {})",
        env!("CARGO_PKG_VERSION"),
        json(&c.cells),
        c.points_labelled,
        p.min_size,
        p.max_size,
    )];
    lines.push(
        match map.colour {
            MapColour::Cell => "FILL: ONE COLOUR PER CELL (AS IN CELLS.QML). LINES: CELL BORDERS.",
            MapColour::Rule => "FILL: THE RULE THAT MADE THE CELL (LEGEND). LINES: CELL BORDERS.",
        }
        .into(),
    );
    if let Some([x0, y0, x1, y1]) = map.bbox {
        let region = crate::output::map::bbox::MAP_REGIONS
            .iter()
            .find(|(_, b)| *b == [x0, y0, x1, y1])
            .map(|(name, _)| format!(" ({})", name.to_ascii_uppercase()))
            .unwrap_or_default();
        lines.push(format!(
            "BOX{region}: LON {x0} TO {x1}, LAT {y0} TO {y1}. ONLY CELLS IN THE BOX DRAWN."
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::params::Params;
    use crate::pipeline::report::{CountsSection, QualitySection, SplitSection};

    /// A report with `params` and a split that made 3 fallback carves (or none: split off).
    fn report(params: &Params) -> Report {
        Report {
            params: params.report_section(),
            counts: CountsSection {
                cells: Some(7),
                points_labelled: 100,
                ..CountsSection::default()
            },
            split: Some(params.split_enabled.then(|| SplitSection {
                fallback_carves: 3,
                ..SplitSection::default()
            })),
            quality: Some(QualitySection::default()),
            baselines: Some(Vec::new()),
            ..Report::default()
        }
    }

    #[test]
    fn report_md_names_the_preset_only_when_its_values_ran() {
        let md = |p: &Params| report_markdown(&report(p));
        let plain = md(&Params::default());
        assert!(
            plain.contains("\nPreset `pigeon`: MINSIZE 30, MAX 60, OPTICS metric sphere.\n"),
            "{plain}"
        );
        assert!(plain.contains("\nFallback (straight cuts, then an exact division of the locations): 3 carves; cells above MAX"));
        // Overridden sizes: each next to the preset's.
        let sizes = md(&Params::default().min_size(5).max_size(10));
        assert!(
            sizes.contains(
                "\nPreset `pigeon` with MINSIZE and MAX overridden: MINSIZE 5 (preset 30), MAX 10 (preset 60), OPTICS metric sphere.\n"
            ),
            "{sizes}"
        );
        let one = md(&Params::preset("pigeotto").expect("preset").max_size(5000));
        assert!(
            one.contains("Preset `pigeotto` with MAX overridden: MINSIZE 1000, MAX 5000 (preset 2000), OPTICS metric sphere."),
            "{one}"
        );
        let optics = md(&Params::default().optics(vec![(5, 0.1)]));
        assert!(
            optics.contains(
                "Preset `pigeon` with the OPTICS settings overridden: MINSIZE 30, MAX 60, OPTICS settings (5, 0.1) (preset (8, 0.05) (10, 0.025) (15, 0.015)), OPTICS metric sphere."
            ),
            "{optics}"
        );
        // No preset at all.
        let custom = Params {
            preset: None,
            ..Params::default().min_size(5).max_size(10)
        };
        let text = md(&custom);
        assert!(
            text.contains(
                "Custom settings (no preset): MINSIZE 5, MAX 10, OPTICS settings (8, 0.05) (10, 0.025) (15, 0.015), OPTICS metric sphere."
            ),
            "{text}"
        );
        assert!(!text.contains("Preset"));
        // The fallback and the split, when off, say so.
        let no_fallback = md(&Params::default().fallback(false));
        assert!(
            no_fallback
                .contains("\nFallback (straight cuts, then an exact division of the locations): off; cells above MAX at the end: 0.\n"),
            "{no_fallback}"
        );
        let no_split = md(&Params::default().split(false));
        assert!(no_split.contains("Split off:"), "{no_split}");
        assert!(!no_split.contains("Fallback"));
    }

    #[test]
    fn report_md_lists_the_warnings_and_the_run_id() {
        let mut r = report(&Params::default());
        r.run_id = Some("0123456789abcdef".into());
        r.warnings = Some(vec!["a.shp: no .prj file; read as lon/lat".into()]);
        let md = report_markdown(&r);
        assert!(
            md.contains("Run id (geocells:run_id): `0123456789abcdef`"),
            "{md}"
        );
        assert!(
            md.contains("Warnings:\n\n* a.shp: no .prj file; read as lon/lat\n"),
            "{md}"
        );
        r.warnings = Some(Vec::new());
        assert!(!report_markdown(&r).contains("Warnings"));
    }

    #[test]
    fn the_map_caption_names_overrides_too() {
        let caption = |p: &Params| map_caption(&report(p), &MapParams::default())[0].clone();
        assert!(caption(&Params::default()).ends_with("PRESET pigeon (MIN 30, MAX 60)"));
        assert!(
            caption(&Params::default().min_size(5).max_size(10))
                .ends_with("PRESET pigeon WITH MIN, MAX OVERRIDDEN (MIN 5, MAX 10)")
        );
        let custom = Params {
            preset: None,
            ..Params::default()
        };
        assert!(caption(&custom).ends_with("CUSTOM SETTINGS (MIN 30, MAX 60)"));
    }

    #[test]
    fn report_json_keeps_its_keys_sorted_and_reads_back() {
        let r = report(&Params::default().max_size(100));
        let text = serde_json::to_string_pretty(&r).expect("json");
        // Serialized as a sorted map would be: the struct's field order is alphabetical.
        let sorted = serde_json::to_string_pretty(&r.to_value()).expect("json");
        assert_eq!(text, sorted);
        let back: Report = serde_json::from_str(&text).expect("read back");
        assert_eq!(back, r);
    }
}
