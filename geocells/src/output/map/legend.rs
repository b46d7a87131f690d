//! Colouring by rule (`MapColour::Rule`): which rule made each cell ([`Rule::of`]), its colour
//! ([`rule_colour`]: one hue per rule, the lightness varied a little per cell so neighbours of
//! the same rule stay apart), and the legend box naming each rule with the cells drawn.

use crate::output::map::canvas::Canvas;
use crate::partition::cells::CellOrigin;

/// The rules that make cells, as the rule map shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Rule {
    /// An admin cell, or what remains of one after carves (`admin`).
    Admin,
    /// Carved as an OPTICS xi cluster, any setting (`optics:N`).
    Optics,
    /// Carved as a cluster higher in the xi hierarchy (`hierarchy:N`).
    Hierarchy,
    /// Carved along a density valley of the reachability plot (`valley:N`).
    Valley,
    /// Carved by the geometric fallback: a straight cut or an exact division (`bisect`).
    Fallback,
}

impl Rule {
    /// Every rule, in the legend's order.
    pub(crate) const ALL: [Rule; 5] = [
        Rule::Admin,
        Rule::Optics,
        Rule::Hierarchy,
        Rule::Valley,
        Rule::Fallback,
    ];

    /// The rule behind an origin.
    pub(crate) fn of(origin: CellOrigin) -> Rule {
        match origin {
            CellOrigin::Admin => Rule::Admin,
            CellOrigin::Optics(_) => Rule::Optics,
            CellOrigin::Hierarchy(_) => Rule::Hierarchy,
            CellOrigin::Valley(_) => Rule::Valley,
            CellOrigin::Bisect => Rule::Fallback,
        }
    }

    /// The legend's label (in the map font's characters).
    pub(crate) fn label(self) -> &'static str {
        match self {
            Rule::Admin => "ADMIN CELL",
            Rule::Optics => "OPTICS XI CLUSTER",
            Rule::Hierarchy => "XI HIERARCHY CLUSTER",
            Rule::Valley => "DENSITY VALLEY",
            Rule::Fallback => "GEOMETRIC FALLBACK",
        }
    }

    /// The rule's colour in the legend; cells get it a little darker or not at all
    /// ([`rule_colour`]).
    pub(crate) fn colour(self) -> [u8; 3] {
        match self {
            Rule::Admin => [226, 218, 188],
            Rule::Optics => [128, 196, 110],
            Rule::Hierarchy => [172, 136, 214],
            Rule::Valley => [246, 176, 76],
            Rule::Fallback => [228, 98, 90],
        }
    }
}

/// The colour of cell `id` made by `origin`: its rule's colour ([`Rule::colour`]) scaled by
/// 0.84 to 1 from the cell id (deterministic), so that neighbouring cells of one rule differ.
pub(crate) fn rule_colour(id: u32, origin: CellOrigin) -> [u8; 3] {
    let mut rng = crate::synth::SplitMix64::new(u64::from(id) ^ 0x5bd1_e995);
    let f = 0.84 + 0.16 * (rng.next_u64() % 1000) as f64 / 999.0;
    Rule::of(origin)
        .colour()
        .map(|v| (f64::from(v) * f).round() as u8)
}

/// The legend's lines: a title, then each rule with the number of cells drawn.
pub(crate) fn legend_lines(counts: &[usize; 5]) -> Vec<(Option<[u8; 3]>, String)> {
    let mut lines = vec![(None, "CELLS BY THE RULE THAT MADE THEM".to_string())];
    for (rule, n) in Rule::ALL.iter().zip(counts) {
        lines.push((Some(rule.colour()), format!("{}: {n}", rule.label())));
    }
    lines
}

/// The size in pixels of the legend box of `lines`, at `scale` pixels per font pixel with
/// `pad` pixels of padding.
pub(crate) fn legend_size(
    lines: &[(Option<[u8; 3]>, String)],
    scale: usize,
    pad: usize,
) -> (usize, usize) {
    let longest = lines
        .iter()
        .map(|(swatch, l)| l.chars().count() + if swatch.is_some() { 3 } else { 0 })
        .max()
        .unwrap_or(0);
    (
        longest * 6 * scale + 2 * pad,
        lines.len() * 10 * scale + 2 * pad,
    )
}

/// Draws the legend box with its top-left corner at (x, y).
pub(crate) fn draw_legend(
    canvas: &mut Canvas,
    (x, y): (usize, usize),
    lines: &[(Option<[u8; 3]>, String)],
    scale: usize,
    pad: usize,
) {
    let (bw, bh) = legend_size(lines, scale, pad);
    canvas.rect(x, y, bw, bh, [255, 255, 255], 0.85);
    for (i, (swatch, line)) in lines.iter().enumerate() {
        let ly = y + pad + i * 10 * scale;
        let tx = match swatch {
            Some(c) => {
                canvas.rect(x + pad, ly, 12 * scale, 7 * scale, [60, 60, 60], 1.0);
                canvas.rect(x + pad + scale, ly + scale, 10 * scale, 5 * scale, *c, 1.0);
                x + pad + 18 * scale
            }
            None => x + pad,
        };
        canvas.text(tx, ly, line, scale, [20, 20, 20]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_origin_has_a_rule_and_rules_have_distinct_colours() {
        for (origin, rule) in [
            (CellOrigin::Admin, Rule::Admin),
            (CellOrigin::Optics(0), Rule::Optics),
            (CellOrigin::Optics(2), Rule::Optics),
            (CellOrigin::Hierarchy(1), Rule::Hierarchy),
            (CellOrigin::Valley(0), Rule::Valley),
            (CellOrigin::Bisect, Rule::Fallback),
        ] {
            assert_eq!(Rule::of(origin), rule);
        }
        let colours: std::collections::BTreeSet<[u8; 3]> =
            Rule::ALL.iter().map(|r| r.colour()).collect();
        assert_eq!(colours.len(), 5);
        // Cells of one rule: the rule's colour, at most 16 % darker.
        for id in 0..200 {
            let c = rule_colour(id, CellOrigin::Bisect);
            let base = Rule::Fallback.colour();
            for k in 0..3 {
                assert!(c[k] <= base[k] && f64::from(c[k]) >= f64::from(base[k]) * 0.84 - 0.5);
            }
        }
        assert_ne!(
            rule_colour(1, CellOrigin::Admin),
            rule_colour(2, CellOrigin::Admin)
        );
    }
}
