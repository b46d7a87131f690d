//! Memory estimates, checked before big allocations: the memory the machine has available
//! (Linux `/proc/meminfo`), what a run of N points needs (measured), and what the preview map
//! needs.

use std::path::Path;

/// Bytes the kernel reports as available for new allocations (`MemAvailable` in
/// `/proc/meminfo`); `None` where that is not known (not Linux, or unreadable).
pub fn available_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Peak memory of a `build_cells` run over `points` input rows with the shipped boundaries:
/// 330 MB plus 130 bytes a point, fitted to the peaks measured in `docs/performance.md`
/// (144,563 rows 335 MB, 1M 440 MB, 5M 954 MB). Larger boundary files add to it.
pub fn run_bytes(points: u64) -> u64 {
    330 * (1 << 20) + 130 * points
}

/// Memory the preview map holds while drawing and encoding a `width` × `height` image:
/// the RGB canvas, the filtered scanlines and the compressed stream, about 6 bytes a pixel.
pub fn map_bytes(width: usize, height: usize) -> u64 {
    6 * width as u64 * height as u64
}

/// Rows in a points file, read cheaply before the file itself: the Parquet footer, or the
/// line count of a CSV less its header. `None` when it cannot tell.
pub fn points_rows(path: &Path) -> Option<u64> {
    use std::io::Read;
    if path.is_dir() {
        return crate::input::files::dataset_files(path)
            .ok()?
            .iter()
            .map(|f| points_rows(f))
            .sum();
    }
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let mut file = std::fs::File::open(path).ok()?;
        let mut buf = vec![0u8; 1 << 16];
        let mut lines = 0u64;
        loop {
            let n = file.read(&mut buf).ok()?;
            if n == 0 {
                break;
            }
            lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        }
        return Some(lines.saturating_sub(1));
    }
    crate::input::files::parquet_footer(path)
        .ok()
        .map(|(rows, _)| rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_points_are_counted_from_the_footer() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let rows = points_rows(&root.join("data/geonames_cities1000.parquet"));
        assert_eq!(rows, Some(144_563));
        let csv = points_rows(&root.join("data/fixtures/points_bad.csv"));
        assert_eq!(csv, Some(11));
        assert!(run_bytes(5_000_000) > run_bytes(1_000_000));
    }
}
