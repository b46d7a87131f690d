//! Writing a run: files, the output directory as one unit, review map and QGIS style, targets.
pub mod dir;
pub mod export;
pub mod map;
pub mod qml;
pub mod report;
pub mod targets;
