//! The colours the PNG preview ([`crate::output::map`]) and the QGIS style
//! ([`crate::output::qml`]) share: one light colour per cell id and the border colour.
//! Colours come from the cell id through SplitMix64, so the same cells always give the same
//! picture.

/// The colour of the cells' borders (dark grey).
pub const BORDER: [u8; 3] = [60, 60, 60];

/// A light colour for cell `id` (deterministic).
pub(crate) fn colour_of(id: u32) -> [u8; 3] {
    let mut rng = crate::synth::SplitMix64::new(u64::from(id) ^ 0x9e37_79b9);
    let mut c = [0u8; 3];
    for v in &mut c {
        *v = 90 + (rng.next_u64() % 150) as u8;
    }
    c
}
