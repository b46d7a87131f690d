//! The adjacency graph of admin areas, with shared-border lengths, computed once.
//!
//! Two areas are neighbours when they share boundary segments. Every ring segment of every area
//! is keyed by its two endpoints (quantised to 1e-7 degrees, about 1 cm, and put in a canonical
//! order); the keys are sorted and equal keys from different areas are shared border, whose
//! great-circle length is added to the pair. This is exact for boundary sets whose neighbours
//! share vertices (Natural Earth, GADM, TopoJSON-derived sets); areas whose borders were
//! digitised independently and share no vertex are not linked and are handled as islands by the
//! fuse stage.
//!
//! Complexity: `O(s log s)` for `s` segments (one parallel sort), memory `O(s)`.

use rayon::prelude::*;

use crate::geom::geodesy::haversine_km;
use crate::input::area::Area;

/// Area adjacency: for each area, its neighbours and the shared border length in km, sorted by
/// neighbour index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Adjacency {
    /// `neighbours[a]` = `(b, km)` for every area `b` sharing border with `a`.
    pub neighbours: Vec<Vec<(u32, f64)>>,
}

impl Adjacency {
    /// Builds the graph for `areas`.
    pub fn build(areas: &[Area]) -> Self {
        const Q: f64 = 1e7;
        let q = |v: f64| (v * Q).round() as i64;
        let mut keys: Vec<([i64; 4], u32, f64)> = areas
            .par_iter()
            .enumerate()
            .flat_map_iter(|(ai, a)| {
                let mut out = Vec::new();
                for p in &a.geometry.0 {
                    for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                        for w in ring.0.windows(2) {
                            let (s, e) = ((q(w[0].x), q(w[0].y)), (q(w[1].x), q(w[1].y)));
                            if s == e {
                                continue;
                            }
                            let (lo, hi) = if s < e { (s, e) } else { (e, s) };
                            let len = haversine_km((w[0].x, w[0].y), (w[1].x, w[1].y));
                            out.push(([lo.0, lo.1, hi.0, hi.1], ai as u32, len));
                        }
                    }
                }
                out
            })
            .collect();
        keys.par_sort_unstable_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
        let mut pairs: Vec<(u32, u32, f64)> = Vec::new();
        let mut i = 0;
        while i < keys.len() {
            let mut j = i + 1;
            while j < keys.len() && keys[j].0 == keys[i].0 {
                j += 1;
            }
            for x in i..j {
                for y in x + 1..j {
                    let (a, b) = (keys[x].1, keys[y].1);
                    if a != b {
                        pairs.push((a.min(b), a.max(b), keys[x].2));
                    }
                }
            }
            i = j;
        }
        // Sorting by length too fixes the summation order, so sums are bit-identical run to run.
        pairs.par_sort_unstable_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)).then(x.2.total_cmp(&y.2)));
        let mut neighbours: Vec<Vec<(u32, f64)>> = vec![Vec::new(); areas.len()];
        let mut k = 0;
        while k < pairs.len() {
            let (a, b) = (pairs[k].0, pairs[k].1);
            let mut len = 0.0;
            while k < pairs.len() && pairs[k].0 == a && pairs[k].1 == b {
                len += pairs[k].2;
                k += 1;
            }
            neighbours[a as usize].push((b, len));
            neighbours[b as usize].push((a, len));
        }
        for n in &mut neighbours {
            n.sort_by_key(|x| x.0);
        }
        Self { neighbours }
    }

    /// Shared border length between `a` and `b` in km (0 when not neighbours).
    pub fn border_km(&self, a: u32, b: u32) -> f64 {
        self.neighbours[a as usize]
            .binary_search_by_key(&b, |x| x.0)
            .map_or(0.0, |i| self.neighbours[a as usize][i].1)
    }
}
